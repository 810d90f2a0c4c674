// GEMM on cuBLASLt: C[b] = alpha·op(A[b])·op(B[b]) + beta·C[b] (+ bias[n]) for row-major operands.
//
// cuBLASLt is column-major. A row-major r×c matrix with leading dimension ld is the same memory as a
// column-major c×r matrix, so the row-major product C = A·B is computed as the column-major product
// Cᵀ = Bᵀ·Aᵀ: our B is cuBLASLt's A and our A its B, with the transposes passed through unchanged and
// m/n swapped. The bias epilogue (bias per row of the column-major D = per column of our C) matches
// `bias[n]` broadcast over rows.
//
// f32 computes in f32 (CUBLAS_COMPUTE_32F, or TF32 tensor cores when allowed), f16/bf16 in f32 with f32
// scale, f64 in f64. Matmul descriptor, layouts and the heuristic's algorithms are cached per shape,
// dtype, transposes, strides and pointer alignment — built once, never per call. Each stream gets its own
// workspace (engine/runtime/context.h).
//
// The heuristic is asked for several algorithms, and only those it marks usable (state SUCCESS) are kept.
// They are tried in order; one that cuBLASLt refuses at run time is dropped for that key. When none is
// left (odd alignments, e.g. 2-byte-aligned fp16 views at a text length of 24, or a bias epilogue that
// has no kernel), the classic cublasGemmStridedBatchedEx runs the same product: any shape that a plain
// GEMM can do never raises.
#include <cublasLt.h>
#include <cublas_v2.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "engine/cuda/cuda_backend.h"
#include "engine/cuda/launch.h"
#include "engine/runtime/nvtx.h"
#include "kernels/elementwise.h"

namespace clipt::cuda {

namespace {

std::atomic<int> g_tf32{-1};  // -1: not yet read from the environment

struct GemmKey {
  int device;
  DType dtype;
  bool tf32, trans_a, trans_b, bias_epilogue, beta_nonzero;
  int64_t batch, m, n, k, lda, ldb, ldc, stride_a, stride_b, stride_c;
  uint32_t align_a, align_b, align_c;
  bool operator==(const GemmKey&) const = default;
};

struct GemmKeyHash {
  size_t operator()(const GemmKey& k) const {
    size_t h = 1469598103934665603ull;
    auto mix = [&h](uint64_t v) { h = (h ^ v) * 1099511628211ull; };
    mix(uint64_t(k.device));
    mix(uint64_t(k.dtype));
    mix(uint64_t(k.tf32) | uint64_t(k.trans_a) << 1 | uint64_t(k.trans_b) << 2 | uint64_t(k.bias_epilogue) << 3 |
        uint64_t(k.beta_nonzero) << 4);
    for (int64_t v : {k.batch, k.m, k.n, k.k, k.lda, k.ldb, k.ldc, k.stride_a, k.stride_b, k.stride_c})
      mix(uint64_t(v));
    mix(uint64_t(k.align_a) | uint64_t(k.align_b) << 16 | uint64_t(k.align_c) << 32);
    return h;
  }
};

// cuBLASLt objects for one key; created once and kept for the life of the process.
struct GemmPlan {
  cublasLtMatmulDesc_t desc = nullptr;
  cublasLtMatrixLayout_t lt_a = nullptr, lt_b = nullptr, lt_c = nullptr;  // cuBLASLt's A (= our B), B (= our A), C/D
  std::vector<cublasLtMatmulAlgo_t> algos;                                // usable algorithms, best first
  bool supported() const { return !algos.empty(); }
};

constexpr int kHeuristicAlgos = 8;

std::mutex g_cache_mutex;
std::unordered_map<GemmKey, GemmPlan, GemmKeyHash> g_cache;
std::mutex g_cublas_mutex;
std::unordered_map<int, cublasHandle_t> g_cublas_handles;  // f64 fallback only

cudaDataType_t cuda_type(DType t) {
  switch (t) {
    case DType::F32: return CUDA_R_32F;
    case DType::F64: return CUDA_R_64F;
    case DType::F16: return CUDA_R_16F;
    case DType::BF16: return CUDA_R_16BF;
    default: fail("gemm: unsupported dtype {} on CUDA (expected f32, f64, f16 or bf16)", dtype_name(t));
  }
}

// Largest power of two (≤ 256) dividing the address and, for batched operands, the batch stride in bytes.
uint32_t alignment_of(const void* p, int64_t batch, int64_t stride_elems, size_t elem) {
  uint64_t v = reinterpret_cast<uintptr_t>(p) | 256u;
  if (batch > 1 && stride_elems != 0) v |= uint64_t(stride_elems) * elem;
  return uint32_t(v & (~v + 1));
}

template <typename T> void set_desc(cublasLtMatmulDesc_t d, cublasLtMatmulDescAttributes_t attr, const T& value) {
  CLIPT_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(d, attr, &value, sizeof(value)));
}

template <typename T> void set_layout(cublasLtMatrixLayout_t l, cublasLtMatrixLayoutAttribute_t attr, const T& value) {
  CLIPT_CUBLAS_CHECK(cublasLtMatrixLayoutSetAttribute(l, attr, &value, sizeof(value)));
}

cublasLtMatrixLayout_t make_layout(cudaDataType_t type, int64_t rows, int64_t cols, int64_t ld, int64_t batch,
                                   int64_t stride) {
  cublasLtMatrixLayout_t l = nullptr;
  CLIPT_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&l, type, uint64_t(rows), uint64_t(cols), ld));
  if (batch > 1) {
    set_layout(l, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, int32_t(batch));
    set_layout(l, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, stride);
  }
  return l;
}

GemmPlan build_plan(const GemmKey& key, cublasLtHandle_t lt) {
  GemmPlan plan;
  const cudaDataType_t type = cuda_type(key.dtype);
  const bool f64 = key.dtype == DType::F64;
  const cublasComputeType_t compute = f64                                     ? CUBLAS_COMPUTE_64F
                                      : (key.dtype == DType::F32 && key.tf32) ? CUBLAS_COMPUTE_32F_FAST_TF32
                                                                              : CUBLAS_COMPUTE_32F;
  CLIPT_CUBLAS_CHECK(cublasLtMatmulDescCreate(&plan.desc, compute, f64 ? CUDA_R_64F : CUDA_R_32F));
  set_desc(plan.desc, CUBLASLT_MATMUL_DESC_TRANSA, key.trans_b ? CUBLAS_OP_T : CUBLAS_OP_N);
  set_desc(plan.desc, CUBLASLT_MATMUL_DESC_TRANSB, key.trans_a ? CUBLAS_OP_T : CUBLAS_OP_N);
  if (key.bias_epilogue) {
    set_desc(plan.desc, CUBLASLT_MATMUL_DESC_EPILOGUE, CUBLASLT_EPILOGUE_BIAS);
    set_desc(plan.desc, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE, int32_t(type));
  }
  // Column-major roles: cuBLASLt's A is our B seen as (trans_b ? k×n : n×k), its B is our A seen as
  // (trans_a ? m×k : k×m), and C/D is n×m.
  plan.lt_a =
      make_layout(type, key.trans_b ? key.k : key.n, key.trans_b ? key.n : key.k, key.ldb, key.batch, key.stride_b);
  plan.lt_b =
      make_layout(type, key.trans_a ? key.m : key.k, key.trans_a ? key.k : key.m, key.lda, key.batch, key.stride_a);
  plan.lt_c = make_layout(type, key.n, key.m, key.ldc, key.batch, key.stride_c);

  cublasLtMatmulPreference_t pref = nullptr;
  CLIPT_CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&pref));
  const uint64_t ws = kGemmWorkspaceBytes;
  CLIPT_CUBLAS_CHECK(
      cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof(ws)));
  const uint32_t aligns[4] = {key.align_b, key.align_a, key.align_c, key.align_c};
  const cublasLtMatmulPreferenceAttributes_t attrs[4] = {
      CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES,
      CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES};
  for (int i = 0; i < 4; ++i)
    CLIPT_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref, attrs[i], &aligns[i], sizeof(aligns[i])));
  cublasLtMatmulHeuristicResult_t results[kHeuristicAlgos] = {};
  int found = 0;
  const cublasStatus_t st = cublasLtMatmulAlgoGetHeuristic(lt, plan.desc, plan.lt_a, plan.lt_b, plan.lt_c, plan.lt_c,
                                                           pref, kHeuristicAlgos, results, &found);
  cublasLtMatmulPreferenceDestroy(pref);
  if (st == CUBLAS_STATUS_SUCCESS)
    for (int i = 0; i < found; ++i)
      if (results[i].state == CUBLAS_STATUS_SUCCESS) plan.algos.push_back(results[i].algo);
  return plan;
}

cublasHandle_t cublas_handle(int device) {
  std::lock_guard<std::mutex> lock(g_cublas_mutex);
  auto it = g_cublas_handles.find(device);
  if (it != g_cublas_handles.end()) return it->second;
  cublasHandle_t h = nullptr;
  CLIPT_CUBLAS_CHECK(cublasCreate(&h));
  g_cublas_handles.emplace(device, h);
  return h;
}

// When cuBLASLt offers no usable algorithm: the classic strided-batched GEMM (any alignment) with the
// same operand swap and the same compute type.
void plain_gemm(const GemmArgs& g, const LaunchContext& lc, bool tf32) {
  cublasHandle_t h = cublas_handle(lc.device);
  std::lock_guard<std::mutex> lock(g_cublas_mutex);
  CLIPT_CUBLAS_CHECK(cublasSetStream(h, lc.stream));
  const DType dt = g.c->dtype();
  const cudaDataType_t type = cuda_type(dt);
  const bool f64 = dt == DType::F64;
  const cublasComputeType_t compute = f64    ? CUBLAS_COMPUTE_64F
                                      : tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32
                                             : CUBLAS_COMPUTE_32F;
  const float alpha_f = g.alpha, beta_f = g.beta;
  const double alpha_d = g.alpha, beta_d = g.beta;
  const void* alpha = f64 ? static_cast<const void*>(&alpha_d) : &alpha_f;
  const void* beta = f64 ? static_cast<const void*>(&beta_d) : &beta_f;
  CLIPT_CUBLAS_CHECK(cublasGemmStridedBatchedEx(
      h, g.trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, g.trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, int(g.n), int(g.m), int(g.k),
      alpha, g.b->data_ptr(), type, int(g.ldb), g.batch > 1 ? g.stride_b : 0, g.a->data_ptr(), type, int(g.lda),
      g.batch > 1 ? g.stride_a : 0, beta, g.c->data_ptr(), type, int(g.ldc), g.batch > 1 ? g.stride_c : 0, int(g.batch),
      compute, CUBLAS_GEMM_DEFAULT));
}

// Whether cuBLASLt refused an algorithm for this problem (try the next one) rather than failing.
bool refused(cublasStatus_t st) {
  return st == CUBLAS_STATUS_NOT_SUPPORTED || st == CUBLAS_STATUS_ARCH_MISMATCH || st == CUBLAS_STATUS_INVALID_VALUE;
}

// C[b, i, :] += bias for a contiguous C (when the epilogue cannot be used).
void add_bias(const GemmArgs& g, const LaunchContext& lc) {
  const Tensor& c = *g.c;
  kernels::Strided<2> geo;
  geo.ndim = 2;
  geo.index32 = g.batch * g.m * g.n < (int64_t(1) << 32);
  geo.sizes[0] = g.batch * g.m;
  geo.sizes[1] = g.n;
  geo.strides[0][0] = g.n;
  geo.strides[0][1] = 1;
  geo.strides[1][0] = 0;
  geo.strides[1][1] = 1;
  CLIPT_LAUNCH(lc, kernels::binary(kernels::BinaryOp::Add, kd(c.dtype()), kd(c.dtype()), c.data_ptr(),
                                   g.bias->data_ptr(), c.data_ptr(), g.batch * g.m * g.n, &geo, lc.stream));
}

}  // namespace

void set_allow_tf32(bool allow) { g_tf32.store(allow ? 1 : 0); }

bool allow_tf32() {
  int v = g_tf32.load();
  if (v < 0) {
    const char* env = std::getenv("CLIPT_TF32");
    v = env != nullptr && env[0] != '\0' && std::strcmp(env, "0") != 0 ? 1 : 0;
    int expected = -1;
    g_tf32.compare_exchange_strong(expected, v);
    v = g_tf32.load();
  }
  return v == 1;
}

void CudaBackend::gemm(const GemmArgs& g) {
  CLIPT_CHECK(g.a && g.b && g.c, "gemm: missing operand");
  CLIPT_NVTX_RANGE("clipt::gemm");
  LaunchContext lc(*g.c);
  require_cuda(*g.a, lc, "gemm", "A");
  require_cuda(*g.b, lc, "gemm", "B");
  const DType dt = g.c->dtype();
  CLIPT_CHECK(g.a->dtype() == dt && g.b->dtype() == dt, "gemm: dtypes {}, {}, {} differ", dtype_name(g.a->dtype()),
              dtype_name(g.b->dtype()), dtype_name(dt));
  CLIPT_CHECK(g.batch >= 1 && g.m >= 1 && g.n >= 1 && g.k >= 1, "gemm: empty problem batch {} m {} n {} k {}", g.batch,
              g.m, g.n, g.k);
  CLIPT_CHECK(g.batch < (int64_t(1) << 31), "gemm: batch {} exceeds cuBLASLt's limit", g.batch);
  const bool has_bias = g.bias != nullptr && g.bias->defined();
  if (has_bias) {
    require_cuda(*g.bias, lc, "gemm", "bias");
    require_contiguous(*g.bias, "gemm", "bias");
    CLIPT_CHECK(g.bias->dtype() == dt && g.bias->numel() == g.n, "gemm: bias {} for n = {} ({})", describe(*g.bias),
                g.n, dtype_name(dt));
  }
  const size_t elem = dtype_size(dt);
  GemmKey key{};
  key.device = lc.device;
  key.dtype = dt;
  key.tf32 = dt == DType::F32 && allow_tf32();
  key.trans_a = g.trans_a;
  key.trans_b = g.trans_b;
  key.beta_nonzero = g.beta != 0.f;
  // The bias epilogue needs beta = 0 and an aligned bias vector; otherwise the bias is a separate add.
  key.bias_epilogue = has_bias && !key.beta_nonzero && reinterpret_cast<uintptr_t>(g.bias->data_ptr()) % 16 == 0;
  key.batch = g.batch;
  key.m = g.m;
  key.n = g.n;
  key.k = g.k;
  key.lda = g.lda;
  key.ldb = g.ldb;
  key.ldc = g.ldc;
  key.stride_a = g.batch > 1 ? g.stride_a : 0;
  key.stride_b = g.batch > 1 ? g.stride_b : 0;
  key.stride_c = g.batch > 1 ? g.stride_c : 0;
  key.align_a = alignment_of(g.a->data_ptr(), g.batch, key.stride_a, elem);
  key.align_b = alignment_of(g.b->data_ptr(), g.batch, key.stride_b, elem);
  key.align_c = alignment_of(g.c->data_ptr(), g.batch, key.stride_c, elem);

  DeviceContext& ctx = context(lc.device);
  void* workspace = gemm_workspace(lc.device, lc.stream);
  bool done = false;
  {
    std::lock_guard<std::mutex> lock(g_cache_mutex);
    auto plan_for = [&](const GemmKey& k) -> GemmPlan& {
      auto it = g_cache.find(k);
      if (it == g_cache.end()) it = g_cache.emplace(k, build_plan(k, ctx.lt)).first;
      return it->second;
    };
    GemmPlan* plan = &plan_for(key);
    // Some (dtype, epilogue) pairs have no kernel: the bias becomes a separate add after a plain product.
    if (!plan->supported() && key.bias_epilogue) {
      key.bias_epilogue = false;
      plan = &plan_for(key);
    }
    if (key.bias_epilogue) {
      const void* bias_ptr = g.bias->data_ptr();
      set_desc(plan->desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, bias_ptr);
    }
    const float alpha_f = g.alpha, beta_f = g.beta;
    const double alpha_d = g.alpha, beta_d = g.beta;
    const bool f64 = dt == DType::F64;
    while (!done && plan->supported()) {
      const cublasStatus_t st = cublasLtMatmul(
          ctx.lt, plan->desc, f64 ? static_cast<const void*>(&alpha_d) : &alpha_f, g.b->data_ptr(), plan->lt_a,
          g.a->data_ptr(), plan->lt_b, f64 ? static_cast<const void*>(&beta_d) : &beta_f, g.c->data_ptr(), plan->lt_c,
          g.c->data_ptr(), plan->lt_c, &plan->algos.front(), workspace, kGemmWorkspaceBytes, lc.stream);
      if (st == CUBLAS_STATUS_SUCCESS) {
        done = true;
      } else if (refused(st)) {
        plan->algos.erase(plan->algos.begin());  // never try it again for this key
      } else {
        CLIPT_CUBLAS_CHECK(st);
      }
    }
  }
  if (!done) {
    // No usable cuBLASLt algorithm: the plain GEMM, with any bias as a separate add.
    key.bias_epilogue = false;
    plain_gemm(g, lc, key.tf32);
  }
  if (has_bias && !key.bias_epilogue) {
    CLIPT_CHECK(g.c->is_contiguous() && g.ldc == g.n && (g.batch == 1 || g.stride_c == g.m * g.n),
                "gemm: a separate bias add needs a contiguous output, got ldc {} for n {}", g.ldc, g.n);
    add_bias(g, lc);
  }
  if (sync_after_launch()) after_launch(cudaSuccess, lc, "cublasLtMatmul", __FILE__, __LINE__);
}

}  // namespace clipt::cuda
