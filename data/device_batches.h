// Batches of a DataLoader on their way to the device the model runs on.
//
// The loader's workers write each batch into host buffers (pinned and pooled on GPU machines: the
// trainer's allocator is pinned_empty); with LoaderOptions::uint8_images the images stay uint8, so a
// quarter of the float bytes cross the bus, and normalize_images turns them into the model's f32 input on
// the device, bit-identical to the float path. DeviceBatches double-buffers the uploads: handing out batch
// k, it has already queued batch k's copy and then fetches batch k+1 and queues its copy on the device's
// copy stream (engine/runtime/async_upload.h), so that copy runs while batch k's step computes. On the CPU
// the same code runs (the "copies" are the host tensors themselves), so the order of loader calls and
// every value are the ones a GPU run sees.
//
// Errors of the look-ahead fetch (a broken image, an interrupt) are kept and raised by the next() that
// would have fetched that batch without looking ahead, so a run fails or stops after the same step.
#pragma once
#include <exception>
#include <optional>

#include "data/loader.h"
#include "engine/runtime/async_upload.h"

namespace clipt::data {

struct DeviceBatch {
  Tensor images;   // f32 [B, 3, H, W], normalised
  Tensor labels;   // i64 [B]
  Tensor domains;  // i64 [B]
};

// A host batch's images on `device` as the model takes them (f32, normalised): uint8 images are copied and
// normalised there with the transform's constants, float ones copied. For one-off loads (DPC's negatives).
Tensor device_images(const Tensor& host_images, const ImageTransform& transform, Device device);

// Bytes a batch of `images` puts on the bus (images, labels and domains), for the benchmark and the tests.
int64_t upload_bytes(const Batch& batch);

class DeviceBatches {
 public:
  // Uses `loader` after its start_epoch(); lives for one epoch (a new epoch gets a new DeviceBatches).
  DeviceBatches(DataLoader& loader, Device device, bool look_ahead = true);

  // Like DataLoader::next: the next host batch of the epoch (paths, indices, host labels), false at its end.
  bool next(Batch& batch);
  // The device tensors of the batch next() returned last (call at most once per batch). With look-ahead it
  // then fetches the following batch and queues its copy before returning.
  DeviceBatch upload();

 private:
  struct Staged {
    Tensor images, labels, domains;  // the host tensors
    AsyncUpload copy;
    bool queued = false;
  };
  static Staged stage(const Batch& batch);
  void queue(Staged& s) const;

  DataLoader& loader_;
  Device device_;
  bool look_ahead_;
  Staged current_;
  std::optional<Batch> ahead_;  // fetched (and its copy queued) before the caller asked for it
  Staged ahead_staged_;
  std::exception_ptr ahead_error_;
  bool ahead_end_ = false;
};

}  // namespace clipt::data
