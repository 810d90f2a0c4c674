// The formulas of fused attention, written once for the CPU backend (engine/cpu/attention.cpp) and the
// CUDA kernels (kernels/attention.cu):
//   visibility: key j of the concatenation [shared prefix (P keys), own keys] is visible from query i
//               when j <= i + P under the causal mask, always otherwise;
//   forward:    online softmax over key blocks: a running maximum m and sum l per query row; a block
//               with maximum m' rescales l and the output accumulator by exp(m − max(m, m'));
//               out = acc / l, lse = m + log l;
//   backward:   p = exp(s·scale − lse) recomputed, δ = Σ dout⊙out, ds = p·(dp − δ) with dp = dout·v;
//               dq = scale·Σ ds·k, dk = scale·Σ ds·q, dv = Σ p·dout.
#pragma once
#include <cmath>
#include <cstdint>

#if defined(__CUDACC__)
#define CLIPT_ATTN_HD __host__ __device__ __forceinline__
#else
#define CLIPT_ATTN_HD inline
#endif

namespace clipt::attention {

// Number of visible keys (a prefix of the concatenated key order) for query i.
CLIPT_ATTN_HD int64_t visible_keys(int64_t i, int64_t prefix_len, int64_t len, bool causal) {
  return causal ? prefix_len + i + 1 : prefix_len + len;
}

// Running softmax statistics of one query row.
template <typename A> struct RowState {
  A m;  // maximum scaled score so far (−inf before the first key)
  A l;  // Σ exp(score − m)
};

// Folds a block whose maximum is block_max: returns the factor that rescales l and the accumulator,
// and moves m to the new maximum. The block's exp(score − m) terms are then added with the new m.
template <typename A> CLIPT_ATTN_HD A rescale_for_block(RowState<A>& st, A block_max) {
  if (!(block_max > st.m)) return A(1);
  const A factor = st.m == -INFINITY ? A(0) : A(std::exp(st.m - block_max));
  st.m = block_max;
  st.l *= factor;
  return factor;
}

template <typename A> CLIPT_ATTN_HD A log_sum_exp(const RowState<A>& st) { return st.m + A(std::log(st.l)); }

// Recomputed probability of a visible key and the score gradient.
template <typename A> CLIPT_ATTN_HD A probability(A scaled_score, A lse) { return A(std::exp(scaled_score - lse)); }
template <typename A> CLIPT_ATTN_HD A score_grad(A p, A dp, A delta) { return p * (dp - delta); }

}  // namespace clipt::attention
