// Helpers for the CPU backend: dtype dispatch, compute types, and a strided element iterator that lets
// element-wise loops read broadcast (stride-0) and transposed views without copying them first.
#pragma once
#include <omp.h>

#include <array>
#include <cstdint>
#include <type_traits>

#include "engine/core/tensor.h"

namespace clipt::cpu {

// f64 computes in double; every other type (f32, f16, bf16 and integers) in float or double as below.
template <typename T> using compute_t =
    std::conditional_t<std::is_same_v<T, double>, double, std::conditional_t<std::is_integral_v<T>, double, float>>;

template <typename T> inline compute_t<T> load(const T* p) {
  if constexpr (std::is_same_v<T, bool>)
    return *p ? 1.0 : 0.0;
  else
    return compute_t<T>(*p);
}

template <typename T, typename C> inline void store(T* p, C v) {
  if constexpr (std::is_same_v<T, bool>)
    *p = v != C(0);
  else if constexpr (std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>)
    *p = T(float(v));
  else
    *p = T(v);
}

// Calls f.template operator()<T>() with T the C++ type of `dtype`.
template <typename F> decltype(auto) dispatch(DType dtype, F&& f) {
  switch (dtype) {
    case DType::F32: return f.template operator()<float>();
    case DType::F64: return f.template operator()<double>();
    case DType::F16: return f.template operator()<Half>();
    case DType::BF16: return f.template operator()<BFloat16>();
    case DType::I32: return f.template operator()<int32_t>();
    case DType::I64: return f.template operator()<int64_t>();
    case DType::U8: return f.template operator()<uint8_t>();
    case DType::Bool: return f.template operator()<bool>();
  }
  fail("cpu backend: unsupported dtype {}", int(dtype));
}

template <typename F> decltype(auto) dispatch_floating(DType dtype, const char* op, F&& f) {
  switch (dtype) {
    case DType::F32: return f.template operator()<float>();
    case DType::F64: return f.template operator()<double>();
    case DType::F16: return f.template operator()<Half>();
    case DType::BF16: return f.template operator()<BFloat16>();
    default: fail("{}: expected a floating dtype, got {}", op, dtype_name(dtype));
  }
}

// Work below this many elements runs on one thread (thread start-up costs more than it saves).
constexpr int64_t kParallelGrain = 32768;

inline int threads_for(int64_t work) { return work < kParallelGrain ? 1 : omp_get_max_threads(); }

// Iterates the elements of `shape` in row-major order, tracking the element offset into each of N
// operands with their own strides. Used over a [begin, end) range so loops can be split across threads.
template <size_t N> struct StridedCursor {
  Shape shape;
  std::array<Shape, N> strides;
  Shape index;
  std::array<int64_t, N> offset{};

  StridedCursor(const Shape& s, const std::array<const Shape*, N>& st, int64_t start) : shape(s), index(s.size(), 0) {
    for (size_t k = 0; k < N; ++k) strides[k] = *st[k];
    int64_t rem = start;
    for (int64_t d = int64_t(shape.size()) - 1; d >= 0; --d) {
      const int64_t n = shape[size_t(d)];
      if (n == 0) break;
      index[size_t(d)] = rem % n;
      rem /= n;
    }
    for (size_t k = 0; k < N; ++k)
      for (size_t d = 0; d < shape.size(); ++d) offset[k] += index[d] * strides[k][d];
  }

  // Moves `count` elements along the innermost dim, which must not go past its end; carries into the
  // outer dims when the row is finished.
  void skip_inner(int64_t count) {
    const size_t last = shape.size() - 1;
    index[last] += count;
    for (size_t k = 0; k < N; ++k) offset[k] += count * strides[k][last];
    if (index[last] < shape[last]) return;
    for (size_t k = 0; k < N; ++k) offset[k] -= shape[last] * strides[k][last];
    index[last] = 0;
    carry(int64_t(last) - 1);
  }

  void next() { carry(int64_t(shape.size()) - 1); }

 private:
  void carry(int64_t from) {
    for (int64_t d = from; d >= 0; --d) {
      const size_t dd = size_t(d);
      if (++index[dd] < shape[dd]) {
        for (size_t k = 0; k < N; ++k) offset[k] += strides[k][dd];
        return;
      }
      for (size_t k = 0; k < N; ++k) offset[k] -= (shape[dd] - 1) * strides[k][dd];
      index[dd] = 0;
    }
  }
};

// Merges adjacent dims that are laid out contiguously for every operand (so rows get longer), and drops
// size-1 dims. Returns the collapsed shape and strides.
template <size_t N> void collapse_dims(const Shape& shape, const std::array<const Shape*, N>& strides, Shape& out_shape,
                                       std::array<Shape, N>& out_strides) {
  out_shape.clear();
  for (auto& s : out_strides) s.clear();
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    bool merge = !out_shape.empty();
    for (size_t k = 0; k < N && merge; ++k) merge = out_strides[k].back() == (*strides[k])[d] * shape[d];
    if (merge) {
      out_shape.back() *= shape[d];
      for (size_t k = 0; k < N; ++k) out_strides[k].back() = (*strides[k])[d];
    } else {
      out_shape.push_back(shape[d]);
      for (size_t k = 0; k < N; ++k) out_strides[k].push_back((*strides[k])[d]);
    }
  }
  if (out_shape.empty()) {
    out_shape.push_back(1);
    for (auto& s : out_strides) s.push_back(1);
  }
}

// Runs row(i, count, offsets, steps) over every element of `shape` in row-major order, where a row is
// a run of `count` elements along the innermost (collapsed) dim starting at output index i, operand k
// at element offset offsets[k] advancing by steps[k]. Split across threads by element ranges.
template <size_t N, typename Row>
void for_each_strided_rows(const Shape& shape0, const std::array<const Shape*, N>& strides0, Row&& row) {
  Shape shape;
  std::array<Shape, N> strides;
  collapse_dims<N>(shape0, strides0, shape, strides);
  std::array<const Shape*, N> sp;
  for (size_t k = 0; k < N; ++k) sp[k] = &strides[k];
  std::array<int64_t, N> steps;
  for (size_t k = 0; k < N; ++k) steps[k] = strides[k].back();
  const int64_t n = numel_of(shape), inner = shape.back();
  const int nt = threads_for(n);
#pragma omp parallel num_threads(nt)
  {
    const int t = omp_get_thread_num(), T = omp_get_num_threads();
    const int64_t begin = n * t / T, end = n * (t + 1) / T;
    if (begin < end) {
      StridedCursor<N> c(shape, sp, begin);
      int64_t i = begin;
      while (i < end) {
        const int64_t count = std::min(inner - c.index.back(), end - i);
        row(i, count, c.offset, steps);
        i += count;
        if (i < end) c.skip_inner(count);
      }
    }
  }
}

// Runs f(i, offsets) for every element i of `shape` (row-major), split across threads.
template <size_t N, typename F>
void for_each_strided(const Shape& shape, const std::array<const Shape*, N>& strides, F&& f) {
  for_each_strided_rows<N>(
      shape, strides, [&](int64_t i0, int64_t count, std::array<int64_t, N> off, const std::array<int64_t, N>& steps) {
        for (int64_t j = 0; j < count; ++j) {
          f(i0 + j, off);
          for (size_t k = 0; k < N; ++k) off[k] += steps[k];
        }
      });
}

// Runs f(begin, end) over [0, n) in contiguous chunks across threads.
template <typename F> void parallel_range(int64_t n, int64_t grain_elements_per_item, F&& f) {
  const int nt = threads_for(n * std::max<int64_t>(grain_elements_per_item, 1));
#pragma omp parallel num_threads(nt)
  {
    const int t = omp_get_thread_num(), T = omp_get_num_threads();
    const int64_t begin = n * t / T, end = n * (t + 1) / T;
    if (begin < end) f(begin, end);
  }
}

}  // namespace clipt::cpu
