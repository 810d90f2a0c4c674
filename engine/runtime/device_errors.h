// Errors found inside kernels (an out-of-range index or label). A kernel cannot throw, so it records the
// first offending value in the device's error record and skips the access; the engine raises a
// clipt::Error at the next synchronising point of that device — a device→host copy (item(), to(cpu),
// to_vector) or Backend::synchronize() — with the same message the CPU backend gives, plus a note that it
// was detected asynchronously. With CLIPT_CUDA_SYNC=1 every such kernel is checked right after launch.
#pragma once
#include <cuda_runtime_api.h>

#include "kernels/kernel_types.h"

namespace clipt::cuda {

// The record to pass to a kernel about to be launched on `device`; marks a check as pending.
kernels::DeviceErrorRecord* error_record_for_launch(int device);

// If a check is pending for `device`: waits for `stream`, reads the record, clears it and throws the
// recorded error (if any). Cheap when nothing is pending.
void raise_device_errors(int device, cudaStream_t stream);

}  // namespace clipt::cuda
