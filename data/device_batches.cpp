#include "data/device_batches.h"

#include <utility>

#include "engine/ops/ops.h"

namespace clipt::data {

namespace {

Tensor normalised(Tensor images, const ImageTransform& transform) {
  if (images.dtype() != DType::U8) return images;
  return normalize_images(images, transform.pixel_mean(), transform.pixel_std(), DType::F32);
}

}  // namespace

Tensor device_images(const Tensor& host_images, const ImageTransform& transform, Device device) {
  return normalised(host_images.to(device), transform);
}

int64_t upload_bytes(const Batch& batch) {
  int64_t bytes = 0;
  for (const Tensor* t : {&batch.images, &batch.labels, &batch.domains})
    if (t->defined()) bytes += int64_t(t->nbytes());
  return bytes;
}

DeviceBatches::DeviceBatches(DataLoader& loader, Device device, bool look_ahead)
    : loader_(loader), device_(device), look_ahead_(look_ahead) {}

DeviceBatches::Staged DeviceBatches::stage(const Batch& batch) {
  Staged s;
  s.images = batch.images;
  s.labels = batch.labels;
  s.domains = batch.domains;
  return s;
}

void DeviceBatches::queue(Staged& s) const {
  if (s.queued) return;
  s.copy = AsyncUpload({s.images, s.labels, s.domains}, device_);
  s.queued = true;
}

bool DeviceBatches::next(Batch& batch) {
  if (ahead_) {
    batch = std::move(*ahead_);
    ahead_.reset();
    current_ = std::move(ahead_staged_);
    ahead_staged_ = Staged{};
    return true;
  }
  if (ahead_error_) std::rethrow_exception(std::exchange(ahead_error_, nullptr));
  if (ahead_end_) return false;
  if (!loader_.next(batch)) return false;
  current_ = stage(batch);
  return true;
}

DeviceBatch DeviceBatches::upload() {
  CLIPT_CHECK(current_.images.defined(), "DeviceBatches::upload: no batch (call next() first, once per batch)");
  queue(current_);
  std::vector<Tensor> d = current_.copy.take();  // the compute stream now waits for batch k's copy
  const ImageTransform& transform = loader_.transform();
  DeviceBatch out{normalised(d[0], transform), d[1], d[2]};
  current_ = Staged{};
  if (look_ahead_ && !ahead_ && !ahead_error_ && !ahead_end_) {
    // Batch k+1: fetched now and its copy queued behind batch k's normalisation, so the copy engine works
    // while batch k's step computes.
    try {
      Batch next;
      if (loader_.next(next)) {
        ahead_staged_ = stage(next);
        queue(ahead_staged_);
        ahead_ = std::move(next);
      } else {
        ahead_end_ = true;
      }
    } catch (...) {
      ahead_error_ = std::current_exception();
      ahead_.reset();
      ahead_staged_ = Staged{};
    }
  }
  return out;
}

}  // namespace clipt::data
