// Launchers for copies, dtype casts and fills (the engine's Backend::copy / fill).
#pragma once
#include "kernels/kernel_types.h"

namespace clipt::kernels {

// dst ← src for n elements of `elem_bytes` each; geo.strides[0] are src's strides, geo.strides[1] dst's.
cudaError_t strided_copy(size_t elem_bytes, const void* src, void* dst, int64_t n, const Strided<2>& geo,
                         cudaStream_t stream);

// y ← cast(x) with the CPU backend's conversion rules; y contiguous, x contiguous when geo is null.
cudaError_t cast(KDType in, KDType out, const void* x, void* y, int64_t n, const Strided<1>* geo, cudaStream_t stream);

// Writes the element bit pattern `bits` (the low elem_bytes bytes) to n contiguous elements.
cudaError_t fill(size_t elem_bytes, uint64_t bits, void* y, int64_t n, cudaStream_t stream);

}  // namespace clipt::kernels
