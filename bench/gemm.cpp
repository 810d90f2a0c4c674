// GEMM benchmark: our cuBLASLt wrapper (Backend::gemm, cached heuristic plan) against the best cuBLASLt
// algorithm found by timing the heuristic's top candidates on the same problem, at CLIP's shapes:
//   ViT-B/16 linears: M = batch·197 (batch 32, 100), (K, N) ∈ {(768, 768), (768, 3072), (3072, 768)}
//   text tower:       M = classes·77 (100, 1000 classes), (K, N) ∈ {(512, 512), (512, 2048), (2048, 512)}
// in fp16, bf16 and tf32. y = x·wᵀ with x [M, K] and w [N, K] row-major, as Linear does.
// Prints one JSON object per line: name, dtype, shape, figure (TFLOP/s), reference, ratio, device.
// Without a GPU it prints one line saying it was skipped and exits 0.
#include <cstdio>
#include <string>
#include <vector>

#include "engine/core/backend.h"
#include "engine/ops/random.h"

#ifdef CLIPT_WITH_CUDA
#include <cublasLt.h>
#include <cuda_runtime_api.h>

#include "engine/cpu/blas_kernels.h"
#include "engine/cuda/cuda_backend.h"
#include "engine/runtime/context.h"
#include "engine/runtime/cuda_check.h"
#endif

namespace clipt {
namespace {

#ifdef CLIPT_WITH_CUDA

struct Shape3 {
  std::string name;
  int64_t m, k, n;
};

std::vector<Shape3> shapes() {
  std::vector<Shape3> v;
  for (int64_t batch : {32, 100})
    for (auto [k, n, tag] : {std::tuple{768, 768, "attn_out"}, {768, 3072, "mlp_fc"}, {3072, 768, "mlp_proj"}})
      v.push_back({"vit_b16_b" + std::to_string(batch) + "_" + tag, batch * 197, k, n});
  for (int64_t classes : {100, 1000})
    for (auto [k, n, tag] : {std::tuple{512, 512, "attn_out"}, {512, 2048, "mlp_fc"}, {2048, 512, "mlp_proj"}})
      v.push_back({"text_c" + std::to_string(classes) + "_" + tag, classes * 77, k, n});
  return v;
}

// Milliseconds per call of f, averaged over `iters` after `warmup` calls, timed with events on `s`.
template <typename F> double time_ms(cudaStream_t s, int warmup, int iters, F&& f) {
  for (int i = 0; i < warmup; ++i) f();
  cudaEvent_t a, b;
  CLIPT_CUDA_CHECK(cudaEventCreate(&a));
  CLIPT_CUDA_CHECK(cudaEventCreate(&b));
  CLIPT_CUDA_CHECK(cudaEventRecord(a, s));
  for (int i = 0; i < iters; ++i) f();
  CLIPT_CUDA_CHECK(cudaEventRecord(b, s));
  CLIPT_CUDA_CHECK(cudaEventSynchronize(b));
  float ms = 0;
  CLIPT_CUDA_CHECK(cudaEventElapsedTime(&ms, a, b));
  cudaEventDestroy(a);
  cudaEventDestroy(b);
  return double(ms) / iters;
}

// The best of cuBLASLt's top heuristic candidates for the same column-major problem our wrapper builds
// (cuBLASLt A = w with op T, B = x, C = yᵀ), each timed; returns TFLOP/s.
double best_cublaslt_tflops(const Tensor& x, const Tensor& w, Tensor& y, DType dt, bool tf32, cudaStream_t s, int64_t m,
                            int64_t k, int64_t n) {
  const cudaDataType_t type = dt == DType::F16 ? CUDA_R_16F : dt == DType::BF16 ? CUDA_R_16BF : CUDA_R_32F;
  const cublasComputeType_t compute = tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
  cublasLtHandle_t lt = cuda::context(0).lt;
  cublasLtMatmulDesc_t desc;
  CLIPT_CUBLAS_CHECK(cublasLtMatmulDescCreate(&desc, compute, CUDA_R_32F));
  const cublasOperation_t opt = CUBLAS_OP_T, opn = CUBLAS_OP_N;
  CLIPT_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_TRANSA, &opt, sizeof(opt)));
  CLIPT_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_TRANSB, &opn, sizeof(opn)));
  cublasLtMatrixLayout_t la, lb, lc;
  CLIPT_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&la, type, uint64_t(k), uint64_t(n), k));
  CLIPT_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&lb, type, uint64_t(k), uint64_t(m), k));
  CLIPT_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&lc, type, uint64_t(n), uint64_t(m), n));
  cublasLtMatmulPreference_t pref;
  CLIPT_CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&pref));
  const uint64_t ws_bytes = cuda::kGemmWorkspaceBytes;
  CLIPT_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws_bytes,
                                                          sizeof(ws_bytes)));
  constexpr int kCandidates = 16;
  cublasLtMatmulHeuristicResult_t results[kCandidates] = {};
  int found = 0;
  CLIPT_CUBLAS_CHECK(cublasLtMatmulAlgoGetHeuristic(lt, desc, la, lb, lc, lc, pref, kCandidates, results, &found));
  void* ws = cuda::gemm_workspace(0, s);
  const float alpha = 1.f, beta = 0.f;
  const double flops = 2.0 * double(m) * double(n) * double(k);
  double best = 0;
  for (int i = 0; i < found; ++i) {
    if (results[i].workspaceSize > ws_bytes) continue;
    bool ok = true;
    const double ms = time_ms(s, 2, 10, [&] {
      if (cublasLtMatmul(lt, desc, &alpha, w.data_ptr(), la, x.data_ptr(), lb, &beta, y.data_ptr(), lc, y.data_ptr(),
                         lc, &results[i].algo, ws, ws_bytes, s) != CUBLAS_STATUS_SUCCESS)
        ok = false;
    });
    if (ok) best = std::max(best, flops / (ms * 1e-3) / 1e12);
  }
  cublasLtMatmulPreferenceDestroy(pref);
  cublasLtMatrixLayoutDestroy(la);
  cublasLtMatrixLayoutDestroy(lb);
  cublasLtMatrixLayoutDestroy(lc);
  cublasLtMatmulDescDestroy(desc);
  return best;
}

int run() {
  const Device dev = Device::cuda(0);
  const std::string gpu = cuda::context(0).name;
  const cudaStream_t s = cuda::current_stream(0);
  Backend& be = cuda_backend();
  Generator gen(1);
  struct Precision {
    const char* name;
    DType dtype;
    bool tf32;
  };
  for (const Precision& p : {Precision{"fp16", DType::F16, false}, Precision{"bf16", DType::BF16, false},
                             Precision{"tf32", DType::F32, true}}) {
    cuda::set_allow_tf32(p.tf32);
    for (const Shape3& sh : shapes()) {
      Tensor x = rand({sh.m, sh.k}, gen, p.dtype, dev), w = rand({sh.n, sh.k}, gen, p.dtype, dev);
      Tensor y = Tensor::empty({sh.m, sh.n}, p.dtype, dev);
      GemmArgs g;
      g.a = &x;
      g.b = &w;
      g.c = &y;
      g.trans_b = true;
      g.m = sh.m;
      g.n = sh.n;
      g.k = sh.k;
      g.lda = sh.k;
      g.ldb = sh.k;
      g.ldc = sh.n;
      const double flops = 2.0 * double(sh.m) * double(sh.n) * double(sh.k);
      const double ours = flops / (time_ms(s, 3, 20, [&] { be.gemm(g); }) * 1e-3) / 1e12;
      const double ref = best_cublaslt_tflops(x, w, y, p.dtype, p.tf32, s, sh.m, sh.k, sh.n);
      std::printf(
          "{\"bench\": \"gemm\", \"name\": \"%s\", \"dtype\": \"%s\", \"shape\": {\"m\": %lld, \"n\": %lld, \"k\": "
          "%lld}, \"figure\": %.2f, \"unit\": \"TFLOP/s\", \"reference\": %.2f, \"reference_kind\": \"best of "
          "cuBLASLt top-16 heuristic algorithms\", \"ratio\": %.3f, \"device\": \"%s\"}\n",
          sh.name.c_str(), p.name, (long long)sh.m, (long long)sh.n, (long long)sh.k, ours, ref,
          ref > 0 ? ours / ref : 0.0, gpu.c_str());
      std::fflush(stdout);
    }
  }
  cuda::set_allow_tf32(false);
  return 0;
}

#endif

}  // namespace
}  // namespace clipt

int main(int, char** argv) {
  clipt::cpu::use_native_blas_kernels(argv);  // the GEMMs users get (engine/cpu/blas_kernels.h)
  try {
    if (!clipt::cuda_available()) {
      std::printf("{\"bench\": \"gemm\", \"skipped\": true, \"reason\": \"no CUDA device\"}\n");
      return 0;
    }
#ifdef CLIPT_WITH_CUDA
    return clipt::run();
#endif
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_gemm: %s\n", e.what());
    return 1;
  }
  return 0;
}
