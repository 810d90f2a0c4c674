// Softmax, layer norm and cross-entropy on CUDA (fused kernels; statistics in f32, f64 for f64).
#include "engine/cuda/cuda_backend.h"
#include "engine/cuda/launch.h"
#include "engine/runtime/device_errors.h"
#include "kernels/cross_entropy.h"
#include "kernels/layernorm.h"
#include "kernels/softmax.h"

namespace clipt::cuda {

namespace {

void check_floating(const Tensor& t, const char* op) {
  CLIPT_CHECK(is_floating(t.dtype()), "{}: expected a floating tensor, got {}", op, describe(t));
}

// Dtype of saved statistics and losses: f64 for f64 inputs, f32 otherwise (the ops layer's choice).
DType stats_dtype(DType x) { return x == DType::F64 ? DType::F64 : DType::F32; }

void check_stats(const Tensor& t, DType x, int64_t rows, const char* op, const char* name) {
  CLIPT_CHECK(t.defined() && t.dtype() == stats_dtype(x) && t.numel() == rows && t.is_contiguous(),
              "{}: {} must be a contiguous {}[{}] tensor for {} input, got {}", op, name, dtype_name(stats_dtype(x)),
              rows, dtype_name(x), describe(t));
}

}  // namespace

void CudaBackend::softmax(const Tensor& x, Tensor& out, bool log, double scale, bool causal) {
  const char* op = log ? "log_softmax" : "softmax";
  LaunchContext lc(x);
  require_cuda(out, lc, op, "output");
  require_contiguous(x, op, "input");
  require_contiguous(out, op, "output");
  check_floating(x, op);
  CLIPT_CHECK(out.dtype() == x.dtype() && out.numel() == x.numel(), "{}: output {} for input {}", op, describe(out),
              describe(x));
  if (x.numel() == 0) return;
  const int64_t n = x.size(-1), rows = x.numel() / n;
  const int64_t q = x.dim() >= 2 ? x.size(-2) : 1;
  CLIPT_LAUNCH(lc, kernels::softmax_forward(kd(x.dtype()), x.data_ptr(), out.data_ptr(), rows, n, q, scale, causal, log,
                                            lc.stream));
}

void CudaBackend::softmax_backward(const Tensor& dy, const Tensor& y, Tensor& dx, bool log, double scale) {
  const char* op = log ? "log_softmax_backward" : "softmax_backward";
  LaunchContext lc(y);
  require_cuda(dy, lc, op, "gradient");
  require_cuda(dx, lc, op, "input gradient");
  for (const Tensor* t : {&dy, &y, static_cast<const Tensor*>(&dx)}) require_contiguous(*t, op, "operand");
  check_floating(y, op);
  CLIPT_CHECK(dy.dtype() == y.dtype() && dx.dtype() == y.dtype() && dy.numel() == y.numel() && dx.numel() == y.numel(),
              "{}: gradient {} and output {} do not match the saved output {}", op, describe(dy), describe(dx),
              describe(y));
  if (y.numel() == 0) return;
  const int64_t n = y.size(-1), rows = y.numel() / n;
  CLIPT_LAUNCH(lc, kernels::softmax_backward(kd(y.dtype()), dy.data_ptr(), y.data_ptr(), dx.data_ptr(), rows, n, scale,
                                             log, lc.stream));
}

namespace {

// Checks of the layer-norm forward (optionally with the fused residual add) and its launch.
void layer_norm_forward(const Tensor& x, const Tensor* residual, Tensor* h, const Tensor& w, const Tensor& b,
                        double eps, Tensor& y, Tensor& mean, Tensor& rstd, const char* op) {
  LaunchContext lc(x);
  require_contiguous(x, op, "input");
  require_contiguous(y, op, "output");
  require_cuda(y, lc, op, "output");
  check_floating(x, op);
  const int64_t c = x.size(-1), rows = c == 0 ? 0 : x.numel() / c;
  for (const Tensor* p : {&w, &b}) {
    if (!p->defined()) continue;
    require_cuda(*p, lc, op, "parameter");
    require_contiguous(*p, op, "parameter");
    CLIPT_CHECK(p->dtype() == x.dtype() && p->numel() == c, "{}: parameter {} does not match input {}", op,
                describe(*p), describe(x));
  }
  CLIPT_CHECK(y.dtype() == x.dtype() && y.numel() == x.numel(), "{}: output {} for input {}", op, describe(y),
              describe(x));
  if (residual) {
    for (const Tensor* t : {residual, static_cast<const Tensor*>(h)}) {
      require_cuda(*t, lc, op, "residual operand");
      require_contiguous(*t, op, "residual operand");
      CLIPT_CHECK(t->dtype() == x.dtype() && t->numel() == x.numel(), "{}: residual operand {} for input {}", op,
                  describe(*t), describe(x));
    }
  }
  check_stats(mean, x.dtype(), rows, op, "mean");
  check_stats(rstd, x.dtype(), rows, op, "rstd");
  if (rows == 0) return;
  const void* wp = w.defined() ? w.data_ptr() : nullptr;
  const void* bp = b.defined() ? b.data_ptr() : nullptr;
  if (residual)
    CLIPT_LAUNCH(lc, kernels::residual_layernorm_forward(kd(x.dtype()), x.data_ptr(), residual->data_ptr(),
                                                         h->data_ptr(), wp, bp, y.data_ptr(), mean.data_ptr(),
                                                         rstd.data_ptr(), rows, c, eps, lc.stream));
  else
    CLIPT_LAUNCH(lc, kernels::layernorm_forward(kd(x.dtype()), x.data_ptr(), wp, bp, y.data_ptr(), mean.data_ptr(),
                                                rstd.data_ptr(), rows, c, eps, lc.stream));
}

}  // namespace

void CudaBackend::layer_norm(const Tensor& x, const Tensor& w, const Tensor& b, double eps, Tensor& y, Tensor& mean,
                             Tensor& rstd) {
  layer_norm_forward(x, nullptr, nullptr, w, b, eps, y, mean, rstd, "layer_norm");
}

void CudaBackend::residual_layer_norm(const Tensor& x, const Tensor& residual, const Tensor& w, const Tensor& b,
                                      double eps, Tensor& h, Tensor& y, Tensor& mean, Tensor& rstd) {
  layer_norm_forward(x, &residual, &h, w, b, eps, y, mean, rstd, "residual_layer_norm");
}

void CudaBackend::layer_norm_backward(const Tensor& dy, const Tensor& x, const Tensor& w, const Tensor& mean,
                                      const Tensor& rstd, Tensor& dx, Tensor& dw, Tensor& db) {
  LaunchContext lc(x);
  require_cuda(dy, lc, "layer_norm_backward", "gradient");
  require_contiguous(dy, "layer_norm_backward", "gradient");
  require_contiguous(x, "layer_norm_backward", "input");
  CLIPT_CHECK(dy.dtype() == x.dtype() && dy.numel() == x.numel(),
              "layer_norm_backward: gradient {} does not match input {}", describe(dy), describe(x));
  const int64_t c = x.size(-1), rows = c == 0 ? 0 : x.numel() / c;
  check_stats(mean, x.dtype(), rows, "layer_norm_backward", "mean");
  check_stats(rstd, x.dtype(), rows, "layer_norm_backward", "rstd");
  if (w.defined()) {
    require_contiguous(w, "layer_norm_backward", "weight");
    CLIPT_CHECK(w.dtype() == x.dtype() && w.numel() == c, "layer_norm_backward: weight {} does not match input {}",
                describe(w), describe(x));
  }
  for (const Tensor* g : {&dx, &dw, &db}) {
    if (!g->defined()) continue;
    require_cuda(*g, lc, "layer_norm_backward", "gradient output");
    require_contiguous(*g, "layer_norm_backward", "gradient output");
    CLIPT_CHECK(g->dtype() == x.dtype(), "layer_norm_backward: gradient output {} for a {} input", describe(*g),
                dtype_name(x.dtype()));
  }
  if (dx.defined() && rows > 0) {
    CLIPT_CHECK(dx.numel() == x.numel(), "layer_norm_backward: dx {} for input {}", describe(dx), describe(x));
    CLIPT_LAUNCH(lc, kernels::layernorm_backward_dx(kd(x.dtype()), dy.data_ptr(), x.data_ptr(),
                                                    w.defined() ? w.data_ptr() : nullptr, mean.data_ptr(),
                                                    rstd.data_ptr(), dx.data_ptr(), rows, c, lc.stream));
  }
  if (dw.defined() || db.defined()) {
    if (dw.defined()) CLIPT_CHECK(dw.numel() == c, "layer_norm_backward: dw {} for {} channels", describe(dw), c);
    if (db.defined()) CLIPT_CHECK(db.numel() == c, "layer_norm_backward: db {} for {} channels", describe(db), c);
    if (c == 0) return;
    Tensor ws = scratch(kernels::layernorm_param_grad_workspace_bytes(kd(x.dtype()), rows, c), lc);
    CLIPT_LAUNCH(lc, kernels::layernorm_backward_params(kd(x.dtype()), dy.data_ptr(), x.data_ptr(), mean.data_ptr(),
                                                        rstd.data_ptr(), dw.defined() ? dw.data_ptr() : nullptr,
                                                        db.defined() ? db.data_ptr() : nullptr, rows, c, ws.data_ptr(),
                                                        lc.stream));
  }
}

void CudaBackend::cross_entropy(const Tensor& logits, const Tensor& labels, double smoothing, Tensor& loss,
                                Tensor& lse) {
  LaunchContext lc(logits);
  require_cuda(labels, lc, "cross_entropy", "labels");
  require_contiguous(logits, "cross_entropy", "logits");
  require_contiguous(labels, "cross_entropy", "labels");
  check_floating(logits, "cross_entropy");
  CLIPT_CHECK(logits.dim() == 2, "cross_entropy: logits must be [N, C], got {}", describe(logits));
  const int64_t n = logits.size(0), c = logits.size(1);
  CLIPT_CHECK(labels.dtype() == DType::I64 && labels.numel() == n, "cross_entropy: labels {} for logits {}",
              describe(labels), describe(logits));
  require_cuda(loss, lc, "cross_entropy", "loss");
  require_cuda(lse, lc, "cross_entropy", "lse");
  check_stats(loss, logits.dtype(), n, "cross_entropy", "loss");
  check_stats(lse, logits.dtype(), n, "cross_entropy", "lse");
  if (n == 0) return;
  CLIPT_LAUNCH(lc, kernels::cross_entropy_forward(kd(logits.dtype()), logits.data_ptr(),
                                                  static_cast<const int64_t*>(labels.data_ptr()), loss.data_ptr(),
                                                  lse.data_ptr(), n, c, smoothing, error_record_for_launch(lc.device),
                                                  lc.stream));
}

void CudaBackend::cross_entropy_backward(const Tensor& logits, const Tensor& labels, const Tensor& lse,
                                         const Tensor& grad_loss, double smoothing, Tensor& dlogits) {
  LaunchContext lc(logits);
  for (const Tensor* t : {&labels, &lse, &grad_loss, static_cast<const Tensor*>(&dlogits)}) {
    require_cuda(*t, lc, "cross_entropy_backward", "operand");
    require_contiguous(*t, "cross_entropy_backward", "operand");
  }
  require_contiguous(logits, "cross_entropy_backward", "logits");
  const int64_t n = logits.size(0), c = logits.size(1);
  check_stats(lse, logits.dtype(), n, "cross_entropy_backward", "lse");
  check_stats(grad_loss, logits.dtype(), n, "cross_entropy_backward", "loss gradient");
  CLIPT_CHECK(labels.dtype() == DType::I64 && labels.numel() == n && dlogits.dtype() == logits.dtype() &&
                  dlogits.numel() == logits.numel(),
              "cross_entropy_backward: labels {} and gradient {} for logits {}", describe(labels), describe(dlogits),
              describe(logits));
  if (n == 0) return;
  CLIPT_LAUNCH(lc, kernels::cross_entropy_backward(
                       kd(logits.dtype()), logits.data_ptr(), static_cast<const int64_t*>(labels.data_ptr()),
                       lse.data_ptr(), grad_loss.data_ptr(), dlogits.data_ptr(), n, c, smoothing, lc.stream));
}

}  // namespace clipt::cuda
