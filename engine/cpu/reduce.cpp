// Reductions over the middle dim of [outer, n, inner]. Accumulation is in double; long reductions are
// split into fixed-size blocks summed in order, so results do not depend on the thread count.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include "engine/cpu/cpu_backend.h"
#include "engine/cpu/dispatch.h"

namespace clipt::cpu {

namespace {

constexpr int64_t kBlock = 8192;

template <typename T> double reduce_line(ReduceOp op, const T* p, int64_t n, int64_t stride) {
  switch (op) {
    case ReduceOp::Sum:
    case ReduceOp::Mean: {
      double s = 0;
      for (int64_t i = 0; i < n; ++i) s += double(load(p + i * stride));
      return s;
    }
    case ReduceOp::SumSquares: {
      double s = 0;
      for (int64_t i = 0; i < n; ++i) {
        const double v = double(load(p + i * stride));
        s += v * v;
      }
      return s;
    }
    case ReduceOp::Max: {
      double m = -std::numeric_limits<double>::infinity();
      for (int64_t i = 0; i < n; ++i) {
        const double v = double(load(p + i * stride));
        if (v > m || std::isnan(v)) m = v;
      }
      return m;
    }
    case ReduceOp::Min: {
      double m = std::numeric_limits<double>::infinity();
      for (int64_t i = 0; i < n; ++i) {
        const double v = double(load(p + i * stride));
        if (v < m || std::isnan(v)) m = v;
      }
      return m;
    }
  }
  return 0;
}

double combine(ReduceOp op, double a, double b) {
  switch (op) {
    case ReduceOp::Max: return std::isnan(a) || a > b ? a : b;
    case ReduceOp::Min: return std::isnan(a) || a < b ? a : b;
    default: return a + b;
  }
}

}  // namespace

void CpuBackend::reduce(ReduceOp op, const Tensor& x, int64_t outer, int64_t n, int64_t inner, Tensor& out) {
  dispatch(x.dtype(), [&]<typename T>() {
    const T* xp = static_cast<const T*>(x.data_ptr());
    dispatch(out.dtype(), [&]<typename O>() {
      O* o = static_cast<O*>(out.data_ptr());
      const double scale = op == ReduceOp::Mean ? 1.0 / double(std::max<int64_t>(n, 1)) : 1.0;
      const int64_t lines = outer * inner;
      if (inner >= 16) {
        // Reducing over a leading dim (bias gradients, sum_to): walk whole rows and accumulate columns,
        // instead of striding down each column. Each column still sums i = 0..n−1 in order, so the
        // result is the same as reduce_line's.
        constexpr int64_t kCols = 256;
        const int64_t col_blocks = (inner + kCols - 1) / kCols;
        parallel_range(outer * col_blocks, n * kCols, [&](int64_t b, int64_t e) {
          std::vector<double> acc(static_cast<size_t>(kCols));
          for (int64_t w = b; w < e; ++w) {
            const int64_t oi = w / col_blocks, c0 = (w % col_blocks) * kCols, c1 = std::min(inner, c0 + kCols);
            const double init = op == ReduceOp::Max   ? -std::numeric_limits<double>::infinity()
                                : op == ReduceOp::Min ? std::numeric_limits<double>::infinity()
                                                      : 0.0;
            std::fill(acc.begin(), acc.end(), init);
            for (int64_t i = 0; i < n; ++i) {
              const T* row = xp + (oi * n + i) * inner;
              for (int64_t c = c0; c < c1; ++c) {
                const double v = double(load(row + c));
                double& a = acc[size_t(c - c0)];
                switch (op) {
                  case ReduceOp::Sum:
                  case ReduceOp::Mean: a += v; break;
                  case ReduceOp::SumSquares: a += v * v; break;
                  case ReduceOp::Max:
                    if (v > a || std::isnan(v)) a = v;
                    break;
                  case ReduceOp::Min:
                    if (v < a || std::isnan(v)) a = v;
                    break;
                }
              }
            }
            for (int64_t c = c0; c < c1; ++c) store(o + oi * inner + c, compute_t<O>(acc[size_t(c - c0)] * scale));
          }
        });
        return;
      }
      if (lines >= 64 || n <= kBlock) {
        parallel_range(lines, n, [&](int64_t b, int64_t e) {
          for (int64_t l = b; l < e; ++l) {
            const int64_t oi = l / inner, ii = l % inner;
            store(o + l, compute_t<O>(reduce_line(op, xp + oi * n * inner + ii, n, inner) * scale));
          }
        });
        return;
      }
      // Few long lines: reduce fixed blocks in parallel, then combine blocks in order.
      const int64_t blocks = (n + kBlock - 1) / kBlock;
      std::vector<double> partial(size_t(lines * blocks));
      parallel_range(lines * blocks, kBlock, [&](int64_t b, int64_t e) {
        for (int64_t w = b; w < e; ++w) {
          const int64_t l = w / blocks, blk = w % blocks;
          const int64_t oi = l / inner, ii = l % inner;
          const int64_t start = blk * kBlock, len = std::min(kBlock, n - start);
          partial[size_t(w)] = reduce_line(op, xp + oi * n * inner + (start * inner) + ii, len, inner);
        }
      });
      for (int64_t l = 0; l < lines; ++l) {
        double acc = partial[size_t(l * blocks)];
        for (int64_t blk = 1; blk < blocks; ++blk) acc = combine(op, acc, partial[size_t(l * blocks + blk)]);
        store(o + l, compute_t<O>(acc * scale));
      }
    });
  });
}

void CpuBackend::arg_reduce(ArgReduceOp op, const Tensor& x, int64_t outer, int64_t n, int64_t inner, Tensor& out) {
  dispatch(x.dtype(), [&]<typename T>() {
    const T* xp = static_cast<const T*>(x.data_ptr());
    int64_t* o = out.data<int64_t>();
    parallel_range(outer * inner, n, [&](int64_t b, int64_t e) {
      for (int64_t l = b; l < e; ++l) {
        const T* p = xp + (l / inner) * n * inner + (l % inner);
        int64_t best = 0;
        double bv = double(load(p));
        for (int64_t i = 1; i < n && !std::isnan(bv); ++i) {
          const double v = double(load(p + i * inner));
          // First occurrence wins ties; NaN counts as the extreme (as PyTorch).
          if (std::isnan(v) || (op == ArgReduceOp::ArgMax ? v > bv : v < bv)) {
            bv = v;
            best = i;
          }
        }
        o[l] = best;
      }
    });
  });
}

void CpuBackend::topk(const Tensor& x, int64_t k, Tensor& values, Tensor& indices) {
  const int64_t rows = x.size(0), n = x.size(1);
  dispatch(x.dtype(), [&]<typename T>() {
    const T* xp = static_cast<const T*>(x.data_ptr());
    T* vp = static_cast<T*>(values.data_ptr());
    int64_t* ip = indices.data<int64_t>();
    parallel_range(rows, n, [&](int64_t b, int64_t e) {
      std::vector<int64_t> order(static_cast<size_t>(n));
      for (int64_t r = b; r < e; ++r) {
        const T* row = xp + r * n;
        std::iota(order.begin(), order.end(), 0);
        auto greater = [&](int64_t i, int64_t j) {
          const double a = double(load(row + i)), c = double(load(row + j));
          if (a != c) return a > c;
          return i < j;
        };
        std::partial_sort(order.begin(), order.begin() + k, order.end(), greater);
        for (int64_t j = 0; j < k; ++j) {
          ip[r * k + j] = order[size_t(j)];
          vp[r * k + j] = row[order[size_t(j)]];
        }
      }
    });
  });
}

}  // namespace clipt::cpu
