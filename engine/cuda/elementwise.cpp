// Element-wise primitives on CUDA: copy/cast, fill, unary, binary, where.
#include "kernels/elementwise.h"

#include <cstring>

#include "engine/cuda/cuda_backend.h"
#include "engine/cuda/launch.h"
#include "engine/cuda/strided_layout.h"
#include "kernels/copy.h"

namespace clipt::cuda {

namespace {

// The element bit pattern of `value` stored as `dtype`, by the CPU backend's rule (through the dtype's
// compute type: f32 for f32/f16/bf16, f64 otherwise).
uint64_t fill_bits(DType dtype, double value) {
  uint64_t bits = 0;
  auto put = [&](const auto& v) { std::memcpy(&bits, &v, sizeof(v)); };
  switch (dtype) {
    case DType::F32: put(float(value)); break;
    case DType::F64: put(value); break;
    case DType::F16: put(Half(float(value)).bits); break;
    case DType::BF16: put(BFloat16(float(value)).bits); break;
    case DType::I32: put(int32_t(value)); break;
    case DType::I64: put(int64_t(value)); break;
    case DType::U8: put(uint8_t(value)); break;
    case DType::Bool: put(uint8_t(value != 0.0 ? 1 : 0)); break;
  }
  return bits;
}

void check_same_shape(const char* op, const Tensor& a, const Tensor& b) {
  CLIPT_CHECK(a.shape() == b.shape(), "{}: shapes {} and {} differ", op, shape_str(a.shape()), shape_str(b.shape()));
}

// dst ← src for equal dtypes and shapes, any strides.
void copy_same_dtype(const Tensor& src, Tensor& dst, const LaunchContext& lc) {
  const CoalescedLayout layout = coalesce(dst.shape(), {&src.strides(), &dst.strides()});
  if (layout.contiguous(0) && layout.contiguous(1)) {
    if (src.data_ptr() != dst.data_ptr())
      CLIPT_CUDA_CHECK(
          cudaMemcpyAsync(dst.data_ptr(), src.data_ptr(), dst.nbytes(), cudaMemcpyDeviceToDevice, lc.stream));
    return;
  }
  const auto geo = to_strided<2>(layout, "copy");
  CLIPT_LAUNCH(lc,
               kernels::strided_copy(dst.element_size(), src.data_ptr(), dst.data_ptr(), dst.numel(), geo, lc.stream));
}

// Contiguous dst of another dtype ← cast(src), src any strides.
void cast_into_contiguous(const Tensor& src, Tensor& dst, const LaunchContext& lc) {
  const CoalescedLayout layout = coalesce(dst.shape(), {&src.strides()});
  if (layout.contiguous(0)) {
    CLIPT_LAUNCH(lc, kernels::cast(kd(src.dtype()), kd(dst.dtype()), src.data_ptr(), dst.data_ptr(), dst.numel(),
                                   nullptr, lc.stream));
  } else {
    const auto geo = to_strided<1>(layout, "copy");
    CLIPT_LAUNCH(lc, kernels::cast(kd(src.dtype()), kd(dst.dtype()), src.data_ptr(), dst.data_ptr(), dst.numel(), &geo,
                                   lc.stream));
  }
}

}  // namespace

void CudaBackend::copy(const Tensor& src, Tensor& dst) {
  check_same_shape("copy", src, dst);
  LaunchContext lc(dst);
  require_cuda(src, lc, "copy", "source");
  if (dst.numel() == 0) return;
  // Overlapping source and destination (e.g. shifting a window inside one buffer): stage the source.
  if (src.shares_storage(dst) && src.data_ptr() != dst.data_ptr()) {
    Tensor staged = Tensor::empty(src.shape(), src.dtype(), dst.device());
    copy_same_dtype(src, staged, lc);
    copy(staged, dst);
    return;
  }
  if (src.dtype() == dst.dtype()) {
    copy_same_dtype(src, dst, lc);
  } else if (dst.is_contiguous()) {
    cast_into_contiguous(src, dst, lc);
  } else {
    Tensor tmp = Tensor::empty(dst.shape(), dst.dtype(), dst.device());
    cast_into_contiguous(src, tmp, lc);
    copy_same_dtype(tmp, dst, lc);
  }
}

void CudaBackend::fill(Tensor& dst, double value) {
  LaunchContext lc(dst);
  require_contiguous(dst, "fill", "destination");
  if (dst.numel() == 0) return;
  const uint64_t bits = fill_bits(dst.dtype(), value);
  if (bits == 0) {
    CLIPT_CUDA_CHECK(cudaMemsetAsync(dst.data_ptr(), 0, dst.nbytes(), lc.stream));
    return;
  }
  CLIPT_LAUNCH(lc, kernels::fill(dst.element_size(), bits, dst.data_ptr(), dst.numel(), lc.stream));
}

void CudaBackend::unary(UnaryOp op, const Tensor& x, Tensor& out, double a, double b) {
  LaunchContext lc(out);
  require_cuda(x, lc, op_name(op), "input");
  require_contiguous(out, op_name(op), "output");
  check_same_shape(op_name(op), x, out);
  CLIPT_CHECK(kernels::unary_supported(op, kd(x.dtype()), kd(out.dtype())),
              "{}: not available on CUDA for {} input and {} output (integer tensors support arithmetic and "
              "comparisons only)",
              op_name(op), dtype_name(x.dtype()), dtype_name(out.dtype()));
  if (out.numel() == 0) return;
  const CoalescedLayout layout = coalesce(out.shape(), {&x.strides()});
  if (layout.contiguous(0)) {
    CLIPT_LAUNCH(lc, kernels::unary(op, kd(x.dtype()), kd(out.dtype()), x.data_ptr(), out.data_ptr(), out.numel(),
                                    nullptr, a, b, lc.stream));
  } else {
    const auto geo = to_strided<1>(layout, op_name(op));
    CLIPT_LAUNCH(lc, kernels::unary(op, kd(x.dtype()), kd(out.dtype()), x.data_ptr(), out.data_ptr(), out.numel(), &geo,
                                    a, b, lc.stream));
  }
}

void CudaBackend::binary(BinaryOp op, const Tensor& a, const Tensor& b, Tensor& out) {
  LaunchContext lc(out);
  const char* name = op_name(op);
  require_cuda(a, lc, name, "first operand");
  require_cuda(b, lc, name, "second operand");
  require_contiguous(out, name, "output");
  check_same_shape(name, a, out);
  check_same_shape(name, b, out);
  CLIPT_CHECK(a.dtype() == b.dtype(), "binary op: operand dtypes {} and {} differ", dtype_name(a.dtype()),
              dtype_name(b.dtype()));
  CLIPT_CHECK(kernels::binary_supported(op, kd(a.dtype()), kd(out.dtype())),
              "{}: not available on CUDA for {} operands and {} output", name, dtype_name(a.dtype()),
              dtype_name(out.dtype()));
  if (out.numel() == 0) return;
  const CoalescedLayout layout = coalesce(out.shape(), {&a.strides(), &b.strides()});
  if (layout.contiguous(0) && layout.contiguous(1)) {
    CLIPT_LAUNCH(lc, kernels::binary(op, kd(a.dtype()), kd(out.dtype()), a.data_ptr(), b.data_ptr(), out.data_ptr(),
                                     out.numel(), nullptr, lc.stream));
  } else {
    const auto geo = to_strided<2>(layout, name);
    CLIPT_LAUNCH(lc, kernels::binary(op, kd(a.dtype()), kd(out.dtype()), a.data_ptr(), b.data_ptr(), out.data_ptr(),
                                     out.numel(), &geo, lc.stream));
  }
}

void CudaBackend::where(const Tensor& cond, const Tensor& a, const Tensor& b, Tensor& out) {
  LaunchContext lc(out);
  require_cuda(cond, lc, "where", "condition");
  require_cuda(a, lc, "where", "first operand");
  require_cuda(b, lc, "where", "second operand");
  require_contiguous(out, "where", "output");
  CLIPT_CHECK(cond.dtype() == DType::Bool, "where: condition must be bool, got {}", dtype_name(cond.dtype()));
  CLIPT_CHECK(a.dtype() == out.dtype() && b.dtype() == out.dtype(), "where: operands {} and {} for a {} output",
              describe(a), describe(b), dtype_name(out.dtype()));
  check_same_shape("where", cond, out);
  check_same_shape("where", a, out);
  check_same_shape("where", b, out);
  if (out.numel() == 0) return;
  const CoalescedLayout layout = coalesce(out.shape(), {&cond.strides(), &a.strides(), &b.strides()});
  const bool contiguous = layout.contiguous(0) && layout.contiguous(1) && layout.contiguous(2);
  const auto geo = to_strided<3>(layout, "where");
  CLIPT_LAUNCH(lc, kernels::where(kd(out.dtype()), static_cast<const bool*>(cond.data_ptr()), a.data_ptr(),
                                  b.data_ptr(), out.data_ptr(), out.numel(), contiguous ? nullptr : &geo, lc.stream));
}

}  // namespace clipt::cuda
