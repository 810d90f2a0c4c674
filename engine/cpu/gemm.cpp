// GEMM on OpenBLAS: sgemm/dgemm directly; f16/bf16 operands are widened to f32 per matrix, multiplied,
// and narrowed back (f32 accumulation, as on the GPU).
#include <cblas.h>

#include <vector>

#include "engine/cpu/cpu_backend.h"
#include "engine/cpu/dispatch.h"

namespace clipt::cpu {

namespace {

// Copies a rows×cols matrix with leading dimension ld into a dense f32 buffer (same layout, ld = cols).
template <typename T>
void widen(const T* src, int64_t rows, int64_t cols, int64_t ld, float* dst) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) dst[r * cols + c] = float(src[r * ld + c]);
}

template <typename T>
void add_bias(T* c, const T* bias, int64_t m, int64_t n, int64_t ldc) {
  for (int64_t r = 0; r < m; ++r)
    for (int64_t j = 0; j < n; ++j) store(c + r * ldc + j, load(c + r * ldc + j) + load(bias + j));
}

}  // namespace

void CpuBackend::gemm(const GemmArgs& g) {
  const DType dt = g.c->dtype();
  CLIPT_CHECK(g.a->dtype() == dt && g.b->dtype() == dt, "gemm: dtypes {}, {}, {} differ", dtype_name(g.a->dtype()),
              dtype_name(g.b->dtype()), dtype_name(dt));
  const auto ta = g.trans_a ? CblasTrans : CblasNoTrans;
  const auto tb = g.trans_b ? CblasTrans : CblasNoTrans;
  const int m = int(g.m), n = int(g.n), k = int(g.k);
  // Stored shapes of the operands (rows × cols of the memory layout).
  const int64_t a_rows = g.trans_a ? g.k : g.m, a_cols = g.trans_a ? g.m : g.k;
  const int64_t b_rows = g.trans_b ? g.n : g.k, b_cols = g.trans_b ? g.k : g.n;
  for (int64_t bi = 0; bi < g.batch; ++bi) {
    if (dt == DType::F32) {
      const float* a = g.a->data<float>() + bi * g.stride_a;
      const float* b = g.b->data<float>() + bi * g.stride_b;
      float* c = g.c->data<float>() + bi * g.stride_c;
      cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, g.alpha, a, int(g.lda), b, int(g.ldb), g.beta, c, int(g.ldc));
      if (g.bias) add_bias(c, g.bias->data<float>(), g.m, g.n, g.ldc);
    } else if (dt == DType::F64) {
      const double* a = g.a->data<double>() + bi * g.stride_a;
      const double* b = g.b->data<double>() + bi * g.stride_b;
      double* c = g.c->data<double>() + bi * g.stride_c;
      cblas_dgemm(CblasRowMajor, ta, tb, m, n, k, g.alpha, a, int(g.lda), b, int(g.ldb), g.beta, c, int(g.ldc));
      if (g.bias) add_bias(c, g.bias->data<double>(), g.m, g.n, g.ldc);
    } else {
      dispatch_floating(dt, "gemm", [&]<typename T>() {
        std::vector<float> a32(size_t(a_rows * a_cols)), b32(size_t(b_rows * b_cols)), c32(size_t(g.m * g.n));
        const T* a = static_cast<const T*>(g.a->data_ptr()) + bi * g.stride_a;
        const T* b = static_cast<const T*>(g.b->data_ptr()) + bi * g.stride_b;
        T* c = static_cast<T*>(g.c->data_ptr()) + bi * g.stride_c;
        widen(a, a_rows, a_cols, g.lda, a32.data());
        widen(b, b_rows, b_cols, g.ldb, b32.data());
        if (g.beta != 0.f) widen(c, g.m, g.n, g.ldc, c32.data());
        cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, g.alpha, a32.data(), int(a_cols), b32.data(), int(b_cols), g.beta,
                    c32.data(), n);
        if (g.bias) {
          const T* bias = static_cast<const T*>(g.bias->data_ptr());
          for (int64_t r = 0; r < g.m; ++r)
            for (int64_t j = 0; j < g.n; ++j) c32[size_t(r * g.n + j)] += float(bias[j]);
        }
        for (int64_t r = 0; r < g.m; ++r)
          for (int64_t j = 0; j < g.n; ++j) c[r * g.ldc + j] = T(c32[size_t(r * g.n + j)]);
      });
    }
  }
}

}  // namespace clipt::cpu
