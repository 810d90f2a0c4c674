// GEMM on OpenBLAS: sgemm/dgemm directly; f16/bf16 operands are widened to f32 per matrix, multiplied,
// and narrowed back (f32 accumulation, as on the GPU).
//
// Threading: OpenBLAS runs single-threaded (engine/cpu/blas.h) and the work is split here with OpenMP —
// across the batch when there are enough matrices, otherwise across row blocks of C.
#include <cblas.h>
#include <omp.h>

#include <mutex>
#include <vector>

#include "engine/cpu/blas.h"
#include "engine/cpu/cpu_backend.h"
#include "engine/cpu/dispatch.h"

namespace clipt::cpu {

namespace {

// Copies a rows×cols matrix with leading dimension ld into a dense f32 buffer (same layout, ld = cols).
template <typename T> void widen(const T* src, int64_t rows, int64_t cols, int64_t ld, float* dst) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) dst[r * cols + c] = float(src[r * ld + c]);
}

template <typename T> void add_bias(T* c, const T* bias, int64_t m, int64_t n, int64_t ldc) {
  for (int64_t r = 0; r < m; ++r)
    for (int64_t j = 0; j < n; ++j) store(c + r * ldc + j, load(c + r * ldc + j) + load(bias + j));
}

}  // namespace

void single_threaded_blas() {
  static std::once_flag once;
  std::call_once(once, [] { openblas_set_num_threads(1); });
}

namespace {

// One f32/f64 GEMM of rows [r0, r1) of C.
template <typename T> void blas_rows(const GemmArgs& g, const T* a, const T* b, T* c, int64_t r0, int64_t r1) {
  const auto ta = g.trans_a ? CblasTrans : CblasNoTrans;
  const auto tb = g.trans_b ? CblasTrans : CblasNoTrans;
  // Row r of op(A) starts at a + r·lda (stored [m, k]) or at column r (stored [k, m]).
  const T* a_rows = g.trans_a ? a + r0 : a + r0 * g.lda;
  T* c_rows = c + r0 * g.ldc;
  const int m = int(r1 - r0), n = int(g.n), k = int(g.k);
  if constexpr (std::is_same_v<T, float>)
    cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, g.alpha, a_rows, int(g.lda), b, int(g.ldb), g.beta, c_rows, int(g.ldc));
  else
    cblas_dgemm(CblasRowMajor, ta, tb, m, n, k, g.alpha, a_rows, int(g.lda), b, int(g.ldb), g.beta, c_rows, int(g.ldc));
}

// Calls work(batch, r0, r1) over all batches and row blocks, split across threads.
template <typename F> void split_gemm(const GemmArgs& g, F&& work) {
  const int64_t flops = g.batch * g.m * g.n * g.k;
  const int threads = flops < (int64_t(1) << 18) ? 1 : omp_get_max_threads();
  if (threads == 1) {
    for (int64_t b = 0; b < g.batch; ++b) work(b, 0, g.m);
    return;
  }
  // Enough matrices: one thread per matrix. Else split rows into at most `threads` blocks per matrix.
  const int64_t blocks_per_matrix = g.batch >= threads ? 1 : std::min<int64_t>(g.m, (threads + g.batch - 1) / g.batch);
  const int64_t tasks = g.batch * blocks_per_matrix;
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t t = 0; t < tasks; ++t) {
    const int64_t b = t / blocks_per_matrix, blk = t % blocks_per_matrix;
    const int64_t r0 = g.m * blk / blocks_per_matrix, r1 = g.m * (blk + 1) / blocks_per_matrix;
    if (r0 < r1) work(b, r0, r1);
  }
}

}  // namespace

void CpuBackend::gemm(const GemmArgs& g) {
  single_threaded_blas();
  const DType dt = g.c->dtype();
  CLIPT_CHECK(g.a->dtype() == dt && g.b->dtype() == dt, "gemm: dtypes {}, {}, {} differ", dtype_name(g.a->dtype()),
              dtype_name(g.b->dtype()), dtype_name(dt));
  const auto ta = g.trans_a ? CblasTrans : CblasNoTrans;
  const auto tb = g.trans_b ? CblasTrans : CblasNoTrans;
  const int m = int(g.m), n = int(g.n), k = int(g.k);
  // Stored shapes of the operands (rows × cols of the memory layout).
  const int64_t a_rows = g.trans_a ? g.k : g.m, a_cols = g.trans_a ? g.m : g.k;
  const int64_t b_rows = g.trans_b ? g.n : g.k, b_cols = g.trans_b ? g.k : g.n;
  if (dt == DType::F32 || dt == DType::F64) {
    dispatch_floating(dt, "gemm", [&]<typename T>() {
      if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
        const T* a = static_cast<const T*>(g.a->data_ptr());
        const T* b = static_cast<const T*>(g.b->data_ptr());
        T* c = static_cast<T*>(g.c->data_ptr());
        split_gemm(g, [&](int64_t bi, int64_t r0, int64_t r1) {
          T* cb = c + bi * g.stride_c;
          blas_rows(g, a + bi * g.stride_a, b + bi * g.stride_b, cb, r0, r1);
          if (g.bias) add_bias(cb + r0 * g.ldc, static_cast<const T*>(g.bias->data_ptr()), r1 - r0, g.n, g.ldc);
        });
      }
    });
    return;
  }
  // f16/bf16: widen each matrix to f32, multiply, narrow back (one matrix per task).
  dispatch_floating(dt, "gemm", [&]<typename T>() {
    split_gemm({.a = g.a,
                .b = g.b,
                .c = g.c,
                .bias = g.bias,
                .trans_a = g.trans_a,
                .trans_b = g.trans_b,
                .batch = g.batch,
                .m = 1,
                .n = g.n,
                .k = g.k},
               [&](int64_t bi, int64_t, int64_t) {
                 std::vector<float> a32(size_t(a_rows * a_cols)), b32(size_t(b_rows * b_cols)), c32(size_t(g.m * g.n));
                 const T* a = static_cast<const T*>(g.a->data_ptr()) + bi * g.stride_a;
                 const T* b = static_cast<const T*>(g.b->data_ptr()) + bi * g.stride_b;
                 T* c = static_cast<T*>(g.c->data_ptr()) + bi * g.stride_c;
                 widen(a, a_rows, a_cols, g.lda, a32.data());
                 widen(b, b_rows, b_cols, g.ldb, b32.data());
                 if (g.beta != 0.f) widen(c, g.m, g.n, g.ldc, c32.data());
                 cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, g.alpha, a32.data(), int(a_cols), b32.data(), int(b_cols),
                             g.beta, c32.data(), n);
                 if (g.bias) {
                   const T* bias = static_cast<const T*>(g.bias->data_ptr());
                   for (int64_t r = 0; r < g.m; ++r)
                     for (int64_t j = 0; j < g.n; ++j) c32[size_t(r * g.n + j)] += float(bias[j]);
                 }
                 for (int64_t r = 0; r < g.m; ++r)
                   for (int64_t j = 0; j < g.n; ++j) c[r * g.ldc + j] = T(c32[size_t(r * g.n + j)]);
               });
  });
}

}  // namespace clipt::cpu
