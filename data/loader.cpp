#include "data/loader.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include "data/sample_rng.h"
#include "engine/core/error.h"

namespace clipt::data {

// A batch under construction: workers take slots, write their rows, and the last one marks it done.
struct DataLoader::Job {
  std::vector<const Sample*> samples;
  std::vector<Sample> owned;       // samples given by value to load_samples
  std::vector<int64_t> rng_index;  // augmentation index of each slot
  int64_t epoch = 0;
  uint64_t stream_id = 0;
  Batch batch;
  char* images = nullptr;  // f32 or u8 rows of image_floats() values
  int64_t* labels = nullptr;
  int64_t* domains = nullptr;
  std::vector<char> ok;
  int64_t next_slot = 0;  // slots [0, next_slot) have been handed out
  int64_t in_flight = 0;  // handed out and not finished
  bool done = false;      // every handed-out slot finished and none remain (or an error stopped it)
  std::string error;      // first failure, names the image
};

BatchAllocator default_batch_allocator() {
  return [](const Shape& shape, DType dtype) { return Tensor::empty(shape, dtype, Device::cpu()); };
}

DataLoader::DataLoader(std::vector<Sample> samples, ImageTransform transform, LoaderOptions options)
    : samples_(std::move(samples)), transform_(std::move(transform)), options_(std::move(options)) {
  CLIPT_CHECK(options_.batch_size >= 1, "data loader: batch size must be at least 1, got {}", options_.batch_size);
  CLIPT_CHECK(options_.num_workers >= 0, "data loader: number of workers must be ≥ 0, got {}", options_.num_workers);
  CLIPT_CHECK(options_.shard_count >= 1 && options_.shard_rank >= 0 && options_.shard_rank < options_.shard_count,
              "data loader: shard {} of {}", options_.shard_rank, options_.shard_count);
  CLIPT_CHECK(options_.prefetch_batches >= 1, "data loader: prefetch depth must be ≥ 1, got {}",
              options_.prefetch_batches);
  if (!options_.allocator) options_.allocator = default_batch_allocator();
  if (!options_.warn) options_.warn = [](const std::string& m) { fmt::print(stderr, "warning: {}\n", m); };
  workers_.reserve(size_t(options_.num_workers));
  for (int i = 0; i < options_.num_workers; ++i) workers_.emplace_back([this] { worker_loop(); });
}

DataLoader::~DataLoader() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    shutdown_ = true;
  }
  work_cv_.notify_all();
  done_cv_.notify_all();
  for (auto& t : workers_) t.join();
}

size_t DataLoader::image_bytes() const {
  return transform_.image_floats() * (options_.uint8_images ? sizeof(uint8_t) : sizeof(float));
}

int64_t DataLoader::batches_per_epoch() const {
  const int64_t n = num_samples(), b = options_.batch_size;
  if (options_.drop_last && n >= b) return n / b;
  return (n + b - 1) / b;
}

std::vector<int64_t> DataLoader::epoch_order(int64_t epoch) const {
  if (!options_.shuffle) {
    std::vector<int64_t> order(samples_.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = int64_t(i);
    return order;
  }
  Generator gen = stream_generator(options_.seed, uint64_t(epoch), uint64_t(RngStream::Shuffle));
  return randperm(num_samples(), gen);
}

bool DataLoader::stopping() const {
  return stop_requested_.load() || (options_.stop_flag && options_.stop_flag->load());
}

void DataLoader::request_stop() {
  stop_requested_.store(true);
  work_cv_.notify_all();
  done_cv_.notify_all();
}

std::shared_ptr<DataLoader::Job> DataLoader::make_job(std::vector<const Sample*> samples, std::vector<int64_t> indices,
                                                      int64_t epoch, uint64_t stream_id, int64_t batch_index) {
  auto job = std::make_shared<Job>();
  const int64_t n = int64_t(samples.size());
  const int64_t H = transform_.out_height(), W = transform_.out_width();
  job->batch.images = options_.allocator({n, 3, H, W}, options_.uint8_images ? DType::U8 : DType::F32);
  job->batch.labels = options_.allocator({n}, DType::I64);
  job->batch.domains = options_.allocator({n}, DType::I64);
  CLIPT_CHECK(job->batch.images.is_contiguous() && job->batch.images.device().is_cpu() &&
                  job->batch.images.numel() == n * 3 * H * W &&
                  job->batch.images.dtype() == (options_.uint8_images ? DType::U8 : DType::F32),
              "data loader: the batch allocator must return contiguous host tensors of the requested shape");
  job->images = static_cast<char*>(job->batch.images.data_ptr());
  job->labels = job->batch.labels.data<int64_t>();
  job->domains = job->batch.domains.data<int64_t>();
  job->batch.epoch = epoch;
  job->batch.batch_index = batch_index;
  job->batch.indices = indices;
  job->batch.paths.reserve(samples.size());
  for (const Sample* s : samples) job->batch.paths.push_back(s->path);
  job->samples = std::move(samples);
  job->rng_index = std::move(indices);
  job->epoch = epoch;
  job->stream_id = stream_id;
  job->ok.assign(size_t(n), 0);
  job->done = n == 0;
  return job;
}

void DataLoader::start_epoch(int64_t epoch) {
  CLIPT_CHECK(epoch >= 0, "data loader: epoch must be ≥ 0, got {}", epoch);
  std::vector<int64_t> order = epoch_order(epoch);
  std::unique_lock<std::mutex> lock(mutex_);
  window_.clear();  // unfinished jobs of the previous epoch are dropped; workers on them just finish
  epoch_ = epoch;
  order_ = std::move(order);
  next_to_create_ = 0;
  next_to_consume_ = 0;
  fill_window(lock);
}

void DataLoader::fill_window(std::unique_lock<std::mutex>&) {
  const int64_t total = batches_per_epoch(), b = options_.batch_size;
  bool added = false;
  while (next_to_create_ < total && next_to_create_ < next_to_consume_ + options_.prefetch_batches) {
    const int64_t global_begin = next_to_create_ * b;
    const int64_t global_end = std::min<int64_t>(global_begin + b, num_samples()), n = global_end - global_begin;
    const int64_t begin = global_begin + n * options_.shard_rank / options_.shard_count;
    const int64_t end = global_begin + n * (options_.shard_rank + 1) / options_.shard_count;
    std::vector<const Sample*> samples;
    std::vector<int64_t> indices;
    for (int64_t p = begin; p < end; ++p) {
      indices.push_back(order_[size_t(p)]);
      samples.push_back(&samples_[size_t(order_[size_t(p)])]);
    }
    window_.push_back(make_job(std::move(samples), std::move(indices), epoch_, 0, next_to_create_));
    ++next_to_create_;
    added = true;
  }
  if (added) work_cv_.notify_all();
}

// Under the lock: the next slot to work on, extras first, then the epoch window in order.
bool DataLoader::grab_slot(std::shared_ptr<Job>& job, int64_t& slot) {
  for (auto* queue : {&extras_, &window_}) {
    for (const auto& candidate : *queue) {
      if (candidate->next_slot < int64_t(candidate->samples.size()) && candidate->error.empty()) {
        job = candidate;
        slot = candidate->next_slot++;
        ++candidate->in_flight;
        return true;
      }
    }
  }
  return false;
}

// Outside the lock: decode + transform one image into its row.
void DataLoader::run_slot(const std::shared_ptr<Job>& job, int64_t slot) {
  const Sample& s = *job->samples[size_t(slot)];
  std::string error;
  try {
    Generator rng =
        sample_generator(options_.seed, uint64_t(job->epoch), uint64_t(job->rng_index[size_t(slot)]), job->stream_id);
    const EncodedImage encoded = EncodedImage::read(s.path);
    char* row = job->images + size_t(slot) * image_bytes();
    if (options_.uint8_images)
      transform_.apply_u8(encoded, rng, reinterpret_cast<uint8_t*>(row));
    else
      transform_.apply(encoded, rng, reinterpret_cast<float*>(row));
    job->labels[slot] = s.label;
    job->domains[slot] = s.domain;
  } catch (const std::exception& e) {
    error = e.what();
    if (error.find(s.path) == std::string::npos) error = fmt::format("loading image {}: {}", s.path, error);
  }
  std::lock_guard<std::mutex> lock(mutex_);
  if (error.empty()) {
    job->ok[size_t(slot)] = 1;
  } else if (options_.skip_bad_images) {
    skipped_.fetch_add(1);
    try {
      options_.warn(fmt::format("skipping unreadable image: {}", error));
    } catch (...) {  // a throwing callback must not take the worker thread (and the process) down
    }
  } else if (job->error.empty()) {
    job->error = error;
  }
  finish_slot(job);
}

void DataLoader::finish_slot(const std::shared_ptr<Job>& job) {
  --job->in_flight;
  // After an error no further slots are handed out; the job is over once the in-flight ones end.
  const bool all_handed = job->next_slot == int64_t(job->samples.size()) || !job->error.empty();
  if (job->in_flight == 0 && all_handed) {
    job->done = true;
    done_cv_.notify_all();
  }
}

void DataLoader::worker_loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    if (shutdown_ || stop_requested_.load()) return;
    // While the external stop flag is up, no new image is started (the consumer reports the stop).
    const bool paused = options_.stop_flag && options_.stop_flag->load();
    std::shared_ptr<Job> job;
    int64_t slot = 0;
    if (!paused && grab_slot(job, slot)) {
      lock.unlock();
      run_slot(job, slot);
      lock.lock();
      continue;
    }
    // A signal handler cannot notify us: poll when an external flag exists.
    if (options_.stop_flag)
      work_cv_.wait_for(lock, std::chrono::milliseconds(20));
    else
      work_cv_.wait(lock);
  }
}

// Waits (under the lock) until `job` is done, running its slots in this thread when there are no
// workers. Throws Interrupted when asked to stop.
void DataLoader::wait_for(std::unique_lock<std::mutex>& lock, const std::shared_ptr<Job>& job) {
  while (!job->done) {
    if (stopping()) throw Interrupted("data loading interrupted");
    CLIPT_CHECK(!shutdown_, "data loader is shutting down");
    if (workers_.empty()) {
      if (job->next_slot < int64_t(job->samples.size()) && job->error.empty()) {
        const int64_t slot = job->next_slot++;
        ++job->in_flight;
        lock.unlock();
        run_slot(job, slot);
        lock.lock();
      }
      continue;
    }
    // Signal handlers cannot notify a condition variable: poll the external stop flag.
    done_cv_.wait_for(lock, std::chrono::milliseconds(10));
  }
}

// Turns a finished job into the caller's batch, dropping skipped rows.
Batch DataLoader::take(const std::shared_ptr<Job>& job) {
  if (!job->error.empty()) throw Error(job->error);
  Batch batch = std::move(job->batch);
  const int64_t n = batch.size();
  int64_t kept = 0;
  const size_t bytes = image_bytes();
  for (int64_t i = 0; i < n; ++i) {
    if (!job->ok[size_t(i)]) continue;
    if (kept != i) {
      std::memmove(job->images + size_t(kept) * bytes, job->images + size_t(i) * bytes, bytes);
      job->labels[kept] = job->labels[i];
      job->domains[kept] = job->domains[i];
      batch.indices[size_t(kept)] = batch.indices[size_t(i)];
      batch.paths[size_t(kept)] = std::move(batch.paths[size_t(i)]);
    }
    ++kept;
  }
  if (kept != n) {
    batch.images = batch.images.narrow(0, 0, kept);
    batch.labels = batch.labels.narrow(0, 0, kept);
    batch.domains = batch.domains.narrow(0, 0, kept);
    batch.indices.resize(size_t(kept));
    batch.paths.resize(size_t(kept));
  }
  return batch;
}

bool DataLoader::next(Batch& batch) {
  std::unique_lock<std::mutex> lock(mutex_);
  CLIPT_CHECK(epoch_ >= 0, "data loader: call start_epoch() before next()");
  for (;;) {
    if (next_to_consume_ >= batches_per_epoch()) return false;
    CLIPT_CHECK(!window_.empty() && window_.front()->batch.batch_index == next_to_consume_,
                "data loader: internal error, batch {} is not in the prefetch window", next_to_consume_);
    std::shared_ptr<Job> job = window_.front();
    wait_for(lock, job);
    window_.pop_front();
    ++next_to_consume_;
    if (!job->error.empty()) {  // the epoch cannot continue: drop the rest of it
      window_.clear();
      next_to_consume_ = next_to_create_ = batches_per_epoch();
      throw Error(job->error);
    }
    fill_window(lock);
    Batch out = take(job);
    if (out.size() == 0) continue;  // every image of this batch was skipped
    batch = std::move(out);
    return true;
  }
}

Batch DataLoader::load_samples(const std::vector<int64_t>& indices, int64_t epoch, uint64_t stream_id) {
  std::vector<const Sample*> samples;
  for (int64_t i : indices) {
    CLIPT_CHECK(i >= 0 && i < num_samples(), "load_samples: index {} is outside the loader's {} samples", i,
                num_samples());
    samples.push_back(&samples_[size_t(i)]);
  }
  std::unique_lock<std::mutex> lock(mutex_);
  auto job = make_job(std::move(samples), indices, epoch, stream_id, -1);
  return run_extra(lock, job);
}

Batch DataLoader::run_extra(std::unique_lock<std::mutex>& lock, const std::shared_ptr<Job>& job) {
  extras_.push_back(job);
  work_cv_.notify_all();
  try {
    wait_for(lock, job);
  } catch (...) {
    extras_.erase(std::find(extras_.begin(), extras_.end(), job));
    throw;
  }
  extras_.erase(std::find(extras_.begin(), extras_.end(), job));
  return take(job);
}

Batch DataLoader::load_samples(const std::vector<Sample>& samples, int64_t epoch, uint64_t stream_id,
                               int64_t first_index) {
  std::vector<Sample> owned = samples;
  std::vector<const Sample*> pointers;
  std::vector<int64_t> indices;
  for (size_t i = 0; i < owned.size(); ++i) {
    pointers.push_back(&owned[i]);
    indices.push_back(first_index + int64_t(i));
  }
  std::unique_lock<std::mutex> lock(mutex_);
  auto job = make_job(std::move(pointers), std::move(indices), epoch, stream_id, -1);
  job->owned = std::move(owned);  // moving a vector keeps its elements where they are
  return run_extra(lock, job);
}

}  // namespace clipt::data
