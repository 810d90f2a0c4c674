// AsyncUpload without CUDA: only CPU devices exist, so the tensors are moved with Tensor::to (which names
// the missing CUDA support for any other device).
#include "engine/runtime/async_upload.h"

#include <utility>

namespace clipt {

AsyncUpload::AsyncUpload(const std::vector<Tensor>& host, Device device) {
  for (const Tensor& t : host) tensors_.push_back(t.to(device));
}

AsyncUpload::AsyncUpload(AsyncUpload&& other) noexcept : tensors_(std::move(other.tensors_)) { other.tensors_.clear(); }

AsyncUpload& AsyncUpload::operator=(AsyncUpload&& other) noexcept {
  tensors_ = std::move(other.tensors_);
  other.tensors_.clear();
  return *this;
}

AsyncUpload::~AsyncUpload() = default;

void AsyncUpload::release() noexcept {}

std::vector<Tensor> AsyncUpload::take() { return std::exchange(tensors_, {}); }

}  // namespace clipt
