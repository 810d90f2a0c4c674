// Index primitives. Out-of-range indices raise an Error naming the op, the index and the bound.
#include <algorithm>
#include <cstring>
#include <numeric>
#include <vector>

#include "engine/cpu/cpu_backend.h"
#include "engine/cpu/dispatch.h"

namespace clipt::cpu {

namespace {

void check_indices(const int64_t* idx, int64_t m, int64_t n, const char* op) {
  for (int64_t i = 0; i < m; ++i)
    CLIPT_CHECK(idx[i] >= 0 && idx[i] < n, "{}: index {} at position {} is out of range [0, {})", op, idx[i], i, n);
}

// Offset of element `linear` of a contiguous tensor of `shape` with dim `dim` replaced by `at`
// inside a contiguous tensor of shape `target`.
int64_t remap(int64_t linear, const Shape& shape, const Shape& target_strides, int64_t dim, int64_t at) {
  int64_t off = 0;
  for (int64_t d = int64_t(shape.size()) - 1; d >= 0; --d) {
    const int64_t i = linear % shape[size_t(d)];
    linear /= shape[size_t(d)];
    off += (d == dim ? at : i) * target_strides[size_t(d)];
  }
  return off;
}

// gather / scatter_add: the index must have the target's rank and fit inside it on every dim but `dim`
// (elements are addressed with the target's strides, so a larger index would reach outside it).
void check_index_fits(const Tensor& index, const Tensor& target, int64_t dim, const char* op) {
  CLIPT_CHECK(index.dim() == target.dim() && dim >= 0 && dim < target.dim(),
              "{}: index {} and tensor {} differ in rank (dim {})", op, describe(index), describe(target), dim);
  for (int64_t d = 0; d < target.dim(); ++d)
    CLIPT_CHECK(d == dim || index.size(d) <= target.size(d), "{}: index {} is larger than tensor {} in dim {}", op,
                describe(index), describe(target), d);
}

}  // namespace

void CpuBackend::index_select(const Tensor& x, const Tensor& index, int64_t outer, int64_t n, int64_t inner,
                              Tensor& out) {
  const int64_t m = index.numel();
  const int64_t* idx = index.data<int64_t>();
  check_indices(idx, m, n, "index_select");
  const size_t row = size_t(inner) * x.element_size();
  const char* src = static_cast<const char*>(x.data_ptr());
  char* dst = static_cast<char*>(out.data_ptr());
  parallel_range(outer * m, inner, [&](int64_t b, int64_t e) {
    for (int64_t w = b; w < e; ++w) {
      const int64_t o = w / m, i = w % m;
      std::memcpy(dst + size_t(w) * row, src + size_t(o * n + idx[i]) * row, row);
    }
  });
}

void CpuBackend::index_add(Tensor& out, const Tensor& index, int64_t outer, int64_t n, int64_t inner,
                           const Tensor& src) {
  const int64_t m = index.numel();
  const int64_t* idx = index.data<int64_t>();
  check_indices(idx, m, n, "index_add");
  // Runs of equal indices in index order (a stable sort of the positions by index): each destination row
  // receives the sum of its run, accumulated in the compute type and added once — one rounding per element
  // however many indices collide (f16 embeddings' gradients would otherwise lose the small adds), and the
  // same order and roundings as the CUDA kernel, which sorts the same way.
  std::vector<int64_t> order(static_cast<size_t>(m));
  std::iota(order.begin(), order.end(), int64_t(0));
  std::stable_sort(order.begin(), order.end(), [idx](int64_t a, int64_t b) { return idx[a] < idx[b]; });
  std::vector<int64_t> run_start;
  for (int64_t p = 0; p < m; ++p)
    if (p == 0 || idx[order[size_t(p)]] != idx[order[size_t(p - 1)]]) run_start.push_back(p);
  run_start.push_back(m);
  const int64_t runs = int64_t(run_start.size()) - 1;
  dispatch(out.dtype(), [&]<typename T>() {
    using C = compute_t<T>;
    T* o = static_cast<T*>(out.data_ptr());
    const T* s = static_cast<const T*>(src.data_ptr());
    // Runs write disjoint rows, so threads split them (and the outer dim); the columns stay innermost.
    parallel_range(outer * runs, inner, [&](int64_t b, int64_t e) {
      std::vector<C> acc(static_cast<size_t>(inner));
      for (int64_t w = b; w < e; ++w) {
        const int64_t oo = w / runs, r = w % runs;
        std::fill(acc.begin(), acc.end(), C(0));
        for (int64_t p = run_start[size_t(r)]; p < run_start[size_t(r + 1)]; ++p) {
          const T* from = s + (oo * m + order[size_t(p)]) * inner;
          for (int64_t j = 0; j < inner; ++j) acc[size_t(j)] += C(load(from + j));
        }
        T* dst = o + (oo * n + idx[order[size_t(run_start[size_t(r)])]]) * inner;
        for (int64_t j = 0; j < inner; ++j) store(dst + j, load(dst + j) + acc[size_t(j)]);
      }
    });
  });
}

void CpuBackend::gather(const Tensor& x, int64_t dim, const Tensor& index, Tensor& out) {
  const int64_t* idx = index.data<int64_t>();
  check_index_fits(index, x, dim, "gather");
  const int64_t n = x.size(dim), total = index.numel();
  check_indices(idx, total, n, "gather");
  const Shape xs = x.strides();
  const Shape& shape = index.shape();
  dispatch(x.dtype(), [&]<typename T>() {
    const T* xp = static_cast<const T*>(x.data_ptr());
    T* o = static_cast<T*>(out.data_ptr());
    parallel_range(total, 8, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) o[i] = xp[remap(i, shape, xs, dim, idx[i])];
    });
  });
}

void CpuBackend::scatter_add(Tensor& out, int64_t dim, const Tensor& index, const Tensor& src) {
  const int64_t* idx = index.data<int64_t>();
  check_index_fits(index, out, dim, "scatter_add");
  CLIPT_CHECK(src.shape() == index.shape(), "scatter_add: source {} and index {} differ in shape", describe(src),
              describe(index));
  const int64_t n = out.size(dim), total = index.numel();
  check_indices(idx, total, n, "scatter_add");
  const Shape os = out.strides();
  const Shape& shape = index.shape();
  dispatch(out.dtype(), [&]<typename T>() {
    T* o = static_cast<T*>(out.data_ptr());
    const T* s = static_cast<const T*>(src.data_ptr());
    for (int64_t i = 0; i < total; ++i) {  // serial: colliding indices add in a fixed order
      T* dst = o + remap(i, shape, os, dim, idx[i]);
      store(dst, load(dst) + load(s + i));
    }
  });
}

}  // namespace clipt::cpu
