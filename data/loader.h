// The threaded data loader: a pool of workers decodes and augments images straight into batch buffers
// while the consumer (the training step) works on earlier batches.
//
// Sampling follows Dassl's build_data_loader: a RandomSampler (a fresh permutation every epoch) or a
// SequentialSampler; drop_last drops the final partial batch, but only when the data hold at least one
// full batch (Dassl: `drop_last=is_train and len(data_source) >= batch_size`), so an epoch is never
// empty. The permutation of epoch e comes from (seed, e) and the augmentation of sample i in epoch e
// from (seed, e, i) — see sample_rng.h — so batches are identical for any number of workers.
//
// Flow control: at most `prefetch_batches` batches exist ahead of the consumer (in flight or ready);
// their buffers are allocated when the window advances, through `allocator` (pinned host memory on GPU
// machines: engine/runtime/pinned_host.h's pinned_empty, pooled and reused behind events, as it is called
// per batch).
//
// Failure: a worker's exception is re-thrown by next() in the consumer, naming the image (or, with
// skip_bad_images, the image is dropped from its batch, counted and reported through `warn`).
// Stopping: request_stop(), or an external flag the caller sets from a signal handler (polled every
// few milliseconds), makes next()/load_samples() throw clipt::Interrupted. The destructor stops and
// joins the workers even mid-epoch.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "data/dataset.h"
#include "data/transforms.h"
#include "engine/core/tensor.h"

namespace clipt::data {

struct Batch {
  Tensor images;                 // f32 [B, 3, H, W] normalised, or u8 (LoaderOptions::uint8_images)
  Tensor labels;                 // i64 [B]
  Tensor domains;                // i64 [B]
  std::vector<int64_t> indices;  // positions in the loader's sample list (or in the list given to load_samples)
  std::vector<std::string> paths;
  int64_t epoch = 0;
  int64_t batch_index = -1;  // position within the epoch; −1 for load_samples
  int64_t size() const { return int64_t(indices.size()); }
};

// Allocates a batch buffer of `shape` and `dtype` on the host.
using BatchAllocator = std::function<Tensor(const Shape& shape, DType dtype)>;
BatchAllocator default_batch_allocator();

struct LoaderOptions {
  int64_t batch_size = 32;
  bool shuffle = false;      // RandomSampler (training) or SequentialSampler (evaluation)
  bool drop_last = false;    // only when the data hold at least one full batch
  int num_workers = 4;       // 0: load in the calling thread
  int prefetch_batches = 4;  // batches allocated ahead of the consumer (≥ 1)
  uint64_t seed = 0;         // cfg.SEED
  // Data parallelism: every rank draws the same batches of `batch_size` (one seeded permutation) and
  // keeps its part of each: rank r of N takes positions [n·r/N, n·(r+1)/N) of a batch of n.
  int shard_rank = 0, shard_count = 1;
  bool skip_bad_images = false;
  // Images as planar uint8 [B, 3, H, W] (crop, resize and flip applied; no ToTensor or Normalize): 4× fewer
  // bytes to stage and upload. normalize_images(images, transform().pixel_mean(), transform().pixel_std())
  // then gives the float batch bit for bit (data/device_batches.h does it on the batch's device).
  bool uint8_images = false;
  const std::atomic<bool>* stop_flag = nullptr;  // e.g. set by a SIGINT handler; never written by the loader
  BatchAllocator allocator;                      // default: plain host memory
  std::function<void(const std::string&)> warn;  // default: a line on stderr
};

class DataLoader {
 public:
  DataLoader(std::vector<Sample> samples, ImageTransform transform, LoaderOptions options);
  ~DataLoader();
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  int64_t num_samples() const { return int64_t(samples_.size()); }
  int64_t batches_per_epoch() const;
  const std::vector<Sample>& samples() const { return samples_; }
  const ImageTransform& transform() const { return transform_; }
  const LoaderOptions& options() const { return options_; }

  // The sample order of `epoch` (a permutation when shuffling).
  std::vector<int64_t> epoch_order(int64_t epoch) const;

  // Starts `epoch`, abandoning whatever remains of the current one.
  void start_epoch(int64_t epoch);
  // Fills `batch` with the next batch of the current epoch; false at the end of the epoch.
  bool next(Batch& batch);

  // Decodes and augments samples on demand through the same workers (e.g. DPC's negative images):
  // positions in this loader's sample list, or arbitrary samples (their augmentation index is their
  // position in `samples`). `stream_id` ≥ 1 selects an augmentation stream distinct from the epoch's,
  // so the same image requested in two steps can get two different crops.
  Batch load_samples(const std::vector<int64_t>& indices, int64_t epoch, uint64_t stream_id);
  // `first_index`: the augmentation index of samples[0] (a share of a longer list keeps the list's).
  Batch load_samples(const std::vector<Sample>& samples, int64_t epoch, uint64_t stream_id, int64_t first_index = 0);

  void request_stop();
  // Images dropped so far because they could not be read (skip_bad_images).
  int64_t skipped_images() const { return skipped_.load(); }

 private:
  struct Job;
  std::shared_ptr<Job> make_job(std::vector<const Sample*> samples, std::vector<int64_t> indices, int64_t epoch,
                                uint64_t stream_id, int64_t batch_index);
  void fill_window(std::unique_lock<std::mutex>& lock);
  bool grab_slot(std::shared_ptr<Job>& job, int64_t& slot);
  void run_slot(const std::shared_ptr<Job>& job, int64_t slot);
  void finish_slot(const std::shared_ptr<Job>& job);
  void wait_for(std::unique_lock<std::mutex>& lock, const std::shared_ptr<Job>& job);
  Batch run_extra(std::unique_lock<std::mutex>& lock, const std::shared_ptr<Job>& job);
  Batch take(const std::shared_ptr<Job>& job);
  bool stopping() const;
  size_t image_bytes() const;  // bytes of one image row of a batch
  void worker_loop();

  std::vector<Sample> samples_;
  ImageTransform transform_;
  LoaderOptions options_;
  std::atomic<int64_t> skipped_{0};

  mutable std::mutex mutex_;
  std::condition_variable work_cv_;          // workers wait for slots
  std::condition_variable done_cv_;          // consumers wait for jobs
  std::deque<std::shared_ptr<Job>> window_;  // batches of the current epoch, in order
  std::deque<std::shared_ptr<Job>> extras_;  // on-demand loads, served first
  int64_t epoch_ = -1;
  std::vector<int64_t> order_;
  int64_t next_to_create_ = 0;   // next batch index of the epoch to allocate
  int64_t next_to_consume_ = 0;  // next batch index next() returns
  bool shutdown_ = false;
  std::atomic<bool> stop_requested_{false};
  std::vector<std::thread> workers_;
};

}  // namespace clipt::data
