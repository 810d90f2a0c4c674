// Tensor: a value type holding a refcounted storage, shape, strides and offset (in elements), plus the
// autograd fields (requires_grad, grad, grad_fn). Copying a Tensor copies the handle, not the data;
// views (reshape, transpose, narrow, expand) share storage; contiguous()/clone() copy.
//
// Differentiable operations are free functions in engine/ops/ops.h; the methods here that have math in
// them simply forward to those functions.
#pragma once
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "engine/core/device.h"
#include "engine/core/dtype.h"
#include "engine/core/error.h"
#include "engine/core/shape.h"
#include "engine/core/storage.h"

namespace clipt {

struct Node;

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  Shape shape;
  Shape strides;
  int64_t offset = 0;
  DType dtype = DType::F32;

  // Autograd. A leaf has no grad_fn; a leaf that requires grad accumulates into `grad`.
  bool requires_grad = false;
  std::shared_ptr<TensorImpl> grad;
  std::shared_ptr<Node> grad_fn;
  int output_nr = 0;  // which output of grad_fn this tensor is
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // ---- factories ----
  static Tensor empty(const Shape& shape, DType dtype = DType::F32, Device device = Device::cpu());
  static Tensor zeros(const Shape& shape, DType dtype = DType::F32, Device device = Device::cpu());
  static Tensor ones(const Shape& shape, DType dtype = DType::F32, Device device = Device::cpu());
  static Tensor full(const Shape& shape, double value, DType dtype = DType::F32, Device device = Device::cpu());
  static Tensor scalar(double value, DType dtype = DType::F32, Device device = Device::cpu());  // 0-d
  static Tensor arange(int64_t n, DType dtype = DType::I64, Device device = Device::cpu());
  template <typename T>
  static Tensor from_vector(const std::vector<T>& values, const Shape& shape, Device device = Device::cpu());
  static Tensor from_vector(std::initializer_list<float> values, const Shape& shape);
  // A view of existing storage with explicit geometry (used by io and by view ops).
  static Tensor make_view(const std::shared_ptr<Storage>& storage, const Shape& shape, const Shape& strides,
                          int64_t offset, DType dtype);

  // ---- geometry ----
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return checked()->shape; }
  const Shape& strides() const { return checked()->strides; }
  int64_t dim() const { return int64_t(shape().size()); }
  int64_t size(int64_t d) const;
  int64_t stride(int64_t d) const;
  int64_t offset() const { return checked()->offset; }
  int64_t numel() const { return numel_of(shape()); }
  DType dtype() const { return checked()->dtype; }
  Device device() const { return checked()->storage->device; }
  size_t element_size() const { return dtype_size(dtype()); }
  size_t nbytes() const { return size_t(numel()) * element_size(); }
  bool is_contiguous() const;
  bool is_same(const Tensor& other) const { return impl_ == other.impl_; }
  bool shares_storage(const Tensor& other) const;

  // ---- raw data (the pointer already includes the offset) ----
  void* data_ptr() const;
  template <typename T> T* data() const {
    CLIPT_CHECK(dtype() == DTypeOf<T>::value, "Tensor::data: tensor is {}, requested {}", dtype_name(dtype()),
                dtype_name(DTypeOf<T>::value));
    return static_cast<T*>(data_ptr());
  }
  const std::shared_ptr<Storage>& storage() const { return checked()->storage; }
  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }

  // ---- autograd ----
  bool requires_grad() const { return defined() && impl_->requires_grad; }
  Tensor& requires_grad_(bool on = true);  // leaves only
  bool is_leaf() const { return checked()->grad_fn == nullptr; }
  const std::shared_ptr<Node>& grad_fn() const { return checked()->grad_fn; }
  Tensor grad() const;
  void set_grad(const Tensor& g);
  void zero_grad();       // drops the gradient (PyTorch's set_to_none)
  Tensor detach() const;  // same storage, no history
  // Backpropagates from this tensor. `grad` defaults to ones for a scalar; retain_graph keeps saved
  // tensors so backward can run again through the same graph.
  void backward(const Tensor& grad = Tensor(), bool retain_graph = false) const;

  // ---- views and copies (differentiable; see engine/ops) ----
  Tensor reshape(const Shape& shape) const;
  Tensor view(const Shape& shape) const;  // like reshape but never copies (error if impossible)
  Tensor flatten(int64_t start = 0, int64_t end = -1) const;
  Tensor unsqueeze(int64_t d) const;
  Tensor squeeze(int64_t d) const;
  Tensor transpose(int64_t d0, int64_t d1) const;
  Tensor t() const { return transpose(-2, -1); }
  Tensor permute(const Shape& order) const;
  Tensor narrow(int64_t dim, int64_t start, int64_t length) const;
  Tensor select(int64_t dim, int64_t index) const;  // narrows to one and drops the dim
  Tensor expand(const Shape& shape) const;
  Tensor contiguous() const;
  Tensor clone() const;
  Tensor to(DType dtype) const;
  Tensor to(Device device) const;

  // ---- in-place, outside autograd (optimizers, buffers) ----
  Tensor& copy_(const Tensor& src);  // broadcasts src, converts dtype, crosses devices
  Tensor& fill_(double value);
  Tensor& zero_() { return fill_(0.0); }

  // ---- host access ----
  template <typename T> std::vector<T> to_vector() const;  // converts dtype, copies from any device
  double item() const;                                     // one-element tensor
  std::string str(int64_t max_per_dim = 6) const;          // shape, dtype, device and (some) values

 private:
  const TensorImpl* checked() const {
    CLIPT_CHECK(impl_ != nullptr, "use of an undefined tensor");
    return impl_.get();
  }
  std::shared_ptr<TensorImpl> impl_;
};

std::ostream& operator<<(std::ostream& os, const Tensor& t);
std::string describe(const Tensor& t);  // "f32[2, 3] cpu" for error messages

// How many times the host has read tensor values (item(), to_vector()) in this process. On a device each
// read waits for the stream to drain, so a training step should make as few as possible; tests count
// them around a step (the CPU backend makes exactly the reads a device would).
int64_t host_value_reads();

// Autograd mode (thread-local). Ops record graph nodes only when enabled and some input requires grad.
bool grad_enabled();
class NoGrad {
 public:
  NoGrad();
  ~NoGrad();
  NoGrad(const NoGrad&) = delete;
  NoGrad& operator=(const NoGrad&) = delete;

 private:
  bool previous_;
};
class EnableGrad {
 public:
  EnableGrad();
  ~EnableGrad();
  EnableGrad(const EnableGrad&) = delete;
  EnableGrad& operator=(const EnableGrad&) = delete;

 private:
  bool previous_;
};

}  // namespace clipt
