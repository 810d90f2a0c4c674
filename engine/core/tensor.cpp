// Tensor construction, geometry and host access. Math lives in engine/ops.
#include "engine/core/tensor.h"

#include <atomic>
#include <cstring>
#include <ostream>

#include "engine/core/backend.h"

namespace clipt {

Tensor Tensor::make_view(const std::shared_ptr<Storage>& storage, const Shape& shape, const Shape& strides,
                         int64_t offset, DType dtype) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = storage;
  impl->shape = shape;
  impl->strides = strides;
  impl->offset = offset;
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
  for (auto d : shape) CLIPT_CHECK(d >= 0, "Tensor::empty: negative dimension in shape {}", shape_str(shape));
  auto storage = allocate_storage(size_t(numel_of(shape)) * dtype_size(dtype), device);
  return make_view(storage, shape, contiguous_strides(shape), 0, dtype);
}

Tensor Tensor::full(const Shape& shape, double value, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  if (t.numel() > 0) backend_for(device).fill(t, value);
  return t;
}
Tensor Tensor::zeros(const Shape& shape, DType dtype, Device device) { return full(shape, 0.0, dtype, device); }
Tensor Tensor::ones(const Shape& shape, DType dtype, Device device) { return full(shape, 1.0, dtype, device); }
Tensor Tensor::scalar(double value, DType dtype, Device device) { return full({}, value, dtype, device); }

Tensor Tensor::arange(int64_t n, DType dtype, Device device) {
  std::vector<int64_t> v(size_t(std::max<int64_t>(n, 0)));
  for (int64_t i = 0; i < n; ++i) v[size_t(i)] = i;
  return from_vector(v, {n}, device).to(dtype);
}

template <typename T> Tensor Tensor::from_vector(const std::vector<T>& values, const Shape& shape, Device device) {
  CLIPT_CHECK(int64_t(values.size()) == numel_of(shape), "Tensor::from_vector: {} values for shape {}", values.size(),
              shape_str(shape));
  Tensor t = empty(shape, DTypeOf<T>::value, Device::cpu());
  if (!values.empty()) std::memcpy(t.data_ptr(), values.data(), values.size() * sizeof(T));
  return device.is_cpu() ? t : t.to(device);
}
template Tensor Tensor::from_vector(const std::vector<float>&, const Shape&, Device);
template Tensor Tensor::from_vector(const std::vector<double>&, const Shape&, Device);
template Tensor Tensor::from_vector(const std::vector<int32_t>&, const Shape&, Device);
template Tensor Tensor::from_vector(const std::vector<int64_t>&, const Shape&, Device);
template Tensor Tensor::from_vector(const std::vector<uint8_t>&, const Shape&, Device);
template Tensor Tensor::from_vector(const std::vector<Half>&, const Shape&, Device);
template Tensor Tensor::from_vector(const std::vector<BFloat16>&, const Shape&, Device);

Tensor Tensor::from_vector(std::initializer_list<float> values, const Shape& shape) {
  return from_vector(std::vector<float>(values), shape);
}

int64_t Tensor::size(int64_t d) const { return shape()[size_t(wrap_dim(d, dim(), "Tensor::size"))]; }
int64_t Tensor::stride(int64_t d) const { return strides()[size_t(wrap_dim(d, dim(), "Tensor::stride"))]; }

bool Tensor::is_contiguous() const {
  const auto& s = shape();
  const auto& st = strides();
  int64_t expected = 1;
  for (int64_t i = int64_t(s.size()) - 1; i >= 0; --i) {
    if (s[size_t(i)] == 1) continue;
    if (st[size_t(i)] != expected) return false;
    expected *= s[size_t(i)];
  }
  return true;
}

bool Tensor::shares_storage(const Tensor& other) const {
  return defined() && other.defined() && storage()->data == other.storage()->data;
}

void* Tensor::data_ptr() const {
  const TensorImpl* i = checked();
  return static_cast<char*>(i->storage->data) + i->offset * int64_t(dtype_size(i->dtype));
}

Tensor& Tensor::requires_grad_(bool on) {
  CLIPT_CHECK(defined(), "requires_grad_: undefined tensor");
  CLIPT_CHECK(is_leaf() || on, "requires_grad_(false) on a non-leaf tensor: use detach()");
  CLIPT_CHECK(!on || is_floating(dtype()), "requires_grad_: only floating tensors can require grad, got {}",
              dtype_name(dtype()));
  impl_->requires_grad = on;
  return *this;
}

Tensor Tensor::grad() const { return checked()->grad ? Tensor(checked()->grad) : Tensor(); }

void Tensor::set_grad(const Tensor& g) {
  CLIPT_CHECK(defined(), "set_grad: undefined tensor");
  if (!g.defined()) {
    impl_->grad.reset();
    return;
  }
  CLIPT_CHECK(g.shape() == shape(), "set_grad: gradient shape {} does not match tensor shape {}", shape_str(g.shape()),
              shape_str(shape()));
  CLIPT_CHECK(g.device() == device(), "set_grad: gradient on {} for a tensor on {}", g.device().str(), device().str());
  impl_->grad = g.impl_ptr();
}

void Tensor::zero_grad() {
  if (defined()) impl_->grad.reset();
}

Tensor Tensor::detach() const {
  const TensorImpl* i = checked();
  return make_view(i->storage, i->shape, i->strides, i->offset, i->dtype);
}

namespace {
std::atomic<int64_t> g_host_value_reads{0};
}  // namespace

int64_t host_value_reads() { return g_host_value_reads.load(std::memory_order_relaxed); }
void count_host_value_read() { g_host_value_reads.fetch_add(1, std::memory_order_relaxed); }

double Tensor::item() const {
  CLIPT_CHECK(numel() == 1, "item: tensor has {} elements, expected 1 ({})", numel(), describe(*this));
  return to_vector<double>()[0];
}

std::string describe(const Tensor& t) {
  if (!t.defined()) return "undefined";
  return fmt::format("{}{} {}", dtype_name(t.dtype()), shape_str(t.shape()), t.device().str());
}

namespace {
void format_values(std::string& out, const std::vector<double>& v, const Shape& shape, size_t dim, int64_t base,
                   int64_t max_per_dim) {
  if (shape.empty()) {
    out += fmt::format("{:.6g}", v[0]);
    return;
  }
  out += "[";
  const int64_t n = shape[dim];
  int64_t inner = 1;
  for (size_t d = dim + 1; d < shape.size(); ++d) inner *= shape[d];
  for (int64_t i = 0; i < n; ++i) {
    if (n > max_per_dim && i == max_per_dim / 2) {
      out += "..., ";
      i = n - max_per_dim / 2;
    }
    if (dim + 1 == shape.size()) {
      out += fmt::format("{:.6g}", v[size_t(base + i)]);
    } else {
      format_values(out, v, shape, dim + 1, base + i * inner, max_per_dim);
    }
    if (i + 1 < n) out += ", ";
  }
  out += "]";
}
}  // namespace

std::string Tensor::str(int64_t max_per_dim) const {
  if (!defined()) return "Tensor(undefined)";
  std::string out = fmt::format("Tensor({}, ", describe(*this));
  if (numel() <= 100000) {
    format_values(out, to_vector<double>(), shape(), 0, 0, max_per_dim);
  } else {
    out += "...";
  }
  if (requires_grad()) out += ", requires_grad";
  out += ")";
  return out;
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) { return os << t.str(); }

}  // namespace clipt
