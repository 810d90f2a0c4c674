// Element-wise primitives: copy/cast, fill, unary, binary, where. The unary and binary formulas are the
// ones the CUDA kernels use (kernels/elementwise_ops.h).
#include <cmath>
#include <cstring>

#include "engine/cpu/cpu_backend.h"
#include "engine/cpu/dispatch.h"

namespace clipt::cpu {

namespace {

using kernels::BinaryFormula;
using kernels::UnaryFormula;
using kernels::visit_binary;
using kernels::visit_unary;

bool all_contiguous(std::initializer_list<const Tensor*> ts) {
  for (auto* t : ts)
    if (!t->is_contiguous()) return false;
  return true;
}

}  // namespace

void CpuBackend::copy(const Tensor& src, Tensor& dst) {
  CLIPT_CHECK(src.shape() == dst.shape(), "copy: shapes {} and {} differ", shape_str(src.shape()),
              shape_str(dst.shape()));
  if (src.dtype() == dst.dtype() && src.is_contiguous() && dst.is_contiguous()) {
    std::memmove(dst.data_ptr(), src.data_ptr(), dst.nbytes());
    return;
  }
  dispatch(src.dtype(), [&]<typename S>() {
    dispatch(dst.dtype(), [&]<typename D>() {
      const S* s = static_cast<const S*>(src.data_ptr());
      D* d = static_cast<D*>(dst.data_ptr());
      for_each_strided_rows<2>(
          dst.shape(), {&src.strides(), &dst.strides()},
          [&](int64_t, int64_t count, const std::array<int64_t, 2>& o, const std::array<int64_t, 2>& step) {
            const S* from = s + o[0];
            D* to = d + o[1];
            if constexpr (std::is_same_v<S, D>) {
              if (step[0] == 1 && step[1] == 1) {
                std::memcpy(to, from, size_t(count) * sizeof(S));
              } else {
                for (int64_t j = 0; j < count; ++j) to[j * step[1]] = from[j * step[0]];
              }
            } else {
              for (int64_t j = 0; j < count; ++j) store(to + j * step[1], load(from + j * step[0]));
            }
          });
    });
  });
}

void CpuBackend::fill(Tensor& dst, double value) {
  dispatch(dst.dtype(), [&]<typename T>() {
    T* d = static_cast<T*>(dst.data_ptr());
    T v;
    store(&v, compute_t<T>(value));
    const int64_t n = dst.numel();
    parallel_range(n, 1, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) d[i] = v;
    });
  });
}

void CpuBackend::unary(UnaryOp op, const Tensor& x, Tensor& out, double a, double b) {
  dispatch(x.dtype(), [&]<typename T>() {
    dispatch(out.dtype(), [&]<typename O>() {
      using C = std::conditional_t<std::is_same_v<compute_t<T>, double> || std::is_same_v<compute_t<O>, double>, double,
                                   float>;
      const T* xp = static_cast<const T*>(x.data_ptr());
      O* op_ = static_cast<O*>(out.data_ptr());
      const C ca = C(a), cb = C(b);
      if constexpr (std::is_same_v<T, O> && (std::is_same_v<T, float> || std::is_same_v<T, double>)) {
        // Same float type in and out: a tight loop per op over rows (strided or not).
        visit_unary(op, [&](auto kop) {
          for_each_strided_rows<1>(
              out.shape(), {&x.strides()},
              [&](int64_t i0, int64_t count, const std::array<int64_t, 1>& off, const std::array<int64_t, 1>& step) {
                const T* src = xp + off[0];
                T* dst = op_ + i0;
                if (step[0] == 1) {
                  for (int64_t j = 0; j < count; ++j)
                    dst[j] = UnaryFormula<kop.value>::template apply<C>(src[j], ca, cb);
                } else {
                  for (int64_t j = 0; j < count; ++j)
                    dst[j] = UnaryFormula<kop.value>::template apply<C>(src[j * step[0]], ca, cb);
                }
              });
        });
      } else if (x.is_contiguous()) {
        parallel_range(out.numel(), 1, [&](int64_t s, int64_t e) {
          for (int64_t i = s; i < e; ++i) store(op_ + i, kernels::unary_apply<C>(op, C(load(xp + i)), ca, cb));
        });
      } else {
        for_each_strided<1>(out.shape(), {&x.strides()}, [&](int64_t i, const std::array<int64_t, 1>& o) {
          store(op_ + i, kernels::unary_apply<C>(op, C(load(xp + o[0])), ca, cb));
        });
      }
    });
  });
}

void CpuBackend::binary(BinaryOp op, const Tensor& a, const Tensor& b, Tensor& out) {
  CLIPT_CHECK(a.dtype() == b.dtype(), "binary op: operand dtypes {} and {} differ", dtype_name(a.dtype()),
              dtype_name(b.dtype()));
  dispatch(a.dtype(), [&]<typename T>() {
    dispatch(out.dtype(), [&]<typename O>() {
      using C = compute_t<T>;
      const T* ap = static_cast<const T*>(a.data_ptr());
      const T* bp = static_cast<const T*>(b.data_ptr());
      O* o = static_cast<O*>(out.data_ptr());
      if constexpr (std::is_same_v<T, O> && (std::is_same_v<T, float> || std::is_same_v<T, double>)) {
        visit_binary(op, [&](auto kop) {
          for_each_strided_rows<2>(
              out.shape(), {&a.strides(), &b.strides()},
              [&](int64_t i0, int64_t count, const std::array<int64_t, 2>& off, const std::array<int64_t, 2>& step) {
                const T* x = ap + off[0];
                const T* y = bp + off[1];
                T* dst = o + i0;
                if (step[0] == 1 && step[1] == 1) {
                  for (int64_t j = 0; j < count; ++j) dst[j] = BinaryFormula<kop.value>::template apply<C>(x[j], y[j]);
                } else if (step[0] == 1 && step[1] == 0) {
                  const C yv = y[0];
                  for (int64_t j = 0; j < count; ++j) dst[j] = BinaryFormula<kop.value>::template apply<C>(x[j], yv);
                } else {
                  for (int64_t j = 0; j < count; ++j)
                    dst[j] = BinaryFormula<kop.value>::template apply<C>(x[j * step[0]], y[j * step[1]]);
                }
              });
        });
      } else if (all_contiguous({&a, &b})) {
        parallel_range(out.numel(), 1, [&](int64_t s, int64_t e) {
          for (int64_t i = s; i < e; ++i) store(o + i, kernels::binary_apply<C>(op, C(load(ap + i)), C(load(bp + i))));
        });
      } else {
        for_each_strided<2>(out.shape(), {&a.strides(), &b.strides()},
                            [&](int64_t i, const std::array<int64_t, 2>& off) {
                              store(o + i, kernels::binary_apply<C>(op, C(load(ap + off[0])), C(load(bp + off[1]))));
                            });
      }
    });
  });
}

void CpuBackend::where(const Tensor& cond, const Tensor& a, const Tensor& b, Tensor& out) {
  CLIPT_CHECK(cond.dtype() == DType::Bool, "where: condition must be bool, got {}", dtype_name(cond.dtype()));
  dispatch(out.dtype(), [&]<typename T>() {
    const bool* c = static_cast<const bool*>(cond.data_ptr());
    const T* ap = static_cast<const T*>(a.data_ptr());
    const T* bp = static_cast<const T*>(b.data_ptr());
    T* o = static_cast<T*>(out.data_ptr());
    for_each_strided<3>(
        out.shape(), {&cond.strides(), &a.strides(), &b.strides()},
        [&](int64_t i, const std::array<int64_t, 3>& off) { o[i] = c[off[0]] ? ap[off[1]] : bp[off[2]]; });
  });
}

void CpuBackend::copy_to_host(const Tensor& src, void* dst) { std::memcpy(dst, src.data_ptr(), src.nbytes()); }
void CpuBackend::copy_from_host(const void* src, Tensor& dst) { std::memcpy(dst.data_ptr(), src, dst.nbytes()); }

}  // namespace clipt::cpu
