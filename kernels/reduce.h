// Launchers for reductions over the middle dim of a contiguous [outer, n, inner] tensor (sum, mean, max,
// min, sum of squares; arg-max/min) and per-row top-k. All are deterministic: fixed reduction trees, no
// atomics, and a split into partial results that depends only on the shape.
#pragma once
#include "kernels/kernel_types.h"

namespace clipt::kernels {

enum class ReduceKind : uint8_t { Sum, Mean, Max, Min, SumSquares };  // mirrors the engine's ReduceOp
enum class ArgReduceKind : uint8_t { ArgMax, ArgMin };

// Scratch bytes reduce() needs for this shape (0 when one pass suffices). Pass a buffer at least this big.
size_t reduce_workspace_bytes(KDType dtype, int64_t outer, int64_t n, int64_t inner);

// out[o, i] = reduce_j x[o, j, i]; accumulation in f32 (f64 for f64 and integers). out has x's dtype, or
// f32 for f16/bf16 inputs (out_dtype = F32), so sums of squares cannot overflow the 16-bit range.
cudaError_t reduce(ReduceKind op, KDType dtype, const void* x, void* out, int64_t outer, int64_t n, int64_t inner,
                   void* workspace, cudaStream_t stream, KDType out_dtype);

// out[o, i] = index of the first maximum (minimum) along n; a NaN counts as the extreme (PyTorch's rule).
cudaError_t arg_reduce(ArgReduceKind op, KDType dtype, const void* x, int64_t* out, int64_t outer, int64_t n,
                       int64_t inner, cudaStream_t stream);

// For each row of contiguous x [rows, n]: the k largest values sorted descending, ties by lower index.
// O(k·n) per row: meant for small k (classification top-5, hard-negative mining).
cudaError_t topk(KDType dtype, const void* x, int64_t rows, int64_t n, int64_t k, void* values, int64_t* indices,
                 cudaStream_t stream);

}  // namespace clipt::kernels
