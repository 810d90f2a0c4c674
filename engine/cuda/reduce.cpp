// Reductions, arg-reductions and top-k on CUDA (deterministic kernels in kernels/reduce.cu, topk.cu).
#include "kernels/reduce.h"

#include "engine/cuda/cuda_backend.h"
#include "engine/cuda/launch.h"

namespace clipt::cuda {

static_assert(int(ReduceOp::Sum) == int(kernels::ReduceKind::Sum) &&
              int(ReduceOp::Mean) == int(kernels::ReduceKind::Mean) &&
              int(ReduceOp::Max) == int(kernels::ReduceKind::Max) &&
              int(ReduceOp::Min) == int(kernels::ReduceKind::Min) &&
              int(ReduceOp::SumSquares) == int(kernels::ReduceKind::SumSquares));
static_assert(int(ArgReduceOp::ArgMax) == int(kernels::ArgReduceKind::ArgMax) &&
              int(ArgReduceOp::ArgMin) == int(kernels::ArgReduceKind::ArgMin));

void CudaBackend::reduce(ReduceOp op, const Tensor& x, int64_t outer, int64_t n, int64_t inner, Tensor& out) {
  LaunchContext lc(x);
  require_cuda(out, lc, "reduce", "output");
  require_contiguous(x, "reduce", "input");
  require_contiguous(out, "reduce", "output");
  CLIPT_CHECK(outer * n * inner == x.numel() && outer * inner == out.numel(),
              "reduce: geometry [{}, {}, {}] does not match input {} and output {}", outer, n, inner, describe(x),
              describe(out));
  if (out.numel() == 0) return;
  // The kernels write the input's dtype (or f32 for 16-bit inputs); another output dtype goes through a
  // temporary.
  const bool direct =
      out.dtype() == x.dtype() || (out.dtype() == DType::F32 && (x.dtype() == DType::F16 || x.dtype() == DType::BF16));
  Tensor target = direct ? out : Tensor::empty(out.shape(), x.dtype(), out.device());
  const size_t ws_bytes = kernels::reduce_workspace_bytes(kd(x.dtype()), outer, n, inner);
  Tensor ws = ws_bytes > 0 ? scratch(ws_bytes, lc) : Tensor();
  CLIPT_LAUNCH(
      lc, kernels::reduce(static_cast<kernels::ReduceKind>(op), kd(x.dtype()), x.data_ptr(), target.data_ptr(), outer,
                          n, inner, ws.defined() ? ws.data_ptr() : nullptr, lc.stream, kd(target.dtype())));
  if (!target.is_same(out)) copy(target, out);
}

void CudaBackend::arg_reduce(ArgReduceOp op, const Tensor& x, int64_t outer, int64_t n, int64_t inner, Tensor& out) {
  LaunchContext lc(x);
  require_cuda(out, lc, "arg_reduce", "output");
  require_contiguous(x, "arg_reduce", "input");
  require_contiguous(out, "arg_reduce", "output");
  CLIPT_CHECK(out.dtype() == DType::I64, "arg_reduce: output must be i64, got {}", describe(out));
  CLIPT_CHECK(outer * n * inner == x.numel() && outer * inner == out.numel(),
              "arg_reduce: geometry [{}, {}, {}] does not match input {} and output {}", outer, n, inner, describe(x),
              describe(out));
  if (out.numel() == 0) return;
  CLIPT_LAUNCH(lc, kernels::arg_reduce(static_cast<kernels::ArgReduceKind>(op), kd(x.dtype()), x.data_ptr(),
                                       static_cast<int64_t*>(out.data_ptr()), outer, n, inner, lc.stream));
}

void CudaBackend::topk(const Tensor& x, int64_t k, Tensor& values, Tensor& indices) {
  LaunchContext lc(x);
  require_cuda(values, lc, "topk", "values");
  require_cuda(indices, lc, "topk", "indices");
  require_contiguous(x, "topk", "input");
  CLIPT_CHECK(x.dim() == 2, "topk: expected a 2-d [rows, n] input, got {}", describe(x));
  const int64_t rows = x.size(0), n = x.size(1);
  CLIPT_CHECK(k >= 0 && k <= n, "topk: k = {} out of range for rows of {}", k, n);
  CLIPT_CHECK(values.dtype() == x.dtype() && values.numel() == rows * k && indices.dtype() == DType::I64 &&
                  indices.numel() == rows * k,
              "topk: outputs {} and {} do not match input {} with k = {}", describe(values), describe(indices),
              describe(x), k);
  require_contiguous(values, "topk", "values");
  require_contiguous(indices, "topk", "indices");
  if (rows * k == 0) return;
  CLIPT_LAUNCH(lc, kernels::topk(kd(x.dtype()), x.data_ptr(), rows, n, k, values.data_ptr(),
                                 static_cast<int64_t*>(indices.data_ptr()), lc.stream));
}

}  // namespace clipt::cuda
