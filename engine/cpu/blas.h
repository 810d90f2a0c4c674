// OpenBLAS as the CPU backend uses it: single-threaded (the work is split with OpenMP by the callers; two
// thread pools spinning against each other made every op slow on a loaded 2-core machine), and a typed
// row-major GEMM for f32/f64 tiles.
#pragma once
#include <cblas.h>

#include <type_traits>

namespace clipt::cpu {

// Sets OpenBLAS to one thread, once per process.
void single_threaded_blas();

// C = alpha·op(A)·op(B) + beta·C, row-major, for float or double.
template <typename A> inline void blas_gemm(bool trans_a, bool trans_b, int m, int n, int k, A alpha, const A* a,
                                            int lda, const A* b, int ldb, A beta, A* c, int ldc) {
  const auto ta = trans_a ? CblasTrans : CblasNoTrans, tb = trans_b ? CblasTrans : CblasNoTrans;
  if constexpr (std::is_same_v<A, float>)
    cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  else
    cblas_dgemm(CblasRowMajor, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

}  // namespace clipt::cpu
