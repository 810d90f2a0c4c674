// The hardware limits a profile is compared against: peak FLOP/s for GEMMs (by dtype) and for other
// arithmetic, and peak memory bandwidth. On a GPU they come from a table of known parts (H100, H200,
// A100: the vendors' dense figures) or, for other parts, from the device's SM count, clocks and bus
// width; on the CPU they are measured (a short GEMM through the engine's CPU backend and a large copy).
#pragma once
#include <string>

#include "engine/core/device.h"
#include "engine/core/dtype.h"

namespace clipt::profile {

struct Peaks {
  std::string device_name;
  std::string source;     // "table: H100 SXM", "computed from 132 SMs at 1980 MHz ...", "measured"
  double gemm_f32 = 0;    // FLOP/s of f32 GEMMs (f64 uses it too)
  double gemm_f16 = 0;    // FLOP/s of f16/bf16 GEMMs (tensor cores on a GPU)
  double vector_f32 = 0;  // FLOP/s of non-GEMM arithmetic
  double bandwidth = 0;   // bytes/s of device memory
  // The compute roof for an op ("gemm" or anything else) in `dtype`.
  double flops_for(const std::string& op, DType dtype) const;
};

// A GPU part's figures from its name, when it is in the table; returns false otherwise.
bool known_gpu_peaks(const std::string& name, Peaks& out);
// The figures of a GPU from its properties (used when the part is not in the table).
Peaks computed_gpu_peaks(const std::string& name, int sm_count, int compute_major, double clock_mhz,
                         double memory_clock_mhz, int bus_width_bits);
// Peaks of cuda:N (table first, else computed); throws without CUDA.
Peaks cuda_device_peaks(int device);
// Measures the CPU (about half a second): best of a few f32 GEMMs and large copies with the engine's
// CPU backend and its threads.
Peaks measure_cpu_peaks();
Peaks device_peaks(Device device);

}  // namespace clipt::profile
