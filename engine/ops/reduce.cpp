// Reductions. The backend reduces one dim of a contiguous tensor viewed as [outer, n, inner]; several
// dims are reduced one group of adjacent dims at a time, from the last group to the first.
#include <algorithm>
#include <optional>
#include <set>

#include "engine/ops/ops.h"

namespace clipt {

namespace {

std::vector<int64_t> normalise_dims(const Tensor& x, const std::vector<int64_t>& dims, const char* op) {
  std::set<int64_t> s;
  if (dims.empty()) {
    for (int64_t d = 0; d < x.dim(); ++d) s.insert(d);
  } else {
    for (auto d : dims) {
      const int64_t w = wrap_dim(d, x.dim(), op);
      CLIPT_CHECK(s.insert(w).second, "{}: dim {} repeated", op, d);
    }
  }
  return {s.begin(), s.end()};
}

Shape reduced_shape(const Shape& shape, const std::vector<int64_t>& dims, bool keepdim) {
  Shape out;
  for (int64_t d = 0; d < int64_t(shape.size()); ++d) {
    const bool reduced = std::find(dims.begin(), dims.end(), d) != dims.end();
    if (!reduced)
      out.push_back(shape[size_t(d)]);
    else if (keepdim)
      out.push_back(1);
  }
  return out;
}

// Reduces the adjacent dims [first, last] of a contiguous x, keeping them as size-1 dims.
Tensor reduce_group(ReduceOp op, const Tensor& x, int64_t first, int64_t last, DType out_dtype) {
  int64_t outer = 1, n = 1, inner = 1;
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (d < first)
      outer *= x.size(d);
    else if (d <= last)
      n *= x.size(d);
    else
      inner *= x.size(d);
  }
  Shape s = x.shape();
  for (int64_t d = first; d <= last; ++d) s[size_t(d)] = 1;
  Tensor out = Tensor::empty(s, out_dtype, x.device());
  if (out.numel() > 0) backend_for(x.device()).reduce(op, x, outer, n, inner, out);
  return out;
}

// Forward of sum/mean/max/min/sum-of-squares over `dims`, without autograd. Multi-group reductions of
// 16-bit inputs go through f32 so partial results cannot overflow. The result has x's dtype unless
// `result_dtype` asks for f32 (a 16-bit sum of squares that is only an intermediate of a norm).
Tensor reduce_raw(ReduceOp op, const Tensor& x0, const std::vector<int64_t>& dims, bool keepdim,
                  std::optional<DType> result_dtype = std::nullopt) {
  NoGrad ng;
  Tensor x = x0.contiguous();
  // Group adjacent dims.
  std::vector<std::pair<int64_t, int64_t>> groups;
  for (auto d : dims) {
    if (!groups.empty() && groups.back().second + 1 == d)
      groups.back().second = d;
    else
      groups.push_back({d, d});
  }
  const DType final_dtype = result_dtype.value_or(x.dtype());
  const bool half = x.dtype() == DType::F16 || x.dtype() == DType::BF16;
  if (groups.size() > 1 && half) x = x.to(DType::F32);
  // One group of a 16-bit input with an f32 result: the backend writes f32 directly.
  const DType group_dtype = groups.size() == 1 && half && final_dtype == DType::F32 ? DType::F32 : x.dtype();
  Tensor cur = x;
  if (groups.empty()) cur = x.clone();
  const bool mean = op == ReduceOp::Mean;
  int64_t count = 1;
  for (auto d : dims) count *= x.size(d);
  for (auto it = groups.rbegin(); it != groups.rend(); ++it) {
    // Mean over several groups = sum of groups then one division (exact for f32 counts).
    const ReduceOp step = mean && groups.size() > 1 ? ReduceOp::Sum : op;
    const ReduceOp this_op = (op == ReduceOp::SumSquares && it != groups.rbegin()) ? ReduceOp::Sum : step;
    cur = reduce_group(this_op, cur, it->first, it->second, it == groups.rbegin() ? group_dtype : cur.dtype());
  }
  if (mean && groups.size() > 1) cur = mul(cur, 1.0 / double(count));
  cur = reshape(cur, reduced_shape(x.shape(), dims, keepdim));
  return cur.to(final_dtype);
}

// Shape of a gradient of a keepdim=false reduction, re-expanded to the input.
Tensor expand_back(const Tensor& g, const Shape& in_shape, const std::vector<int64_t>& dims) {
  return expand(reshape(g, reduced_shape(in_shape, dims, true)), in_shape);
}

}  // namespace

Tensor sum(const Tensor& x, const std::vector<int64_t>& dims0, bool keepdim) {
  const auto dims = normalise_dims(x, dims0, "sum");
  Tensor y = reduce_raw(ReduceOp::Sum, x, dims, keepdim);
  const Shape in_shape = x.shape();
  record("sum", {x}, {&y}, [in_shape, dims](const TensorList& g, const Node&) -> TensorList {
    return {expand_back(g[0], in_shape, dims)};
  });
  return y;
}
Tensor sum(const Tensor& x) { return sum(x, {}, false); }

Tensor mean(const Tensor& x, const std::vector<int64_t>& dims0, bool keepdim) {
  CLIPT_CHECK(is_floating(x.dtype()), "mean: expected a floating tensor, got {}", describe(x));
  const auto dims = normalise_dims(x, dims0, "mean");
  int64_t count = 1;
  for (auto d : dims) count *= x.size(d);
  Tensor y = reduce_raw(ReduceOp::Mean, x, dims, keepdim);
  const Shape in_shape = x.shape();
  record("mean", {x}, {&y}, [in_shape, dims, count](const TensorList& g, const Node&) -> TensorList {
    return {expand_back(mul(g[0], 1.0 / double(std::max<int64_t>(count, 1))), in_shape, dims)};
  });
  return y;
}
Tensor mean(const Tensor& x) { return mean(x, {}, false); }

Tensor sum_to(const Tensor& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  const int64_t lead = x.dim() - int64_t(shape.size());
  CLIPT_CHECK(lead >= 0, "sum_to: cannot sum {} to the larger shape {}", shape_str(x.shape()), shape_str(shape));
  std::vector<int64_t> dims;
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (d < lead) {
      dims.push_back(d);
    } else if (shape[size_t(d - lead)] == 1 && x.size(d) != 1) {
      dims.push_back(d);
    } else {
      CLIPT_CHECK(shape[size_t(d - lead)] == x.size(d), "sum_to: cannot sum {} to {}", shape_str(x.shape()),
                  shape_str(shape));
    }
  }
  if (dims.empty()) return reshape(x, shape);
  return reshape(sum(x, dims, true), shape);
}

namespace {
Tensor arg_reduce_raw(ArgReduceOp op, const Tensor& x0, int64_t dim, bool keepdim, const char* name) {
  NoGrad ng;
  CLIPT_CHECK(x0.numel() > 0, "{}: empty tensor {}", name, describe(x0));
  Tensor x = x0.contiguous();
  const int64_t d = wrap_dim(dim, x.dim(), name);
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < d; ++i) outer *= x.size(i);
  for (int64_t i = d + 1; i < x.dim(); ++i) inner *= x.size(i);
  Shape ks = x.shape();
  if (x.dim() > 0) ks[size_t(d)] = 1;
  Tensor out = Tensor::empty(ks, DType::I64, x.device());
  backend_for(x.device()).arg_reduce(op, x, outer, x.dim() > 0 ? x.size(d) : 1, inner, out);
  return keepdim || x.dim() == 0 ? out : squeeze(out, d);
}

// max/min along a dim: values gathered at the arg index, so the gradient goes to that one element.
Tensor extreme(ArgReduceOp op, const Tensor& x, int64_t dim, bool keepdim, const char* name) {
  const int64_t d = wrap_dim(dim, x.dim(), name);
  Tensor idx = arg_reduce_raw(op, x, d, true, name);
  Tensor v = gather(x, d, idx);
  return keepdim ? v : squeeze(v, d);
}
}  // namespace

Tensor argmax(const Tensor& x, int64_t dim, bool keepdim) {
  return arg_reduce_raw(ArgReduceOp::ArgMax, x, dim, keepdim, "argmax");
}
Tensor argmin(const Tensor& x, int64_t dim, bool keepdim) {
  return arg_reduce_raw(ArgReduceOp::ArgMin, x, dim, keepdim, "argmin");
}
Tensor max(const Tensor& x, int64_t dim, bool keepdim) { return extreme(ArgReduceOp::ArgMax, x, dim, keepdim, "max"); }
Tensor min(const Tensor& x, int64_t dim, bool keepdim) { return extreme(ArgReduceOp::ArgMin, x, dim, keepdim, "min"); }
Tensor max(const Tensor& x) { return squeeze(max(reshape(x, {-1}), 0, true), 0); }
Tensor min(const Tensor& x) { return squeeze(min(reshape(x, {-1}), 0, true), 0); }

std::pair<Tensor, Tensor> topk(const Tensor& x, int64_t k, int64_t dim) {
  const int64_t d = wrap_dim(dim, x.dim(), "topk");
  const int64_t n = x.dim() == 0 ? 1 : x.size(d);
  CLIPT_CHECK(k >= 0 && k <= n, "topk: k = {} out of range for dim {} of size {}", k, d, n);
  Tensor idx;
  {
    NoGrad ng;
    Tensor moved = transpose(x, d, -1).contiguous();
    Shape rows_shape = moved.shape();
    const int64_t rows = moved.numel() / std::max<int64_t>(n, 1);
    Tensor flat = reshape(moved, {rows, n});
    Tensor values = Tensor::empty({rows, k}, x.dtype(), x.device());
    Tensor indices = Tensor::empty({rows, k}, DType::I64, x.device());
    if (rows * k > 0) backend_for(x.device()).topk(flat, k, values, indices);
    rows_shape.back() = k;
    idx = transpose(reshape(indices, rows_shape), d, -1).contiguous();
  }
  return {gather(x, d, idx), idx};
}

Tensor var(const Tensor& x, const std::vector<int64_t>& dims0, bool unbiased, bool keepdim) {
  const auto dims = normalise_dims(x, dims0, "var");
  int64_t count = 1;
  for (auto d : dims) count *= x.size(d);
  Tensor centred = sub(x, mean(x, dims, true));
  Tensor ss = sum(square(centred), dims, keepdim);
  return div(ss, double(std::max<int64_t>(unbiased ? count - 1 : count, 1)));
}

Tensor norm(const Tensor& x, const std::vector<int64_t>& dims0, bool keepdim) {
  const auto dims = normalise_dims(x, dims0, "norm");
  // The sum of squares stays in f32 for 16-bit inputs: ‖x‖ of f16 CLIP features fits f16, but ‖x‖² often
  // does not (it overflows past 65504, i.e. ‖x‖ > 256).
  const bool half = x.dtype() == DType::F16 || x.dtype() == DType::BF16;
  Tensor y = sqrt(reduce_raw(ReduceOp::SumSquares, x, dims, keepdim, half ? std::optional(DType::F32) : std::nullopt));
  if (half) y = y.to(x.dtype());
  if (any_requires_grad({&x})) {
    // d‖x‖/dx = x/‖x‖ (0 where the norm is 0).
    Tensor xd = x.detach(), yd = y.detach();
    const Shape in_shape = x.shape();
    Tensor out = y.detach();
    record("norm", {x}, {&out}, [xd, yd, in_shape, dims](const TensorList& g, const Node&) -> TensorList {
      Tensor denom = expand_back(yd, in_shape, dims);
      Tensor safe = where(eq(denom, 0.0), Tensor::scalar(1, denom.dtype(), denom.device()), denom);
      return {mul(div(xd, safe), expand_back(g[0], in_shape, dims))};
    });
    return out;
  }
  return y;
}
Tensor norm(const Tensor& x) { return norm(x, {}, false); }

}  // namespace clipt
