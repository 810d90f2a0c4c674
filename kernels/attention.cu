// Fused self-attention, head dim 64 (formulas in kernels/attention_math.h):
//   forward   o_i = Σ_j softmax_j(scale·q_i·k_j) v_j over the visible keys j of [shared prefix, own keys]
//             (causal: j <= i + P), by an online softmax; lse_i = log Σ_j exp(scale·q_i·k_j) is saved.
//   backward  p_ij = exp(scale·q_i·k_j − lse_i) recomputed, δ_i = dout_i·o_i, ds_ij = p_ij(dout_i·v_j − δ_i),
//             dq_i = scale·Σ_j ds_ij k_j, dk_j = scale·Σ_i ds_ij q_i, dv_j = Σ_i p_ij dout_i.
// Fused: the QKV split (q, k, v read in place from the projection's [B, L, 3, H, 64] rows), the scale,
// the causal mask with the prefix offset, softmax, both products and the head merge (out written as
// [B, L, H, 64]); no score matrix exists in memory. Accumulation in f32 (f64 for f64).
// Layout of the work: one thread per query row (forward, dq) or per key row (dk, dv) with the row's
// vectors in registers; the other side streams through shared memory in tiles of 64 rows (f64: 32), so
// each k/v (q/dout) row is read from global memory once per block. The prefix keys' gradients are
// computed per row into scratch and then summed over each group in a fixed order (deterministic).
#include "kernels/attention.h"
#include "kernels/attention_math.h"
#include "kernels/device_common.cuh"

namespace clipt::kernels {

namespace {

constexpr int D = kAttentionHeadDim;
constexpr int kRows = 64;  // threads per block = rows owned per block

template <typename A> constexpr int tile_rows() { return sizeof(A) == 8 ? 32 : 64; }

struct Geometry {
  int64_t batch, len, heads, groups, prefix, members;
  bool causal;
  double scale;
};

Geometry geometry(const AttentionShape& s) {
  return {s.batch,  s.len,  s.heads, s.groups, s.groups > 0 ? s.prefix_len : 0, s.groups > 0 ? s.batch / s.groups : 1,
          s.causal, s.scale};
}

// Head vector of key `key` (index into [prefix, own]) of row b, part 1 (k) or 2 (v).
template <typename T> __device__ __forceinline__ const T* key_row(const T* qkv, const T* prefix, const Geometry& g,
                                                                  int64_t b, int64_t h, int64_t key, int part) {
  if (key < g.prefix) return prefix + ((b / g.members * g.prefix + key) * 3 + part) * g.heads * D + h * D;
  return qkv + ((b * g.len + key - g.prefix) * 3 + part) * g.heads * D + h * D;
}

template <typename T, typename A> __device__ __forceinline__ void load_vector(const T* src, A (&dst)[D]) {
#pragma unroll
  for (int c = 0; c < D; ++c) dst[c] = A(to_compute(src[c]));
}

template <typename A> __device__ __forceinline__ A dot(const A (&x)[D], const A* y) {
  A acc = 0;
#pragma unroll
  for (int c = 0; c < D; ++c) acc += x[c] * y[c];
  return acc;
}

// Cooperatively copies key rows [j0, j0 + n) (part k and v) of row b into shared tiles.
template <typename T, typename A, int Tile>
__device__ void load_key_tile(const T* qkv, const T* prefix, const Geometry& g, int64_t b, int64_t h, int64_t j0,
                              int64_t n, A (*ks)[D + 1], A (*vs)[D + 1]) {
  for (int idx = threadIdx.x; idx < Tile * D; idx += blockDim.x) {
    const int r = idx / D, c = idx % D;
    if (r < n) {
      ks[r][c] = A(to_compute(key_row(qkv, prefix, g, b, h, j0 + r, 1)[c]));
      vs[r][c] = A(to_compute(key_row(qkv, prefix, g, b, h, j0 + r, 2)[c]));
    }
  }
}

// Keys visible to some query of the block owning queries [i0, i0 + kRows).
__device__ __forceinline__ int64_t block_key_end(const Geometry& g, int64_t i0) {
  const int64_t last = (i0 + kRows < g.len ? i0 + kRows : g.len) - 1;
  return attention::visible_keys(last, g.prefix, g.len, g.causal);
}

template <typename T, typename A> __global__ void __launch_bounds__(kRows)
    forward_kernel(const T* qkv, const T* prefix, T* out, A* lse, Geometry g) {
  constexpr int Tile = tile_rows<A>();
  __shared__ A ks[Tile][D + 1], vs[Tile][D + 1];
  const int64_t b = blockIdx.z, h = blockIdx.y, i0 = int64_t(blockIdx.x) * kRows, i = i0 + threadIdx.x;
  const bool active = i < g.len;
  A q[D], acc[D];
  attention::RowState<A> st{A(-INFINITY), A(0)};
#pragma unroll
  for (int c = 0; c < D; ++c) acc[c] = 0;
  if (active) load_vector(qkv + ((b * g.len + i) * 3) * g.heads * D + h * D, q);
  const int64_t vis = active ? attention::visible_keys(i, g.prefix, g.len, g.causal) : 0;
  const int64_t kend = block_key_end(g, i0);
  for (int64_t j0 = 0; j0 < kend; j0 += Tile) {
    const int64_t n = kend - j0 < Tile ? kend - j0 : Tile;
    load_key_tile<T, A, Tile>(qkv, prefix, g, b, h, j0, n, ks, vs);
    __syncthreads();
    for (int r = 0; r < n && j0 + r < vis; ++r) {
      const A s = dot(q, ks[r]) * A(g.scale);
      const A factor = attention::rescale_for_block(st, s);
      if (factor != A(1)) {
#pragma unroll
        for (int c = 0; c < D; ++c) acc[c] *= factor;
      }
      const A p = A(exp(s - st.m));
      st.l += p;
#pragma unroll
      for (int c = 0; c < D; ++c) acc[c] += p * vs[r][c];
    }
    __syncthreads();
  }
  if (!active) return;
  T* o = out + (b * g.len + i) * g.heads * D + h * D;
  const A inv = A(1) / st.l;
#pragma unroll
  for (int c = 0; c < D; ++c) o[c] = from_compute<T>(acc[c] * inv);
  lse[(b * g.heads + h) * g.len + i] = attention::log_sum_exp(st);
}

// dq (and δ, saved for the key-side kernel): one thread per query row.
template <typename T, typename A> __global__ void __launch_bounds__(kRows)
    dq_kernel(const T* qkv, const T* prefix, const T* out, const T* dout, const A* lse, A* delta, T* dqkv, Geometry g) {
  constexpr int Tile = tile_rows<A>();
  __shared__ A ks[Tile][D + 1], vs[Tile][D + 1];
  const int64_t b = blockIdx.z, h = blockIdx.y, i0 = int64_t(blockIdx.x) * kRows, i = i0 + threadIdx.x;
  const bool active = i < g.len;
  A q[D], go[D], dq[D];
  A d_i = 0, lse_i = 0;
#pragma unroll
  for (int c = 0; c < D; ++c) dq[c] = 0;
  if (active) {
    load_vector(qkv + ((b * g.len + i) * 3) * g.heads * D + h * D, q);
    load_vector(dout + (b * g.len + i) * g.heads * D + h * D, go);
    const T* o = out + (b * g.len + i) * g.heads * D + h * D;
#pragma unroll
    for (int c = 0; c < D; ++c) d_i += go[c] * A(to_compute(o[c]));
    lse_i = lse[(b * g.heads + h) * g.len + i];
    delta[(b * g.heads + h) * g.len + i] = d_i;
  }
  const int64_t vis = active ? attention::visible_keys(i, g.prefix, g.len, g.causal) : 0;
  const int64_t kend = block_key_end(g, i0);
  for (int64_t j0 = 0; j0 < kend; j0 += Tile) {
    const int64_t n = kend - j0 < Tile ? kend - j0 : Tile;
    load_key_tile<T, A, Tile>(qkv, prefix, g, b, h, j0, n, ks, vs);
    __syncthreads();
    for (int r = 0; r < n && j0 + r < vis; ++r) {
      const A p = attention::probability(dot(q, ks[r]) * A(g.scale), lse_i);
      const A ds = attention::score_grad(p, dot(go, vs[r]), d_i) * A(g.scale);
#pragma unroll
      for (int c = 0; c < D; ++c) dq[c] += ds * ks[r][c];
    }
    __syncthreads();
  }
  if (!active) return;
  T* dst = dqkv + ((b * g.len + i) * 3) * g.heads * D + h * D;
#pragma unroll
  for (int c = 0; c < D; ++c) dst[c] = from_compute<T>(dq[c]);
}

// dk, dv: one thread per key row of row b. Own keys (Prefix = false) are written into dqkv; prefix keys
// (Prefix = true) into partial[b, h, key, {k, v}, D] (f32/f64), summed over each group afterwards.
template <typename T, typename A, bool Prefix> __global__ void __launch_bounds__(kRows)
    dkdv_kernel(const T* qkv, const T* prefix, const T* dout, const A* lse, const A* delta, T* dqkv, A* partial,
                Geometry g) {
  constexpr int Tile = tile_rows<A>();
  __shared__ A qs[Tile][D + 1], gs[Tile][D + 1];
  __shared__ A lse_s[Tile], delta_s[Tile];
  const int64_t b = blockIdx.z, h = blockIdx.y, j0 = int64_t(blockIdx.x) * kRows, j = j0 + threadIdx.x;
  const int64_t keys = Prefix ? g.prefix : g.len;
  const bool active = j < keys;
  const int64_t key = Prefix ? j : g.prefix + j;  // index in [prefix, own]
  A k[D], v[D], dk[D], dv[D];
#pragma unroll
  for (int c = 0; c < D; ++c) dk[c] = dv[c] = 0;
  if (active) {
    load_vector(key_row(qkv, prefix, g, b, h, key, 1), k);
    load_vector(key_row(qkv, prefix, g, b, h, key, 2), v);
  }
  // Queries that see some key of this block: all of them, or (causal, own keys) i >= j0.
  const int64_t first_query = (!Prefix && g.causal) ? j0 : 0;
  for (int64_t i0 = first_query; i0 < g.len; i0 += Tile) {
    const int64_t n = g.len - i0 < Tile ? g.len - i0 : Tile;
    for (int idx = threadIdx.x; idx < Tile * D; idx += blockDim.x) {
      const int r = idx / D, c = idx % D;
      if (r < n) {
        qs[r][c] = A(to_compute(qkv[((b * g.len + i0 + r) * 3) * g.heads * D + h * D + c]));
        gs[r][c] = A(to_compute(dout[(b * g.len + i0 + r) * g.heads * D + h * D + c]));
      }
    }
    for (int r = threadIdx.x; r < n; r += blockDim.x) {
      lse_s[r] = lse[(b * g.heads + h) * g.len + i0 + r];
      delta_s[r] = delta[(b * g.heads + h) * g.len + i0 + r];
    }
    __syncthreads();
    if (active) {
      for (int r = 0; r < n; ++r) {
        if (key >= attention::visible_keys(i0 + r, g.prefix, g.len, g.causal)) continue;
        A s = 0, dp = 0;
#pragma unroll
        for (int c = 0; c < D; ++c) {
          s += qs[r][c] * k[c];
          dp += gs[r][c] * v[c];
        }
        const A p = attention::probability(s * A(g.scale), lse_s[r]);
        const A ds = attention::score_grad(p, dp, delta_s[r]) * A(g.scale);
#pragma unroll
        for (int c = 0; c < D; ++c) {
          dv[c] += p * gs[r][c];
          dk[c] += ds * qs[r][c];
        }
      }
    }
    __syncthreads();
  }
  if (!active) return;
  if constexpr (Prefix) {
    A* dst = partial + ((b * g.heads + h) * g.prefix + j) * 2 * D;
#pragma unroll
    for (int c = 0; c < D; ++c) {
      dst[c] = dk[c];
      dst[D + c] = dv[c];
    }
  } else {
    T* dst = dqkv + (b * g.len + j) * 3 * g.heads * D + h * D;
#pragma unroll
    for (int c = 0; c < D; ++c) {
      dst[g.heads * D + c] = from_compute<T>(dk[c]);
      dst[2 * g.heads * D + c] = from_compute<T>(dv[c]);
    }
  }
}

// dprefix[g, j, 1 + part, h, c] = Σ_m partial[g·members + m, h, j, part, c], members in order.
template <typename T, typename A> __global__ void prefix_sum_kernel(const A* partial, T* dprefix, Geometry g) {
  const int64_t total = g.groups * g.prefix * g.heads * 2 * D;
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < total; e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t c = e % D, part = (e / D) % 2, h = (e / (2 * D)) % g.heads, j = (e / (2 * D * g.heads)) % g.prefix;
    const int64_t grp = e / (2 * D * g.heads * g.prefix);
    A acc = 0;
    for (int64_t m = 0; m < g.members; ++m)
      acc += partial[(((grp * g.members + m) * g.heads + h) * g.prefix + j) * 2 * D + part * D + c];
    dprefix[((grp * g.prefix + j) * 3 + 1 + part) * g.heads * D + h * D + c] = from_compute<T>(acc);
  }
}

template <typename A> size_t scratch_bytes(const Geometry& g) {
  return sizeof(A) * size_t(g.batch * g.heads * g.len + g.batch * g.heads * g.prefix * 2 * D);
}

unsigned blocks_of(int64_t rows) { return unsigned((rows + kRows - 1) / kRows); }

}  // namespace

cudaError_t attention_forward(KDType dtype, const void* qkv, const void* prefix_qkv, void* out, void* lse,
                              const AttentionShape& s, cudaStream_t stream) {
  const Geometry g = geometry(s);
  const bool ok = dispatch_float(dtype, [&]<typename T>() {
    using A = compute_t<T>;
    const dim3 grid(blocks_of(g.len), unsigned(g.heads), unsigned(g.batch));
    forward_kernel<T, A><<<grid, kRows, 0, stream>>>(static_cast<const T*>(qkv), static_cast<const T*>(prefix_qkv),
                                                     static_cast<T*>(out), static_cast<A*>(lse), g);
  });
  return launch_status(ok);
}

size_t attention_backward_scratch_bytes(KDType dtype, const AttentionShape& s) {
  const Geometry g = geometry(s);
  return dtype == KDType::F64 ? scratch_bytes<double>(g) : scratch_bytes<float>(g);
}

cudaError_t attention_backward(KDType dtype, const void* qkv, const void* prefix_qkv, const void* out, const void* dout,
                               const void* lse, void* dqkv, void* dprefix_qkv, void* scratch, const AttentionShape& s,
                               cudaStream_t stream) {
  const Geometry g = geometry(s);
  const bool ok = dispatch_float(dtype, [&]<typename T>() {
    using A = compute_t<T>;
    const T* q = static_cast<const T*>(qkv);
    const T* p = static_cast<const T*>(prefix_qkv);
    const T* o = static_cast<const T*>(out);
    const T* go = static_cast<const T*>(dout);
    const A* l = static_cast<const A*>(lse);
    A* delta = static_cast<A*>(scratch);
    A* partial = delta + g.batch * g.heads * g.len;
    T* dq = static_cast<T*>(dqkv);
    const dim3 rows(blocks_of(g.len), unsigned(g.heads), unsigned(g.batch));
    dq_kernel<T, A><<<rows, kRows, 0, stream>>>(q, p, o, go, l, delta, dq, g);
    dkdv_kernel<T, A, false><<<rows, kRows, 0, stream>>>(q, p, go, l, delta, dq, partial, g);
    if (g.prefix > 0 && dprefix_qkv != nullptr) {
      const dim3 prefix_rows(blocks_of(g.prefix), unsigned(g.heads), unsigned(g.batch));
      dkdv_kernel<T, A, true><<<prefix_rows, kRows, 0, stream>>>(q, p, go, l, delta, dq, partial, g);
      prefix_sum_kernel<T, A><<<grid_for(g.groups * g.prefix * g.heads * 2 * D), kThreads, 0, stream>>>(
          partial, static_cast<T*>(dprefix_qkv), g);
    }
  });
  return launch_status(ok);
}

}  // namespace clipt::kernels
