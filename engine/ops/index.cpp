// Gather-style ops. Their backward is a deterministic scatter-add (no atomics), so gradients are
// bit-identical from run to run.
#include "engine/ops/ops.h"

namespace clipt {

namespace {

Tensor as_index(const Tensor& index, const char* op) {
  CLIPT_CHECK(index.dtype() == DType::I64 || index.dtype() == DType::I32, "{}: index must be i64 or i32, got {}", op,
              describe(index));
  return index.dtype() == DType::I64 ? index.contiguous() : index.to(DType::I64).contiguous();
}

void dims_around(const Tensor& x, int64_t d, int64_t& outer, int64_t& inner) {
  outer = 1;
  inner = 1;
  for (int64_t i = 0; i < d; ++i) outer *= x.size(i);
  for (int64_t i = d + 1; i < x.dim(); ++i) inner *= x.size(i);
}

}  // namespace

Tensor index_select(const Tensor& x0, int64_t dim, const Tensor& index0) {
  check_same_device("index_select", x0, index0);
  CLIPT_CHECK(index0.dim() <= 1, "index_select: index must be 1-d, got {}", describe(index0));
  const int64_t d = wrap_dim(dim, x0.dim(), "index_select");
  Tensor index = reshape(as_index(index0, "index_select"), {-1});
  Tensor x = x0.contiguous();
  int64_t outer, inner;
  dims_around(x, d, outer, inner);
  const int64_t n = x.size(d);
  Shape out_shape = x.shape();
  out_shape[size_t(d)] = index.numel();
  Tensor y = Tensor::empty(out_shape, x.dtype(), x.device());
  if (y.numel() > 0) backend_for(x.device()).index_select(x, index, outer, n, inner, y);
  const Shape in_shape = x.shape();
  Tensor id = index.detach();
  record("index_select", {x}, {&y}, [id, d, in_shape, outer, n, inner](const TensorList& g, const Node&) -> TensorList {
    Tensor gx = Tensor::zeros(in_shape, g[0].dtype(), g[0].device());
    Tensor src = g[0].contiguous();
    if (src.numel() > 0) backend_for(gx.device()).index_add(gx, id, outer, n, inner, src);
    return {gx};
  });
  return y;
}

Tensor embedding(const Tensor& weight, const Tensor& ids) {
  CLIPT_CHECK(weight.dim() == 2, "embedding: weight must be [vocab, dim], got {}", describe(weight));
  Shape out_shape = ids.shape();
  out_shape.push_back(weight.size(1));
  return reshape(index_select(weight, 0, reshape(ids, {-1})), out_shape);
}

Tensor gather(const Tensor& x0, int64_t dim, const Tensor& index0) {
  check_same_device("gather", x0, index0);
  const int64_t d = wrap_dim(dim, x0.dim(), "gather");
  Tensor index = as_index(index0, "gather");
  CLIPT_CHECK(index.dim() == x0.dim(), "gather: index {} and input {} differ in rank", describe(index), describe(x0));
  for (int64_t i = 0; i < x0.dim(); ++i)
    CLIPT_CHECK(i == d || index.size(i) <= x0.size(i), "gather: index {} larger than input {} in dim {}",
                describe(index), describe(x0), i);
  Tensor x = x0.contiguous();
  Tensor y = Tensor::empty(index.shape(), x.dtype(), x.device());
  if (y.numel() > 0) backend_for(x.device()).gather(x, d, index, y);
  const Shape in_shape = x.shape();
  Tensor id = index.detach();
  record("gather", {x}, {&y}, [id, d, in_shape](const TensorList& g, const Node&) -> TensorList {
    Tensor gx = Tensor::zeros(in_shape, g[0].dtype(), g[0].device());
    backend_for(gx.device()).scatter_add(gx, d, id, g[0].contiguous());
    return {gx};
  });
  return y;
}

Tensor scatter_add(const Tensor& x, int64_t dim, const Tensor& index0, const Tensor& src) {
  NoGrad ng;
  const int64_t d = wrap_dim(dim, x.dim(), "scatter_add");
  Tensor index = as_index(index0, "scatter_add");
  CLIPT_CHECK(index.shape() == src.shape(), "scatter_add: index {} and src {} differ", describe(index), describe(src));
  CLIPT_CHECK(index.dim() == x.dim(), "scatter_add: index {} and input {} differ in rank", describe(index),
              describe(x));
  for (int64_t i = 0; i < x.dim(); ++i)
    CLIPT_CHECK(i == d || index.size(i) <= x.size(i), "scatter_add: index {} larger than input {} in dim {}",
                describe(index), describe(x), i);
  Tensor out = x.contiguous().clone();
  if (index.numel() > 0) backend_for(x.device()).scatter_add(out, d, index, src.to(x.dtype()).contiguous());
  return out;
}

Tensor one_hot(const Tensor& labels, int64_t classes, DType dtype) {
  NoGrad ng;
  Shape s = labels.shape();
  s.push_back(classes);
  Tensor out = Tensor::zeros(s, dtype, labels.device());
  Tensor idx = unsqueeze(as_index(labels, "one_hot"), -1);
  return scatter_add(out, -1, idx, Tensor::ones(idx.shape(), dtype, labels.device()));
}

}  // namespace clipt
