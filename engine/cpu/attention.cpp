// Fused attention on the CPU (the reference of kernels/attention.cu; formulas in kernels/attention_math.h).
// One work unit is one (row, head) in the forward and one (prefix group, head) in the backward, so a
// shared prefix's key/value gradients are summed over its group inside one unit: no races, a fixed
// order. A unit copies its head's q, k, v (prefix keys first) out of the fused QKV rows into dense
// buffers of the compute type, then walks 64×64 tiles of queries × keys with BLAS: the largest score
// storage is one tile, never the L×L matrix, and fully masked key tiles are skipped.
#include <omp.h>

#include <algorithm>
#include <vector>

#include "engine/cpu/blas.h"
#include "engine/cpu/cpu_backend.h"
#include "engine/cpu/dispatch.h"
#include "kernels/attention_math.h"

namespace clipt::cpu {

namespace {

constexpr int64_t kTile = 64;

// Element (row, part, head, 0) of a [rows, 3, H, D] QKV block; part 0 = q, 1 = k, 2 = v.
template <typename T> struct QkvView {
  T* base;
  int64_t heads, head_dim;
  T* at(int64_t row, int part, int64_t h) const { return base + ((row * 3 + part) * heads + h) * head_dim; }
};

// Copies `rows` head vectors (stride between rows: 3·H·D) into a dense [rows, D] buffer of A.
template <typename T, typename A> void gather_rows(const T* src, int64_t rows, int64_t d, int64_t stride, A* dst) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < d; ++c) dst[r * d + c] = A(load(src + r * stride + c));
}

template <typename T, typename A> void scatter_rows(const A* src, int64_t rows, int64_t d, T* dst, int64_t stride) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < d; ++c) store(dst + r * stride + c, src[r * d + c]);
}

// The dense per-(row, head) operands: q [L, D], k and v [P + L, D] (prefix keys first).
template <typename A> struct HeadBuffers {
  std::vector<A> q, k, v;
  void load(const auto& qkv, const auto* prefix, int64_t b, int64_t g, int64_t h, const AttentionArgs& a) {
    const int64_t d = a.head_dim, p = a.prefix_len, l = a.len, stride = 3 * a.heads * d;
    q.resize(size_t(l * d));
    k.resize(size_t((p + l) * d));
    v.resize(size_t((p + l) * d));
    if (p > 0) {
      gather_rows(prefix->at(g * p, 1, h), p, d, stride, k.data());
      gather_rows(prefix->at(g * p, 2, h), p, d, stride, v.data());
    }
    gather_rows(qkv.at(b * l, 0, h), l, d, stride, q.data());
    gather_rows(qkv.at(b * l, 1, h), l, d, stride, k.data() + p * d);
    gather_rows(qkv.at(b * l, 2, h), l, d, stride, v.data() + p * d);
  }
};

// Scaled scores of a query tile against a key tile, with masked entries set to −inf.
template <typename A>
void score_tile(const AttentionArgs& a, const A* q, const A* k, int64_t i0, int64_t mq, int64_t j0, int64_t nk, A* s) {
  const int d = int(a.head_dim);
  blas_gemm<A>(false, true, int(mq), int(nk), d, A(a.scale), q + i0 * d, d, k + j0 * d, d, A(0), s, int(kTile));
  for (int64_t r = 0; r < mq; ++r) {
    const int64_t vis = attention::visible_keys(i0 + r, a.prefix_len, a.len, a.causal);
    for (int64_t c = std::max<int64_t>(vis - j0, 0); c < nk; ++c) s[r * kTile + c] = -INFINITY;
  }
}

// Keys any query of the tile [i0, i0 + mq) can see: [0, key_end).
int64_t key_end(const AttentionArgs& a, int64_t i0, int64_t mq) {
  return attention::visible_keys(i0 + mq - 1, a.prefix_len, a.len, a.causal);
}

template <typename T, typename A> void forward_unit(const AttentionArgs& a, int64_t b, int64_t h, HeadBuffers<A>& hb,
                                                    std::vector<A>& s, std::vector<A>& acc, T* out, A* lse) {
  const int64_t l = a.len, d = a.head_dim, members = a.batch / std::max<int64_t>(a.groups, 1);
  QkvView<const T> qkv{static_cast<const T*>(a.qkv->data_ptr()), a.heads, d};
  QkvView<const T> prefix{a.prefix_qkv ? static_cast<const T*>(a.prefix_qkv->data_ptr()) : nullptr, a.heads, d};
  hb.load(qkv, &prefix, b, a.groups > 0 ? b / members : 0, h, a);
  std::vector<attention::RowState<A>> st(static_cast<size_t>(kTile));
  for (int64_t i0 = 0; i0 < l; i0 += kTile) {
    const int64_t mq = std::min(kTile, l - i0), kend = key_end(a, i0, mq);
    std::fill(st.begin(), st.end(), attention::RowState<A>{A(-INFINITY), A(0)});
    std::fill(acc.begin(), acc.end(), A(0));
    for (int64_t j0 = 0; j0 < kend; j0 += kTile) {
      const int64_t nk = std::min(kTile, kend - j0);
      score_tile(a, hb.q.data(), hb.k.data(), i0, mq, j0, nk, s.data());
      for (int64_t r = 0; r < mq; ++r) {
        A* sr = s.data() + r * kTile;
        A block_max = A(-INFINITY);
        for (int64_t c = 0; c < nk; ++c) block_max = std::max(block_max, sr[c]);
        const A factor = attention::rescale_for_block(st[size_t(r)], block_max);
        if (factor != A(1))
          for (int64_t c = 0; c < d; ++c) acc[size_t(r * d + c)] *= factor;
        A sum = 0;
        for (int64_t c = 0; c < nk; ++c) {
          sr[c] = sr[c] == A(-INFINITY) ? A(0) : A(std::exp(sr[c] - st[size_t(r)].m));
          sum += sr[c];
        }
        st[size_t(r)].l += sum;
      }
      blas_gemm<A>(false, false, int(mq), int(d), int(nk), A(1), s.data(), int(kTile), hb.v.data() + j0 * d, int(d),
                   A(1), acc.data(), int(d));
    }
    T* orow = out + ((b * l + i0) * a.heads + h) * d;
    for (int64_t r = 0; r < mq; ++r) {
      const A inv = A(1) / st[size_t(r)].l;
      for (int64_t c = 0; c < d; ++c) store(orow + r * a.heads * d + c, acc[size_t(r * d + c)] * inv);
      lse[(b * a.heads + h) * l + i0 + r] = attention::log_sum_exp(st[size_t(r)]);
    }
  }
}

template <typename T, typename A> struct BackwardScratch {
  HeadBuffers<A> hb;
  std::vector<A> o, dout, delta, s, dp, dq, dk, dv;
};

// Gradients of one row b (head h): dq and the own keys' dk/dv are written to dqkv; the prefix keys'
// dk/dv are added to rows [0, P) of sc.dk / sc.dv, which the caller keeps across its group.
template <typename T, typename A> void backward_row(const AttentionArgs& a, int64_t b, int64_t g, int64_t h,
                                                    const T* out, const T* dout, const A* lse, T* dqkv,
                                                    BackwardScratch<T, A>& sc) {
  const int64_t l = a.len, d = a.head_dim, p = a.prefix_len, stride = 3 * a.heads * d;
  QkvView<const T> qkv{static_cast<const T*>(a.qkv->data_ptr()), a.heads, d};
  QkvView<const T> prefix{a.prefix_qkv ? static_cast<const T*>(a.prefix_qkv->data_ptr()) : nullptr, a.heads, d};
  sc.hb.load(qkv, &prefix, b, g, h, a);
  const int64_t merged = a.heads * d;
  sc.o.resize(size_t(l * d));
  sc.dout.resize(size_t(l * d));
  sc.delta.resize(size_t(l));
  gather_rows(out + (b * l * a.heads + h) * d, l, d, merged, sc.o.data());
  gather_rows(dout + (b * l * a.heads + h) * d, l, d, merged, sc.dout.data());
  for (int64_t i = 0; i < l; ++i) {
    A acc = 0;
    for (int64_t c = 0; c < d; ++c) acc += sc.dout[size_t(i * d + c)] * sc.o[size_t(i * d + c)];
    sc.delta[size_t(i)] = acc;
  }
  sc.dq.assign(size_t(l * d), A(0));
  std::fill(sc.dk.begin() + p * d, sc.dk.end(), A(0));  // own keys; the prefix rows accumulate
  std::fill(sc.dv.begin() + p * d, sc.dv.end(), A(0));
  const A* lse_row = lse + (b * a.heads + h) * l;
  const int di = int(d), ld = int(kTile);
  for (int64_t i0 = 0; i0 < l; i0 += kTile) {
    const int64_t mq = std::min(kTile, l - i0), kend = key_end(a, i0, mq);
    for (int64_t j0 = 0; j0 < kend; j0 += kTile) {
      const int64_t nk = std::min(kTile, kend - j0);
      score_tile(a, sc.hb.q.data(), sc.hb.k.data(), i0, mq, j0, nk, sc.s.data());
      // dp = dout · vᵀ over the tile.
      blas_gemm<A>(false, true, int(mq), int(nk), di, A(1), sc.dout.data() + i0 * d, di, sc.hb.v.data() + j0 * d, di,
                   A(0), sc.dp.data(), ld);
      for (int64_t r = 0; r < mq; ++r) {
        A* sr = sc.s.data() + r * kTile;
        A* dpr = sc.dp.data() + r * kTile;
        for (int64_t c = 0; c < nk; ++c) {
          const A prob = sr[c] == A(-INFINITY) ? A(0) : attention::probability(sr[c], lse_row[i0 + r]);
          sr[c] = prob;
          dpr[c] = attention::score_grad(prob, dpr[c], sc.delta[size_t(i0 + r)]);  // now ds
        }
      }
      const A scale = A(a.scale);
      // dv += pᵀ·dout, dq += scale·ds·k, dk += scale·dsᵀ·q.
      blas_gemm<A>(true, false, int(nk), di, int(mq), A(1), sc.s.data(), ld, sc.dout.data() + i0 * d, di, A(1),
                   sc.dv.data() + j0 * d, di);
      blas_gemm<A>(false, false, int(mq), di, int(nk), scale, sc.dp.data(), ld, sc.hb.k.data() + j0 * d, di, A(1),
                   sc.dq.data() + i0 * d, di);
      blas_gemm<A>(true, false, int(nk), di, int(mq), scale, sc.dp.data(), ld, sc.hb.q.data() + i0 * d, di, A(1),
                   sc.dk.data() + j0 * d, di);
    }
  }
  QkvView<T> dst{dqkv, a.heads, d};
  scatter_rows(sc.dq.data(), l, d, dst.at(b * l, 0, h), stride);
  scatter_rows(sc.dk.data() + p * d, l, d, dst.at(b * l, 1, h), stride);
  scatter_rows(sc.dv.data() + p * d, l, d, dst.at(b * l, 2, h), stride);
}

void check_args(const AttentionArgs& a, const char* op) {
  CLIPT_CHECK(a.qkv && a.qkv->is_contiguous() && a.qkv->numel() == a.batch * a.len * 3 * a.heads * a.head_dim,
              "{}: qkv must be contiguous [B, L, 3·H·D]", op);
  CLIPT_CHECK(a.groups == 0 || (a.prefix_qkv && a.prefix_qkv->is_contiguous() && a.batch % a.groups == 0 &&
                                a.prefix_qkv->numel() == a.groups * a.prefix_len * 3 * a.heads * a.head_dim),
              "{}: prefix qkv must be contiguous [G, P, 3·H·D] with G dividing the batch", op);
  CLIPT_CHECK(a.head_dim * kTile < (int64_t(1) << 31) && a.prefix_len + a.len < (int64_t(1) << 31),
              "{}: sizes beyond 32-bit BLAS indices", op);
}

}  // namespace

void CpuBackend::attention(const AttentionArgs& a, Tensor& out, Tensor& lse) {
  check_args(a, "attention");
  single_threaded_blas();
  const int64_t units = a.batch * a.heads;
  const int64_t work = units * a.len * (a.prefix_len + a.len) * a.head_dim;
  dispatch_floating(a.qkv->dtype(), "attention", [&]<typename T>() {
    using A = compute_t<T>;
    T* op = static_cast<T*>(out.data_ptr());
    A* lp = static_cast<A*>(lse.data_ptr());
#pragma omp parallel num_threads(threads_for(work))
    {
      HeadBuffers<A> hb;
      std::vector<A> s(size_t(kTile * kTile)), acc(size_t(kTile * a.head_dim));
#pragma omp for schedule(static)
      for (int64_t u = 0; u < units; ++u) forward_unit<T, A>(a, u / a.heads, u % a.heads, hb, s, acc, op, lp);
    }
  });
}

void CpuBackend::attention_backward(const AttentionArgs& a, const Tensor& out, const Tensor& dout, const Tensor& lse,
                                    Tensor& dqkv, Tensor& dprefix_qkv) {
  check_args(a, "attention_backward");
  single_threaded_blas();
  const int64_t groups = a.groups > 0 ? a.groups : a.batch, members = a.batch / std::max<int64_t>(groups, 1);
  const int64_t units = groups * a.heads, d = a.head_dim, p = a.prefix_len;
  const int64_t work = 3 * a.batch * a.heads * a.len * (p + a.len) * d;
  if (dprefix_qkv.defined()) fill(dprefix_qkv, 0.0);
  dispatch_floating(a.qkv->dtype(), "attention_backward", [&]<typename T>() {
    using A = compute_t<T>;
    const T* o = static_cast<const T*>(out.data_ptr());
    const T* go = static_cast<const T*>(dout.data_ptr());
    const A* lp = static_cast<const A*>(lse.data_ptr());
    T* dst = static_cast<T*>(dqkv.data_ptr());
#pragma omp parallel num_threads(threads_for(work))
    {
      BackwardScratch<T, A> sc;
      sc.s.resize(size_t(kTile * kTile));
      sc.dp.resize(size_t(kTile * kTile));
#pragma omp for schedule(static)
      for (int64_t u = 0; u < units; ++u) {
        const int64_t g = u / a.heads, h = u % a.heads;
        sc.dk.assign(size_t((p + a.len) * d), A(0));
        sc.dv.assign(size_t((p + a.len) * d), A(0));
        for (int64_t m = 0; m < members; ++m) backward_row<T, A>(a, g * members + m, g, h, o, go, lp, dst, sc);
        if (p > 0 && dprefix_qkv.defined()) {
          QkvView<T> dp{static_cast<T*>(dprefix_qkv.data_ptr()), a.heads, d};
          scatter_rows(sc.dk.data(), p, d, dp.at(g * p, 1, h), 3 * a.heads * d);
          scatter_rows(sc.dv.data(), p, d, dp.at(g * p, 2, h), 3 * a.heads * d);
        }
      }
    }
  });
}

}  // namespace clipt::cpu
