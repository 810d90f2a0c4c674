#include "engine/profile/peaks.h"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "engine/core/backend.h"

namespace clipt::profile {

double Peaks::flops_for(const std::string& op, DType dtype) const {
  if (op == "gemm") return dtype == DType::F16 || dtype == DType::BF16 ? gemm_f16 : gemm_f32;
  return vector_f32;
}

namespace {

struct KnownPart {
  const char* match;  // substring of the device name
  const char* label;
  double gemm_f16_tflops, gemm_f32_tflops, vector_f32_tflops, bandwidth_tbs;
};

// Dense (no sparsity) figures from NVIDIA's data sheets. f32 GEMMs run on the FP32 units (TF32 is off by
// default in clipt, so its tensor-core rate is not the roof for them).
constexpr KnownPart kParts[] = {
    {"H200", "H200 SXM", 989.4, 66.9, 66.9, 4.8},
    {"H100 PCIe", "H100 PCIe", 756.0, 51.2, 51.2, 2.0},
    {"H100 NVL", "H100 NVL", 835.0, 60.0, 60.0, 3.9},
    {"H100", "H100 SXM", 989.4, 66.9, 66.9, 3.35},
    {"A100-SXM4-80GB", "A100 SXM 80GB", 312.0, 19.5, 19.5, 2.039},
    {"A100 80GB PCIe", "A100 PCIe 80GB", 312.0, 19.5, 19.5, 1.935},
    {"A100", "A100 40GB", 312.0, 19.5, 19.5, 1.555},
};

}  // namespace

bool known_gpu_peaks(const std::string& name, Peaks& out) {
  for (const KnownPart& p : kParts) {
    if (name.find(p.match) == std::string::npos) continue;
    out.device_name = name;
    out.source = fmt::format("table: {}", p.label);
    out.gemm_f16 = p.gemm_f16_tflops * 1e12;
    out.gemm_f32 = p.gemm_f32_tflops * 1e12;
    out.vector_f32 = p.vector_f32_tflops * 1e12;
    out.bandwidth = p.bandwidth_tbs * 1e12;
    return true;
  }
  return false;
}

// FP32 lanes per SM: 64 on sm_80 (A100), 128 on sm_86/89/90; dense f16 tensor-core FMAs per SM per clock:
// 1024 up to sm_89, 2048 on Hopper. Memory is double data rate: 2 · clock · bus width.
Peaks computed_gpu_peaks(const std::string& name, int sm_count, int compute_major, double clock_mhz,
                         double memory_clock_mhz, int bus_width_bits) {
  Peaks p;
  p.device_name = name;
  const double lanes = compute_major == 8 && name.find("A100") != std::string::npos ? 64 : 128;
  const double tensor_fma = compute_major >= 9 ? 2048 : 1024;
  p.vector_f32 = double(sm_count) * lanes * 2.0 * clock_mhz * 1e6;
  p.gemm_f32 = p.vector_f32;
  p.gemm_f16 = double(sm_count) * tensor_fma * 2.0 * clock_mhz * 1e6;
  p.bandwidth = 2.0 * memory_clock_mhz * 1e6 * double(bus_width_bits) / 8.0;
  p.source = fmt::format("computed: {} SMs at {:.0f} MHz, {}-bit memory at {:.0f} MHz", sm_count, clock_mhz,
                         bus_width_bits, memory_clock_mhz);
  return p;
}

Peaks measure_cpu_peaks() {
  Backend& be = cpu_backend();
  using clock = std::chrono::steady_clock;
  auto best_seconds = [](int reps, auto&& body) {
    double best = 1e30;
    for (int r = 0; r < reps; ++r) {
      const auto t0 = clock::now();
      body();
      best = std::min(best, std::chrono::duration<double>(clock::now() - t0).count());
    }
    return best;
  };
  // GEMM: 768² × 768 in f32 (0.9 GFLOP), large enough for the BLAS to reach its stride.
  const int64_t n = 768;
  Tensor a = Tensor::full({n, n}, 0.5, DType::F32), b = Tensor::full({n, n}, 0.25, DType::F32);
  Tensor c = Tensor::empty({n, n}, DType::F32);
  GemmArgs g;
  g.a = &a;
  g.b = &b;
  g.c = &c;
  g.m = g.n = g.k = n;
  g.lda = g.ldb = g.ldc = n;
  be.gemm(g);  // warm-up (thread pool, packing buffers)
  const double gemm_s = best_seconds(3, [&] { be.gemm(g); });
  // Copy: 64 MiB each way, past every cache.
  const int64_t elems = int64_t(16) << 20;
  Tensor src = Tensor::full({elems}, 1.0, DType::F32), dst = Tensor::empty({elems}, DType::F32);
  be.copy(src, dst);
  const double copy_s = best_seconds(3, [&] { be.copy(src, dst); });
  Peaks p;
  p.device_name = fmt::format("CPU ({} hardware threads)", std::thread::hardware_concurrency());
  p.gemm_f32 = 2.0 * double(n) * double(n) * double(n) / gemm_s;
  p.gemm_f16 = p.gemm_f32;  // 16-bit floats are computed in f32 on the CPU
  p.vector_f32 = p.gemm_f32;
  p.bandwidth = 2.0 * double(elems) * 4.0 / copy_s;
  p.source = "measured: best of 3 f32 GEMMs 768³ and 64 MiB copies with the CPU backend";
  return p;
}

Peaks device_peaks(Device device) { return device.is_cpu() ? measure_cpu_peaks() : cuda_device_peaks(device.index); }

}  // namespace clipt::profile
