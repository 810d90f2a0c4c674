// Fused attention on CUDA: checks what kernels/attention.cu relies on (contiguous operands on one device,
// head dim 64) and launches it; the backward's scratch comes from the stream-ordered pool.
#include "kernels/attention.h"

#include "engine/cuda/cuda_backend.h"
#include "engine/cuda/launch.h"

namespace clipt::cuda {

namespace {

kernels::AttentionShape shape_of(const AttentionArgs& a) {
  return {a.batch, a.len, a.heads, a.groups, a.prefix_len, a.causal, a.scale};
}

void check_operands(const AttentionArgs& a, const LaunchContext& lc, const char* op) {
  CLIPT_CHECK(a.head_dim == kernels::kAttentionHeadDim, "{}: the CUDA kernel needs head dim {}, got {}", op,
              kernels::kAttentionHeadDim, a.head_dim);
  require_cuda(*a.qkv, lc, op, "qkv");
  require_contiguous(*a.qkv, op, "qkv");
  CLIPT_CHECK(a.qkv->numel() == a.batch * a.len * 3 * a.heads * a.head_dim, "{}: qkv {} is not [{}, {}, {}]", op,
              describe(*a.qkv), a.batch, a.len, 3 * a.heads * a.head_dim);
  if (a.groups > 0) {
    CLIPT_CHECK(a.prefix_qkv != nullptr && a.batch % a.groups == 0, "{}: prefix groups {} for a batch of {}", op,
                a.groups, a.batch);
    require_cuda(*a.prefix_qkv, lc, op, "prefix qkv");
    require_contiguous(*a.prefix_qkv, op, "prefix qkv");
    CLIPT_CHECK(a.prefix_qkv->dtype() == a.qkv->dtype(), "{}: prefix qkv {} and qkv {} differ in dtype", op,
                describe(*a.prefix_qkv), describe(*a.qkv));
  }
}

}  // namespace

void CudaBackend::attention(const AttentionArgs& a, Tensor& out, Tensor& lse) {
  LaunchContext lc(*a.qkv);
  check_operands(a, lc, "attention");
  require_cuda(out, lc, "attention", "output");
  require_cuda(lse, lc, "attention", "lse");
  if (out.numel() == 0) return;
  CLIPT_LAUNCH(lc, kernels::attention_forward(kd(a.qkv->dtype()), a.qkv->data_ptr(),
                                              a.groups > 0 ? a.prefix_qkv->data_ptr() : nullptr, out.data_ptr(),
                                              lse.data_ptr(), shape_of(a), lc.stream));
}

void CudaBackend::attention_backward(const AttentionArgs& a, const Tensor& out, const Tensor& dout, const Tensor& lse,
                                     Tensor& dqkv, Tensor& dprefix_qkv) {
  LaunchContext lc(*a.qkv);
  check_operands(a, lc, "attention_backward");
  for (const Tensor* t : {&out, &dout, &lse, static_cast<const Tensor*>(&dqkv)}) {
    require_cuda(*t, lc, "attention_backward", "operand");
    require_contiguous(*t, "attention_backward", "operand");
  }
  const bool prefix_grad = a.groups > 0 && dprefix_qkv.defined();
  if (prefix_grad) fill(dprefix_qkv, 0.0);  // the kernels write its k and v parts
  if (out.numel() == 0) return;
  const kernels::AttentionShape s = shape_of(a);
  Tensor ws = scratch(kernels::attention_backward_scratch_bytes(kd(a.qkv->dtype()), s), lc);
  CLIPT_LAUNCH(lc, kernels::attention_backward(
                       kd(a.qkv->dtype()), a.qkv->data_ptr(), a.groups > 0 ? a.prefix_qkv->data_ptr() : nullptr,
                       out.data_ptr(), dout.data_ptr(), lse.data_ptr(), dqkv.data_ptr(),
                       prefix_grad ? dprefix_qkv.data_ptr() : nullptr, ws.data_ptr(), s, lc.stream));
}

}  // namespace clipt::cuda
