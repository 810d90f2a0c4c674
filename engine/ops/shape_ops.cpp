// Views (reshape, transpose, permute, narrow/slice, expand) share storage; their backward maps the
// gradient back onto the input's geometry. Copies (contiguous, clone, casts, cat) allocate.
#include <numeric>

#include "engine/core/capture_guard.h"
#include "engine/ops/ops.h"
#include "engine/profile/profiler.h"

namespace clipt {

namespace {

Tensor view_of(const Tensor& x, const Shape& shape, const Shape& strides, int64_t offset) {
  return Tensor::make_view(x.storage(), shape, strides, offset, x.dtype());
}

Shape infer_shape(const Shape& shape, int64_t numel, const char* op, const Shape& from) {
  Shape out = shape;
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == -1) {
      CLIPT_CHECK(infer < 0, "{}: more than one -1 in shape {}", op, shape_str(shape));
      infer = int64_t(i);
    } else {
      CLIPT_CHECK(out[i] >= 0, "{}: invalid size {} in shape {}", op, out[i], shape_str(shape));
      known *= out[i];
    }
  }
  if (infer >= 0) {
    CLIPT_CHECK(known != 0 && numel % known == 0, "{}: cannot reshape {} into {}", op, shape_str(from),
                shape_str(shape));
    out[size_t(infer)] = numel / known;
  }
  CLIPT_CHECK(numel_of(out) == numel, "{}: cannot reshape {} ({} elements) into {}", op, shape_str(from), numel,
              shape_str(shape));
  return out;
}

// Strides for viewing x as `shape` without copying, if its memory layout allows (PyTorch's rule).
std::optional<Shape> view_strides(const Tensor& x, const Shape& shape) {
  if (x.is_contiguous()) return contiguous_strides(shape);
  const Shape& old_shape = x.shape();
  const Shape& old_strides = x.strides();
  Shape new_strides(shape.size());
  int64_t view_d = int64_t(shape.size()) - 1;
  int64_t chunk_base_stride = old_strides.empty() ? 1 : old_strides.back();
  int64_t tensor_numel = 1, view_numel = 1;
  for (int64_t tensor_d = int64_t(old_shape.size()) - 1; tensor_d >= 0; --tensor_d) {
    tensor_numel *= old_shape[size_t(tensor_d)];
    if (tensor_d == 0 || (old_shape[size_t(tensor_d - 1)] != 1 &&
                          old_strides[size_t(tensor_d - 1)] != tensor_numel * chunk_base_stride)) {
      while (view_d >= 0 && (view_numel < tensor_numel || shape[size_t(view_d)] == 1)) {
        new_strides[size_t(view_d)] = view_numel * chunk_base_stride;
        view_numel *= shape[size_t(view_d)];
        --view_d;
      }
      if (view_numel != tensor_numel) return std::nullopt;
      if (tensor_d > 0) {
        chunk_base_stride = old_strides[size_t(tensor_d - 1)];
        tensor_numel = 1;
        view_numel = 1;
      }
    }
  }
  if (view_d != -1) return std::nullopt;
  return new_strides;
}

// A transfer between devices (not a Backend primitive) as one profile record; one to the host waits for
// the device, so its time is a host wait.
void copy_between_devices(const Tensor& src, Tensor& dst) {
  const bool to_host = dst.device().is_cpu();
  const char* name = to_host ? "copy_d2h" : src.device().is_cpu() ? "copy_h2d" : "copy_d2d";
  if (to_host) refuse_during_capture(src.device(), "a copy of " + describe(src) + " to the host");
  if (src.device().is_cpu()) refuse_during_capture(dst.device(), "an upload of host data to " + describe(dst));
  std::optional<profile::PhaseScope> wait;
  if (to_host) wait.emplace(profile::Phase::HostWait);
  profile::OpScope op(name, dst.dtype(), double(dst.nbytes()), /*device_timed=*/true);
  cuda_copy_between(src, dst);
}

}  // namespace

Tensor empty_like(const Tensor& x, std::optional<DType> dtype) {
  return Tensor::empty(x.shape(), dtype.value_or(x.dtype()), x.device());
}
Tensor zeros_like(const Tensor& x, std::optional<DType> dtype) {
  return Tensor::zeros(x.shape(), dtype.value_or(x.dtype()), x.device());
}
Tensor ones_like(const Tensor& x, std::optional<DType> dtype) {
  return Tensor::ones(x.shape(), dtype.value_or(x.dtype()), x.device());
}

void check_same_device(const char* op, const Tensor& a, const Tensor& b) {
  CLIPT_CHECK(a.device() == b.device(), "{}: tensors on different devices ({} and {})", op, describe(a), describe(b));
}

Tensor view(const Tensor& x, const Shape& shape) {
  const Shape target = infer_shape(shape, x.numel(), "view", x.shape());
  auto strides = view_strides(x, target);
  CLIPT_CHECK(strides.has_value(), "view: tensor {} with strides {} cannot be viewed as {} without a copy", describe(x),
              shape_str(x.strides()), shape_str(target));
  Tensor y = view_of(x, target, *strides, x.offset());
  const Shape in_shape = x.shape();
  record("view", {x}, {&y},
         [in_shape](const TensorList& g, const Node&) -> TensorList { return {reshape(g[0], in_shape)}; });
  return y;
}

Tensor reshape(const Tensor& x, const Shape& shape) {
  const Shape target = infer_shape(shape, x.numel(), "reshape", x.shape());
  if (view_strides(x, target)) return view(x, target);
  return view(contiguous(x), target);
}

Tensor flatten(const Tensor& x, int64_t start, int64_t end) {
  if (x.dim() == 0) return reshape(x, {1});
  start = wrap_dim(start, x.dim(), "flatten");
  end = wrap_dim(end, x.dim(), "flatten");
  CLIPT_CHECK(start <= end, "flatten: start dim {} after end dim {}", start, end);
  Shape s;
  for (int64_t i = 0; i < start; ++i) s.push_back(x.size(i));
  int64_t m = 1;
  for (int64_t i = start; i <= end; ++i) m *= x.size(i);
  s.push_back(m);
  for (int64_t i = end + 1; i < x.dim(); ++i) s.push_back(x.size(i));
  return reshape(x, s);
}

Tensor unsqueeze(const Tensor& x, int64_t dim) {
  const int64_t d = wrap_dim(dim, x.dim() + 1, "unsqueeze");
  Shape s = x.shape();
  s.insert(s.begin() + d, 1);
  return reshape(x, s);
}

Tensor squeeze(const Tensor& x, int64_t dim) {
  const int64_t d = wrap_dim(dim, x.dim(), "squeeze");
  if (x.size(d) != 1) return x;
  Shape s = x.shape();
  s.erase(s.begin() + d);
  return reshape(x, s);
}

Tensor permute(const Tensor& x, const Shape& order) {
  CLIPT_CHECK(int64_t(order.size()) == x.dim(), "permute: order {} for a tensor with {} dims", shape_str(order),
              x.dim());
  Shape s(order.size()), st(order.size()), inverse(order.size());
  std::vector<bool> used(order.size(), false);
  for (size_t i = 0; i < order.size(); ++i) {
    const int64_t d = wrap_dim(order[i], x.dim(), "permute");
    CLIPT_CHECK(!used[size_t(d)], "permute: dim {} repeated in {}", d, shape_str(order));
    used[size_t(d)] = true;
    s[i] = x.size(d);
    st[i] = x.stride(d);
    inverse[size_t(d)] = int64_t(i);
  }
  Tensor y = view_of(x, s, st, x.offset());
  record("permute", {x}, {&y},
         [inverse](const TensorList& g, const Node&) -> TensorList { return {permute(g[0], inverse)}; });
  return y;
}

Tensor transpose(const Tensor& x, int64_t d0, int64_t d1) {
  Shape order(size_t(x.dim()));
  std::iota(order.begin(), order.end(), 0);
  std::swap(order[size_t(wrap_dim(d0, x.dim(), "transpose"))], order[size_t(wrap_dim(d1, x.dim(), "transpose"))]);
  return permute(x, order);
}

Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t end, int64_t step) {
  const int64_t d = wrap_dim(dim, x.dim(), "slice");
  const int64_t n = x.size(d);
  CLIPT_CHECK(step >= 1, "slice: step must be positive, got {}", step);
  if (start < 0) start += n;
  if (end < 0) end += n;
  start = std::clamp<int64_t>(start, 0, n);
  end = std::clamp<int64_t>(end, start, n);
  Shape s = x.shape(), st = x.strides();
  s[size_t(d)] = (end - start + step - 1) / step;
  st[size_t(d)] *= step;
  Tensor y = view_of(x, s, st, x.offset() + start * x.stride(d));
  const Shape in_shape = x.shape();
  record("slice", {x}, {&y}, [in_shape, d, start, end, step](const TensorList& g, const Node&) -> TensorList {
    Tensor gx = Tensor::zeros(in_shape, g[0].dtype(), g[0].device());
    Tensor window = slice(gx, d, start, end, step);
    window.copy_(g[0]);
    return {gx};
  });
  return y;
}

Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length) {
  const int64_t d = wrap_dim(dim, x.dim(), "narrow");
  CLIPT_CHECK(start >= 0 && length >= 0 && start + length <= x.size(d),
              "narrow: range [{}, {}) out of bounds for dim {} of size {}", start, start + length, d, x.size(d));
  return slice(x, d, start, start + length, 1);
}

Tensor select(const Tensor& x, int64_t dim, int64_t index) {
  const int64_t d = wrap_dim(dim, x.dim(), "select");
  const int64_t n = x.size(d);
  CLIPT_CHECK(index >= -n && index < n, "select: index {} out of range for dim {} of size {}", index, d, n);
  if (index < 0) index += n;
  return squeeze(narrow(x, d, index, 1), d);
}

Tensor expand(const Tensor& x, const Shape& shape) {
  CLIPT_CHECK(int64_t(shape.size()) >= x.dim(), "expand: cannot expand {} to fewer dims {}", shape_str(x.shape()),
              shape_str(shape));
  const size_t lead = shape.size() - size_t(x.dim());
  Shape s(shape.size()), st(shape.size());
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i < lead) {
      CLIPT_CHECK(shape[i] >= 0, "expand: invalid size {} for a new leading dim", shape[i]);
      s[i] = shape[i];
      st[i] = 0;
      continue;
    }
    const int64_t have = x.shape()[i - lead];
    const int64_t want = shape[i] == -1 ? have : shape[i];
    CLIPT_CHECK(have == want || have == 1, "expand: cannot expand {} to {} (dim {})", shape_str(x.shape()),
                shape_str(shape), i);
    s[i] = want;
    st[i] = have == want ? x.strides()[i - lead] : 0;
  }
  if (s == x.shape()) return x;
  Tensor y = view_of(x, s, st, x.offset());
  const Shape in_shape = x.shape();
  record("expand", {x}, {&y},
         [in_shape](const TensorList& g, const Node&) -> TensorList { return {sum_to(g[0], in_shape)}; });
  return y;
}

// A contiguous copy that records the identity backward.
static Tensor copy_op(const Tensor& x, const char* name) {
  Tensor y = empty_like(x);
  if (y.numel() > 0) backend_for(x.device()).copy(x, y);
  record(name, {x}, {&y}, [](const TensorList& g, const Node&) -> TensorList { return {g[0]}; });
  return y;
}

Tensor contiguous(const Tensor& x) { return x.is_contiguous() ? x : copy_op(x, "contiguous"); }
Tensor clone(const Tensor& x) { return copy_op(x, "clone"); }

Tensor to_dtype(const Tensor& x, DType dtype) {
  if (x.dtype() == dtype) return x;
  Tensor y = Tensor::empty(x.shape(), dtype, x.device());
  if (y.numel() > 0) backend_for(x.device()).copy(x, y);
  if (is_floating(dtype) && is_floating(x.dtype())) {
    const DType in_dtype = x.dtype();
    record("to_dtype", {x}, {&y},
           [in_dtype](const TensorList& g, const Node&) -> TensorList { return {to_dtype(g[0], in_dtype)}; });
  }
  return y;
}

Tensor to_device(const Tensor& x, Device device) {
  if (x.device() == device) return x;
  Tensor src = x.contiguous();
  Tensor y = Tensor::empty(x.shape(), x.dtype(), device);
  if (y.numel() > 0) {
    NoGrad ng;
    copy_between_devices(src, y);
  }
  const Device in_device = x.device();
  record("to_device", {x}, {&y},
         [in_device](const TensorList& g, const Node&) -> TensorList { return {to_device(g[0], in_device)}; });
  return y;
}

Tensor cat(const TensorList& xs, int64_t dim) {
  CLIPT_CHECK(!xs.empty(), "cat: empty tensor list");
  const Tensor& first = xs[0];
  const int64_t d = wrap_dim(dim, first.dim(), "cat");
  DType dtype = first.dtype();
  for (const Tensor& t : xs) dtype = promote_types(dtype, t.dtype());
  Shape out_shape = first.shape();
  out_shape[size_t(d)] = 0;
  std::vector<int64_t> sizes;
  for (size_t i = 0; i < xs.size(); ++i) {
    const Tensor& t = xs[i];
    check_same_device("cat", first, t);
    CLIPT_CHECK(t.dim() == first.dim(), "cat: tensor {} has {} dims, tensor 0 has {}", i, t.dim(), first.dim());
    for (int64_t k = 0; k < t.dim(); ++k)
      CLIPT_CHECK(k == d || t.size(k) == first.size(k), "cat: tensor {} has shape {}, tensor 0 has {} (dim {})", i,
                  shape_str(t.shape()), shape_str(first.shape()), d);
    sizes.push_back(t.size(d));
    out_shape[size_t(d)] += t.size(d);
  }
  Tensor y = Tensor::empty(out_shape, dtype, first.device());
  int64_t at = 0;
  {
    NoGrad ng;
    for (size_t i = 0; i < xs.size(); ++i) {
      if (sizes[i] == 0) continue;
      Tensor window = narrow(y, d, at, sizes[i]);
      backend_for(y.device()).copy(xs[i], window);
      at += sizes[i];
    }
  }
  TensorList inputs = xs;
  record("cat", inputs, {&y}, [sizes, d](const TensorList& g, const Node& node) -> TensorList {
    TensorList parts = split_sizes(g[0], sizes, d);
    for (size_t i = 0; i < parts.size(); ++i)
      if (!node.needs_input_grad(i)) parts[i] = Tensor();
    return parts;
  });
  return y;
}

Tensor stack(const TensorList& xs, int64_t dim) {
  CLIPT_CHECK(!xs.empty(), "stack: empty tensor list");
  const int64_t d = wrap_dim(dim, xs[0].dim() + 1, "stack");
  TensorList u;
  u.reserve(xs.size());
  for (size_t i = 0; i < xs.size(); ++i) {
    CLIPT_CHECK(xs[i].shape() == xs[0].shape(), "stack: tensor {} has shape {}, tensor 0 has {}", i,
                shape_str(xs[i].shape()), shape_str(xs[0].shape()));
    u.push_back(unsqueeze(xs[i], d));
  }
  return cat(u, d);
}

TensorList split_sizes(const Tensor& x, const std::vector<int64_t>& sizes, int64_t dim) {
  const int64_t d = wrap_dim(dim, x.dim(), "split");
  int64_t total = 0;
  for (auto s : sizes) total += s;
  CLIPT_CHECK(total == x.size(d), "split: sizes sum to {} but dim {} has size {}", total, d, x.size(d));
  TensorList out;
  int64_t at = 0;
  for (auto s : sizes) {
    out.push_back(narrow(x, d, at, s));
    at += s;
  }
  return out;
}

TensorList split(const Tensor& x, int64_t split_size, int64_t dim) {
  const int64_t d = wrap_dim(dim, x.dim(), "split");
  CLIPT_CHECK(split_size > 0, "split: split_size must be positive, got {}", split_size);
  std::vector<int64_t> sizes;
  for (int64_t at = 0; at < x.size(d); at += split_size) sizes.push_back(std::min(split_size, x.size(d) - at));
  return split_sizes(x, sizes, d);
}

TensorList chunk(const Tensor& x, int64_t chunks, int64_t dim) {
  CLIPT_CHECK(chunks > 0, "chunk: chunks must be positive, got {}", chunks);
  const int64_t n = x.size(wrap_dim(dim, x.dim(), "chunk"));
  return split(x, std::max<int64_t>((n + chunks - 1) / chunks, 1), dim);
}

TensorList unbind(const Tensor& x, int64_t dim) {
  const int64_t d = wrap_dim(dim, x.dim(), "unbind");
  TensorList outs;
  {
    NoGrad ng;
    for (int64_t i = 0; i < x.size(d); ++i) outs.push_back(select(x, d, i));
  }
  std::vector<Tensor*> ptrs;
  for (auto& o : outs) ptrs.push_back(&o);
  record("unbind", {x}, ptrs, [d](const TensorList& g, const Node&) -> TensorList { return {stack(g, d)}; });
  return outs;
}

Tensor repeat(const Tensor& x, const Shape& repeats) {
  CLIPT_CHECK(int64_t(repeats.size()) >= x.dim(), "repeat: {} repeats for a tensor with {} dims", repeats.size(),
              x.dim());
  // View x as [1, s0, 1, s1, ...], expand to [r0, s0, r1, s1, ...], then collapse pairs.
  const size_t lead = repeats.size() - size_t(x.dim());
  Shape padded(lead, 1);
  for (auto s : x.shape()) padded.push_back(s);
  Shape interleaved, expanded, result;
  for (size_t i = 0; i < repeats.size(); ++i) {
    interleaved.push_back(1);
    interleaved.push_back(padded[i]);
    expanded.push_back(repeats[i]);
    expanded.push_back(padded[i]);
    result.push_back(repeats[i] * padded[i]);
  }
  return reshape(contiguous(expand(reshape(x, interleaved), expanded)), result);
}

// ---- Tensor methods that are views or copies ----
Tensor Tensor::reshape(const Shape& s) const { return clipt::reshape(*this, s); }
Tensor Tensor::view(const Shape& s) const { return clipt::view(*this, s); }
Tensor Tensor::flatten(int64_t start, int64_t end) const { return clipt::flatten(*this, start, end); }
Tensor Tensor::unsqueeze(int64_t d) const { return clipt::unsqueeze(*this, d); }
Tensor Tensor::squeeze(int64_t d) const { return clipt::squeeze(*this, d); }
Tensor Tensor::transpose(int64_t d0, int64_t d1) const { return clipt::transpose(*this, d0, d1); }
Tensor Tensor::permute(const Shape& o) const { return clipt::permute(*this, o); }
Tensor Tensor::narrow(int64_t dim, int64_t start, int64_t length) const {
  return clipt::narrow(*this, dim, start, length);
}
Tensor Tensor::select(int64_t dim, int64_t index) const { return clipt::select(*this, dim, index); }
Tensor Tensor::expand(const Shape& s) const { return clipt::expand(*this, s); }
Tensor Tensor::contiguous() const { return clipt::contiguous(*this); }
Tensor Tensor::clone() const { return clipt::clone(*this); }
Tensor Tensor::to(DType dtype) const { return to_dtype(*this, dtype); }
Tensor Tensor::to(Device device) const { return to_device(*this, device); }

namespace {

// [first, last] byte addresses a (non-empty) view can touch.
std::pair<uintptr_t, uintptr_t> byte_extent(const Tensor& t) {
  int64_t lo = 0, hi = 0;
  for (int64_t d = 0; d < t.dim(); ++d) {
    const int64_t reach = (t.size(d) - 1) * t.stride(d);
    (reach < 0 ? lo : hi) += reach;
  }
  const auto base = reinterpret_cast<uintptr_t>(t.data_ptr());
  const auto elem = uintptr_t(t.element_size());
  return {base + uintptr_t(lo) * elem, base + uintptr_t(hi) * elem + elem - 1};
}

// Whether writing `dst` element by element could overwrite parts of `src` not yet read: the two views
// overlap in memory and are not the very same view (a copy onto itself is a no-op). Kernels and loops copy
// in parallel or in an order of their own, so such a copy must read from a staged source.
bool copy_overlaps(const Tensor& src, const Tensor& dst) {
  if (!src.shares_storage(dst)) return false;
  if (src.data_ptr() == dst.data_ptr() && src.strides() == dst.strides() && src.dtype() == dst.dtype()) return false;
  const auto [a0, a1] = byte_extent(src);
  const auto [b0, b1] = byte_extent(dst);
  return a0 <= b1 && b0 <= a1;
}

}  // namespace

Tensor& Tensor::copy_(const Tensor& src) {
  CLIPT_CHECK(!(grad_enabled() && is_leaf() && requires_grad()),
              "copy_: in-place write into a leaf that requires grad ({}); wrap it in NoGrad", describe(*this));
  NoGrad ng;
  Tensor s = clipt::expand(src, shape());
  if (numel() == 0) return *this;
  if (s.device() == device()) {
    if (s.data_ptr() == data_ptr() && s.strides() == strides() && s.dtype() == dtype()) return *this;
    if (copy_overlaps(s, *this)) s = clipt::clone(s);
    backend_for(device()).copy(s, *this);
    return *this;
  }
  Tensor staged = to_dtype(s, dtype()).contiguous();
  if (is_contiguous()) {
    copy_between_devices(staged, *this);
  } else {
    Tensor tmp = Tensor::empty(shape(), dtype(), device());
    copy_between_devices(staged, tmp);
    backend_for(device()).copy(tmp, *this);
  }
  return *this;
}

Tensor& Tensor::fill_(double value) {
  NoGrad ng;
  if (numel() == 0) return *this;
  if (is_contiguous()) {
    backend_for(device()).fill(*this, value);
  } else {
    Tensor tmp = Tensor::full(shape(), value, dtype(), device());
    backend_for(device()).copy(tmp, *this);
  }
  return *this;
}

void count_host_value_read();  // engine/core/tensor.cpp

template <typename T> std::vector<T> Tensor::to_vector() const {
  refuse_during_capture(device(), "a host read of the values of " + describe(*this) + " (item()/to_vector())");
  count_host_value_read();
  NoGrad ng;
  Tensor t = to_dtype(to_device(*this, Device::cpu()), DTypeOf<T>::value).contiguous();
  const T* p = t.data<T>();
  return std::vector<T>(p, p + t.numel());
}
template std::vector<float> Tensor::to_vector() const;
template std::vector<double> Tensor::to_vector() const;
template std::vector<int32_t> Tensor::to_vector() const;
template std::vector<int64_t> Tensor::to_vector() const;
template std::vector<uint8_t> Tensor::to_vector() const;
template std::vector<Half> Tensor::to_vector() const;
template std::vector<BFloat16> Tensor::to_vector() const;

}  // namespace clipt
