// Index primitives on CUDA. Out-of-range indices are detected inside the kernels and raised at the next
// synchronising point (see engine/runtime/device_errors.h); the CPU backend raises immediately.
#include "kernels/index.h"

#include "engine/cuda/cuda_backend.h"
#include "engine/cuda/launch.h"
#include "engine/runtime/device_errors.h"

namespace clipt::cuda {

namespace {

void check_index(const Tensor& index, const LaunchContext& lc, const char* op) {
  require_cuda(index, lc, op, "index");
  require_contiguous(index, op, "index");
  CLIPT_CHECK(index.dtype() == DType::I64, "{}: index must be i64, got {}", op, describe(index));
}

// Geometry of gather/scatter_add: `index` shape against the contiguous `target` along `dim`.
kernels::GatherGeometry gather_geometry(const Tensor& target, int64_t dim, const Tensor& index, const char* op) {
  CLIPT_CHECK(index.dim() == target.dim(), "{}: index {} and tensor {} differ in rank", op, describe(index),
              describe(target));
  CLIPT_CHECK(target.dim() >= 1 && target.dim() <= kernels::kMaxDims, "{}: CUDA supports 1 to {} dims, got {}", op,
              kernels::kMaxDims, describe(target));
  CLIPT_CHECK(dim >= 0 && dim < target.dim(), "{}: dim {} out of range for {}", op, dim, describe(target));
  for (int64_t d = 0; d < target.dim(); ++d)
    CLIPT_CHECK(d == dim || index.size(d) <= target.size(d), "{}: index {} is larger than tensor {} in dim {}", op,
                describe(index), describe(target), d);
  kernels::GatherGeometry g;
  g.ndim = int32_t(target.dim());
  g.dim = int32_t(dim);
  const Shape index_strides = contiguous_strides(index.shape());
  const Shape target_strides = contiguous_strides(target.shape());
  for (int64_t d = 0; d < target.dim(); ++d) {
    g.index_sizes[d] = index.size(d);
    g.index_strides[d] = index_strides[size_t(d)];
    g.target_strides[d] = target_strides[size_t(d)];
  }
  g.target_dim_size = target.size(dim);
  return g;
}

}  // namespace

void CudaBackend::index_select(const Tensor& x, const Tensor& index, int64_t outer, int64_t n, int64_t inner,
                               Tensor& out) {
  LaunchContext lc(x);
  check_index(index, lc, "index_select");
  require_cuda(out, lc, "index_select", "output");
  require_contiguous(x, "index_select", "input");
  require_contiguous(out, "index_select", "output");
  const int64_t m = index.numel();
  CLIPT_CHECK(out.dtype() == x.dtype() && x.numel() == outer * n * inner && out.numel() == outer * m * inner,
              "index_select: geometry [{}, {}, {}] with {} indices does not match input {} and output {}", outer, n,
              inner, m, describe(x), describe(out));
  if (out.numel() == 0) return;
  CLIPT_LAUNCH(
      lc, kernels::index_select(x.element_size(), x.data_ptr(), static_cast<const int64_t*>(index.data_ptr()),
                                out.data_ptr(), outer, n, inner, m, error_record_for_launch(lc.device), lc.stream));
}

void CudaBackend::index_add(Tensor& out, const Tensor& index, int64_t outer, int64_t n, int64_t inner,
                            const Tensor& src) {
  LaunchContext lc(out);
  check_index(index, lc, "index_add");
  require_cuda(src, lc, "index_add", "source");
  require_contiguous(out, "index_add", "output");
  require_contiguous(src, "index_add", "source");
  const int64_t m = index.numel();
  CLIPT_CHECK(src.dtype() == out.dtype() && out.numel() == outer * n * inner && src.numel() == outer * m * inner,
              "index_add: geometry [{}, {}, {}] with {} indices does not match output {} and source {}", outer, n,
              inner, m, describe(out), describe(src));
  if (src.numel() == 0) return;
  CLIPT_CHECK(m < (int64_t(1) << 31) && n < (int64_t(1) << 32) - 1,
              "index_add: {} indices into {} rows exceed the CUDA kernel's limits (2^31 indices, 2^32 - 1 rows)", m, n);
  Tensor ws = scratch(kernels::index_add_workspace_bytes(n, m), lc);
  CLIPT_LAUNCH(lc, kernels::index_add(kd(out.dtype()), out.data_ptr(), static_cast<const int64_t*>(index.data_ptr()),
                                      src.data_ptr(), outer, n, inner, m, ws.data_ptr(),
                                      error_record_for_launch(lc.device), lc.stream));
}

void CudaBackend::gather(const Tensor& x, int64_t dim, const Tensor& index, Tensor& out) {
  LaunchContext lc(x);
  check_index(index, lc, "gather");
  require_cuda(out, lc, "gather", "output");
  require_contiguous(x, "gather", "input");
  require_contiguous(out, "gather", "output");
  CLIPT_CHECK(out.dtype() == x.dtype() && out.shape() == index.shape(), "gather: output {} for input {} and index {}",
              describe(out), describe(x), describe(index));
  if (out.numel() == 0) return;
  const kernels::GatherGeometry g = gather_geometry(x, dim, index, "gather");
  CLIPT_LAUNCH(lc, kernels::gather(x.element_size(), x.data_ptr(), static_cast<const int64_t*>(index.data_ptr()),
                                   out.data_ptr(), out.numel(), g, error_record_for_launch(lc.device), lc.stream));
}

void CudaBackend::scatter_add(Tensor& out, int64_t dim, const Tensor& index, const Tensor& src) {
  LaunchContext lc(out);
  check_index(index, lc, "scatter_add");
  require_cuda(src, lc, "scatter_add", "source");
  require_contiguous(out, "scatter_add", "output");
  require_contiguous(src, "scatter_add", "source");
  CLIPT_CHECK(src.dtype() == out.dtype() && src.shape() == index.shape(),
              "scatter_add: source {} and index {} for output {}", describe(src), describe(index), describe(out));
  if (src.numel() == 0) return;
  const kernels::GatherGeometry g = gather_geometry(out, dim, index, "scatter_add");
  CLIPT_LAUNCH(lc, kernels::scatter_add(kd(out.dtype()), out.data_ptr(), static_cast<const int64_t*>(index.data_ptr()),
                                        src.data_ptr(), src.numel(), g, error_record_for_launch(lc.device), lc.stream));
}

}  // namespace clipt::cuda
