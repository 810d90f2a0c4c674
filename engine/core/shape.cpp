#include "engine/core/shape.h"

#include "engine/core/error.h"

namespace clipt {

int64_t numel_of(const Shape& s) {
  int64_t n = 1;
  for (auto d : s) n *= d;
  return n;
}

Shape contiguous_strides(const Shape& s) {
  Shape st(s.size());
  int64_t acc = 1;
  for (int64_t i = int64_t(s.size()) - 1; i >= 0; --i) {
    st[i] = acc;
    acc *= std::max<int64_t>(s[i], 1);
  }
  return st;
}

std::string shape_str(const Shape& s) { return fmt::format("[{}]", fmt::join(s, ", ")); }

int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op) {
  int64_t d = dim < 0 ? dim + ndim : dim;
  CLIPT_CHECK(d >= 0 && d < std::max<int64_t>(ndim, 1), "{}: dim {} out of range for a tensor with {} dims", op, dim,
              ndim);
  return d;
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  const size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    CLIPT_CHECK(da == db || da == 1 || db == 1, "{}: shapes {} and {} cannot be broadcast together", op, shape_str(a),
                shape_str(b));
    out[i] = da == 1 ? db : da;
  }
  return out;
}

}  // namespace clipt
