// Index primitives. Out-of-range indices raise an Error naming the op, the index and the bound.
#include <cstring>

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
  dispatch(out.dtype(), [&]<typename T>() {
    T* o = static_cast<T*>(out.data_ptr());
    const T* s = static_cast<const T*>(src.data_ptr());
    // Each thread owns a column range; rows are added in index order, so the sum is deterministic.
    parallel_range(inner, outer * m, [&](int64_t lo, int64_t hi) {
      for (int64_t oo = 0; oo < outer; ++oo)
        for (int64_t i = 0; i < m; ++i) {
          T* dst = o + (oo * n + idx[i]) * inner;
          const T* from = s + (oo * m + i) * inner;
          for (int64_t j = lo; j < hi; ++j) store(dst + j, load(dst + j) + load(from + j));
        }
    });
  });
}

void CpuBackend::gather(const Tensor& x, int64_t dim, const Tensor& index, Tensor& out) {
  const int64_t* idx = index.data<int64_t>();
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
