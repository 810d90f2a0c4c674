// Bias + QuickGELU on CUDA: checks what kernels/bias_act.cu relies on (contiguous operands of one floating
// dtype on one device, bias of the last dim's length) and launches it.
#include "kernels/bias_act.h"

#include <initializer_list>

#include "engine/cuda/cuda_backend.h"
#include "engine/cuda/launch.h"

namespace clipt::cuda {

namespace {

// Checks x [rows, c], bias [c] and the other same-shaped operands; returns c.
int64_t check_bias_act(const Tensor& x, const Tensor& bias, std::initializer_list<const Tensor*> same,
                       const LaunchContext& lc, const char* op) {
  CLIPT_CHECK(is_floating(x.dtype()) && x.dim() >= 1, "{}: expected a floating tensor, got {}", op, describe(x));
  const int64_t c = x.size(-1);
  require_contiguous(x, op, "input");
  require_cuda(bias, lc, op, "bias");
  require_contiguous(bias, op, "bias");
  CLIPT_CHECK(bias.dtype() == x.dtype() && bias.numel() == c, "{}: bias {} does not match input {}", op, describe(bias),
              describe(x));
  for (const Tensor* t : same) {
    require_cuda(*t, lc, op, "operand");
    require_contiguous(*t, op, "operand");
    CLIPT_CHECK(t->dtype() == x.dtype() && t->numel() == x.numel(), "{}: operand {} does not match input {}", op,
                describe(*t), describe(x));
  }
  return c;
}

}  // namespace

void CudaBackend::bias_quick_gelu(const Tensor& x, const Tensor& bias, Tensor& out) {
  LaunchContext lc(x);
  const int64_t c = check_bias_act(x, bias, {&out}, lc, "bias_quick_gelu");
  if (x.numel() == 0) return;
  CLIPT_LAUNCH(lc, kernels::bias_quick_gelu_forward(kd(x.dtype()), x.data_ptr(), bias.data_ptr(), out.data_ptr(),
                                                    x.numel() / c, c, lc.stream));
}

void CudaBackend::bias_quick_gelu_backward(const Tensor& dy, const Tensor& x, const Tensor& bias, Tensor& dx) {
  LaunchContext lc(x);
  const int64_t c = check_bias_act(x, bias, {&dy, &dx}, lc, "bias_quick_gelu_backward");
  if (x.numel() == 0) return;
  CLIPT_LAUNCH(lc, kernels::bias_quick_gelu_backward(kd(x.dtype()), dy.data_ptr(), x.data_ptr(), bias.data_ptr(),
                                                     dx.data_ptr(), x.numel() / c, c, lc.stream));
}

}  // namespace clipt::cuda
