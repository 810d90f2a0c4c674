// Memory-bound kernels in GB/s against the device's measured copy bandwidth (cudaMemcpyAsync device to
// device of 256 MiB: bytes read + written per second). Each kernel runs on tensors of at least 16 MB and is
// credited with the bytes it must move (inputs read once, outputs written once):
//   layer_norm (f16/f32, C = 768, with w and b), softmax (attention scores [32·12·197, 197] f16 and a
//   [4096, 4096] f32 block), add (f16/f32), quick_gelu (f16), cast f32 → f16.
// One JSON object per line: name, dtype, shape, figure (GB/s), reference (copy GB/s), ratio, device.
// Without a GPU it prints one line saying it was skipped and exits 0.
#include <cstdio>
#include <functional>
#include <string>

#include "engine/core/backend.h"
#include "engine/ops/random.h"

#ifdef CLIPT_WITH_CUDA
#include <cuda_runtime_api.h>

#include "engine/runtime/context.h"
#include "engine/runtime/cuda_check.h"
#endif

namespace clipt {
namespace {

#ifdef CLIPT_WITH_CUDA

double time_ms(cudaStream_t s, int warmup, int iters, const std::function<void()>& f) {
  for (int i = 0; i < warmup; ++i) f();
  cudaEvent_t a, b;
  CLIPT_CUDA_CHECK(cudaEventCreate(&a));
  CLIPT_CUDA_CHECK(cudaEventCreate(&b));
  CLIPT_CUDA_CHECK(cudaEventRecord(a, s));
  for (int i = 0; i < iters; ++i) f();
  CLIPT_CUDA_CHECK(cudaEventRecord(b, s));
  CLIPT_CUDA_CHECK(cudaEventSynchronize(b));
  float ms = 0;
  CLIPT_CUDA_CHECK(cudaEventElapsedTime(&ms, a, b));
  cudaEventDestroy(a);
  cudaEventDestroy(b);
  return double(ms) / iters;
}

int run() {
  const Device dev = Device::cuda(0);
  const std::string gpu = cuda::context(0).name;
  const cudaStream_t s = cuda::current_stream(0);
  Backend& be = cuda_backend();
  Generator gen(2);

  // Reference: device-to-device copy bandwidth.
  const int64_t copy_bytes = int64_t(256) << 20;
  Tensor src = Tensor::zeros({copy_bytes}, DType::U8, dev), dst = Tensor::empty({copy_bytes}, DType::U8, dev);
  const double copy_ms = time_ms(s, 3, 20, [&] {
    CLIPT_CUDA_CHECK(cudaMemcpyAsync(dst.data_ptr(), src.data_ptr(), size_t(copy_bytes), cudaMemcpyDeviceToDevice, s));
  });
  const double copy_gbs = 2.0 * double(copy_bytes) / (copy_ms * 1e-3) / 1e9;
  std::printf(
      "{\"bench\": \"memory_bound\", \"name\": \"memcpy_d2d\", \"bytes\": %lld, \"figure\": %.1f, \"unit\": "
      "\"GB/s\", \"reference\": %.1f, \"ratio\": 1.0, \"device\": \"%s\"}\n",
      (long long)copy_bytes, copy_gbs, copy_gbs, gpu.c_str());

  auto report = [&](const std::string& name, DType dt, const Shape& shape, double bytes,
                    const std::function<void()>& f) {
    const double ms = time_ms(s, 3, 20, f);
    const double gbs = bytes / (ms * 1e-3) / 1e9;
    std::printf(
        "{\"bench\": \"memory_bound\", \"name\": \"%s\", \"dtype\": \"%s\", \"shape\": \"%s\", \"bytes\": "
        "%.0f, \"figure\": %.1f, \"unit\": \"GB/s\", \"reference\": %.1f, \"reference_kind\": \"cudaMemcpy "
        "device-to-device\", \"ratio\": %.3f, \"device\": \"%s\"}\n",
        name.c_str(), std::string(dtype_name(dt)).c_str(), shape_str(shape).c_str(), bytes, gbs, copy_gbs,
        gbs / copy_gbs, gpu.c_str());
    std::fflush(stdout);
  };

  for (DType dt : {DType::F16, DType::F32}) {
    const Shape shape{65536, 768};
    Tensor x = randn(shape, gen, dt, dev), y = Tensor::empty(shape, dt, dev);
    Tensor w = Tensor::ones({768}, dt, dev), b = Tensor::zeros({768}, dt, dev);
    Tensor mean = Tensor::empty({65536}, DType::F32, dev), rstd = Tensor::empty({65536}, DType::F32, dev);
    const double bytes = 2.0 * double(x.nbytes()) + 8.0 * 65536;
    report("layer_norm", dt, shape, bytes, [&] { be.layer_norm(x, w, b, 1e-5, y, mean, rstd); });
    Tensor dy = randn(shape, gen, dt, dev), dx = Tensor::empty(shape, dt, dev);
    report("layer_norm_backward_dx", dt, shape, 3.0 * double(x.nbytes()), [&] {
      Tensor none;
      be.layer_norm_backward(dy, x, w, mean, rstd, dx, none, none);
    });
  }
  {
    const Shape shape{32 * 12 * 197, 197};
    Tensor x = randn(shape, gen, DType::F16, dev), y = Tensor::empty(shape, DType::F16, dev);
    report("softmax_causal_attention", DType::F16, shape, 2.0 * double(x.nbytes()),
           [&] { be.softmax(x, y, false, 0.125, true); });
    Tensor dy = randn(shape, gen, DType::F16, dev), dx = Tensor::empty(shape, DType::F16, dev);
    report("softmax_backward", DType::F16, shape, 3.0 * double(x.nbytes()),
           [&] { be.softmax_backward(dy, y, dx, false, 0.125); });
  }
  {
    const Shape shape{4096, 4096};
    Tensor x = randn(shape, gen, DType::F32, dev), y = Tensor::empty(shape, DType::F32, dev);
    report("log_softmax_long_rows", DType::F32, shape, 2.0 * double(x.nbytes()),
           [&] { be.softmax(x, y, true, 1.0, false); });
  }
  for (DType dt : {DType::F16, DType::F32}) {
    const Shape shape{int64_t(32) << 20};
    Tensor a = randn(shape, gen, dt, dev), c = randn(shape, gen, dt, dev), out = Tensor::empty(shape, dt, dev);
    report("add", dt, shape, 3.0 * double(a.nbytes()), [&] { be.binary(BinaryOp::Add, a, c, out); });
    report("quick_gelu", dt, shape, 2.0 * double(a.nbytes()), [&] { be.unary(UnaryOp::QuickGelu, a, out, 0, 0); });
    Tensor bias = randn({1024}, gen, dt, dev);
    Tensor expanded = bias.expand({int64_t(32) << 10, 1024});
    Tensor a2 = a.view({int64_t(32) << 10, 1024}), out2 = out.view({int64_t(32) << 10, 1024});
    report("add_broadcast_bias", dt, shape, 2.0 * double(a.nbytes()),
           [&] { be.binary(BinaryOp::Add, a2, expanded, out2); });
  }
  {
    const Shape shape{int64_t(32) << 20};
    Tensor a = randn(shape, gen, DType::F32, dev), h = Tensor::empty(shape, DType::F16, dev);
    report("cast_f32_to_f16", DType::F32, shape, double(a.nbytes() + h.nbytes()), [&] { be.copy(a, h); });
  }
  return 0;
}

#endif

}  // namespace
}  // namespace clipt

int main() {
  try {
    if (!clipt::cuda_available()) {
      std::printf("{\"bench\": \"memory_bound\", \"skipped\": true, \"reason\": \"no CUDA device\"}\n");
      return 0;
    }
#ifdef CLIPT_WITH_CUDA
    return clipt::run();
#endif
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_memory_bound: %s\n", e.what());
    return 1;
  }
  return 0;
}
