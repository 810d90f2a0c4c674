// Launchers for the index primitives: index_select / index_add over [outer, n, inner] and gather /
// scatter_add along one dim. Out-of-range indices are never dereferenced; they are recorded in `errors`.
#pragma once
#include "kernels/kernel_types.h"

namespace clipt::kernels {

// out[o, i, :] = x[o, idx[i], :] for contiguous x [outer, n, inner] and out [outer, m, inner].
cudaError_t index_select(size_t elem_bytes, const void* x, const int64_t* idx, void* out, int64_t outer, int64_t n,
                         int64_t inner, int64_t m, DeviceErrorRecord* errors, cudaStream_t stream);

// Scratch bytes index_add needs for m indices into n rows (0 when m is 0).
size_t index_add_workspace_bytes(int64_t n, int64_t m);

// out[o, k, :] += Σ src[o, i, :] over the i with idx[i] = k, summed in index order in f32 (f64 for f64 and
// integers) and added to out once per element — exactly as the CPU backend, so the result is
// deterministic and matches it bit for bit. Needs m < 2^31 and n < 2^32 − 1 (else cudaErrorInvalidValue).
cudaError_t index_add(KDType dtype, void* out, const int64_t* idx, const void* src, int64_t outer, int64_t n,
                      int64_t inner, int64_t m, void* workspace, DeviceErrorRecord* errors, cudaStream_t stream);

// Geometry of gather / scatter_add along `dim`: the index (and src/out of gather) is contiguous with
// `index_sizes`; the indexed tensor (x of gather, out of scatter_add) is contiguous with `target_strides`
// and size `target_dim_size` along dim.
struct GatherGeometry {
  int32_t ndim = 0;
  int32_t dim = 0;
  int64_t index_sizes[kMaxDims] = {};
  int64_t index_strides[kMaxDims] = {};
  int64_t target_strides[kMaxDims] = {};
  int64_t target_dim_size = 0;
};

// out[i] = x[coords(i) with coords[dim] = idx[i]] (torch.gather).
cudaError_t gather(size_t elem_bytes, const void* x, const int64_t* idx, void* out, int64_t total,
                   const GatherGeometry& geo, DeviceErrorRecord* errors, cudaStream_t stream);

// out[coords(i) with coords[dim] = idx[i]] += src[i] (torch.scatter_add), colliding elements added in the
// order of i (the CPU's order).
cudaError_t scatter_add(KDType dtype, void* out, const int64_t* idx, const void* src, int64_t total,
                        const GatherGeometry& geo, DeviceErrorRecord* errors, cudaStream_t stream);

}  // namespace clipt::kernels
