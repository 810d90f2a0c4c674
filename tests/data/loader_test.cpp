// The threaded loader: sampler semantics (order, shuffle, drop_last as Dassl), batches identical for any
// number of workers, on-demand loads, errors, skipping, stopping and shutdown.
#include "data/loader.h"

#include <atomic>
#include <chrono>
#include <set>

#include "data/sample_rng.h"
#include "tests/data/data_test_util.h"

namespace clipt::data {
namespace {

namespace fs = std::filesystem;

ImageTransform small_train_transform() {
  TransformConfig config;
  config.height = 16;
  config.width = 20;
  return ImageTransform::train(config);
}

LoaderOptions options(int64_t batch, bool shuffle, bool drop_last, int workers) {
  LoaderOptions o;
  o.batch_size = batch;
  o.shuffle = shuffle;
  o.drop_last = drop_last;
  o.num_workers = workers;
  o.prefetch_batches = 2;
  o.seed = 42;
  return o;
}

std::vector<Batch> epoch(DataLoader& loader, int64_t e) {
  loader.start_epoch(e);
  std::vector<Batch> out;
  Batch b;
  while (loader.next(b)) out.push_back(b);
  return out;
}

TEST(Loader, SequentialKeepsOrderAndTheLastPartialBatch) {
  const auto samples = test::mixed_image_samples(test::scratch_dir("seq"), 11);
  DataLoader loader(samples, ImageTransform::test(TransformConfig{}), options(4, false, false, 2));
  EXPECT_EQ(loader.batches_per_epoch(), 3);
  const auto batches = epoch(loader, 0);
  ASSERT_EQ(batches.size(), 3u);
  EXPECT_EQ(batches[2].size(), 3);
  int64_t expected = 0;
  for (const auto& b : batches) {
    EXPECT_EQ(b.images.shape(), (Shape{b.size(), 3, 224, 224}));
    EXPECT_EQ(b.images.dtype(), DType::F32);
    EXPECT_EQ(b.labels.dtype(), DType::I64);
    const auto labels = b.labels.to_vector<int64_t>();
    const auto domains = b.domains.to_vector<int64_t>();
    for (int64_t i = 0; i < b.size(); ++i, ++expected) {
      EXPECT_EQ(b.indices[size_t(i)], expected);
      EXPECT_EQ(b.paths[size_t(i)], samples[size_t(expected)].path);
      EXPECT_EQ(labels[size_t(i)], expected % 3);
      EXPECT_EQ(domains[size_t(i)], expected % 2);
    }
  }
  // Image rows equal the transform applied directly.
  std::vector<float> direct(3 * 224 * 224);
  Generator unused(0);
  loader.transform().apply(EncodedImage::read(samples[5].path), unused, direct.data());
  const float* row = batches[1].images.data<float>() + 1 * direct.size();
  EXPECT_EQ(std::vector<float>(row, row + direct.size()), direct);
}

TEST(Loader, ShuffleDropsTheLastBatchLikeDassl) {
  const auto samples = test::mixed_image_samples(test::scratch_dir("shuffle"), 23);
  DataLoader loader(samples, small_train_transform(), options(5, true, true, 2));
  EXPECT_EQ(loader.batches_per_epoch(), 4);  // floor(23 / 5)
  std::vector<std::vector<int64_t>> orders;
  for (int64_t e = 0; e < 3; ++e) {
    std::vector<int64_t> seen;
    for (const auto& b : epoch(loader, e)) {
      EXPECT_EQ(b.size(), 5);
      EXPECT_EQ(b.epoch, e);
      seen.insert(seen.end(), b.indices.begin(), b.indices.end());
    }
    EXPECT_EQ(std::set<int64_t>(seen.begin(), seen.end()).size(), 20u);  // no repeats within an epoch
    auto order = loader.epoch_order(e);
    EXPECT_EQ(std::vector<int64_t>(order.begin(), order.begin() + 20), seen);
    orders.push_back(seen);
  }
  EXPECT_NE(orders[0], orders[1]);
  // Replaying an epoch gives the same order.
  std::vector<int64_t> again;
  for (const auto& b : epoch(loader, 1)) again.insert(again.end(), b.indices.begin(), b.indices.end());
  EXPECT_EQ(again, orders[1]);
}

TEST(Loader, DropLastNeverEmptiesAnEpoch) {
  // Dassl: drop_last only when len(data) >= batch size.
  const auto samples = test::mixed_image_samples(test::scratch_dir("small"), 3);
  DataLoader loader(samples, small_train_transform(), options(8, true, true, 1));
  EXPECT_EQ(loader.batches_per_epoch(), 1);
  const auto batches = epoch(loader, 0);
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_EQ(batches[0].size(), 3);
}

TEST(Loader, BatchesAreIdenticalForAnyNumberOfWorkers) {
  const auto samples = test::mixed_image_samples(test::scratch_dir("threads"), 17);
  std::vector<std::vector<Batch>> runs;
  for (int workers : {0, 1, 3, 6}) {
    DataLoader loader(samples, small_train_transform(), options(4, true, true, workers));
    runs.push_back(epoch(loader, 2));
  }
  for (size_t r = 1; r < runs.size(); ++r) {
    ASSERT_EQ(runs[r].size(), runs[0].size());
    for (size_t b = 0; b < runs[0].size(); ++b) {
      EXPECT_EQ(runs[r][b].indices, runs[0][b].indices);
      EXPECT_TRUE(test::bit_equal(runs[r][b].images, runs[0][b].images)) << "run " << r << " batch " << b;
      EXPECT_TRUE(test::bit_equal(runs[r][b].labels, runs[0][b].labels));
    }
  }
  // And each row is the transform with the (seed, epoch, index) generator.
  const auto& b0 = runs[0][0];
  std::vector<float> direct(3 * 16 * 20);
  Generator g = sample_generator(42, 2, uint64_t(b0.indices[0]));
  small_train_transform().apply(EncodedImage::read(b0.paths[0]), g, direct.data());
  const float* row = b0.images.data<float>();
  EXPECT_EQ(std::vector<float>(row, row + direct.size()), direct);
}

TEST(Loader, LoadSamplesOnDemandThroughTheWorkers) {
  const auto samples = test::mixed_image_samples(test::scratch_dir("extra"), 9);
  DataLoader loader(samples, small_train_transform(), options(4, true, true, 2));
  loader.start_epoch(0);
  Batch first;
  ASSERT_TRUE(loader.next(first));
  const Batch neg = loader.load_samples(std::vector<int64_t>{7, 2, 7}, 0, 5);
  EXPECT_EQ(neg.size(), 3);
  EXPECT_EQ(neg.indices, (std::vector<int64_t>{7, 2, 7}));
  EXPECT_EQ(neg.labels.to_vector<int64_t>(), (std::vector<int64_t>{1, 2, 1}));
  std::vector<float> direct(3 * 16 * 20);
  Generator g = sample_generator(42, 0, 2, 5);
  small_train_transform().apply(EncodedImage::read(samples[2].path), g, direct.data());
  const float* row = neg.images.data<float>() + direct.size();
  EXPECT_EQ(std::vector<float>(row, row + direct.size()), direct);
  // The same image twice in one request is the same crop; another stream gives another crop.
  EXPECT_TRUE(test::bit_equal(neg.images.select(0, 0), neg.images.select(0, 2)));
  const Batch other = loader.load_samples(std::vector<int64_t>{7}, 0, 6);
  EXPECT_FALSE(test::bit_equal(other.images.select(0, 0), neg.images.select(0, 0)));
  // Arbitrary samples (e.g. a user-supplied negative list).
  const Batch listed = loader.load_samples(std::vector<Sample>{samples[4], samples[1]}, 3, 1);
  EXPECT_EQ(listed.paths, (std::vector<std::string>{samples[4].path, samples[1].path}));
  // The epoch continues unaffected.
  Batch second;
  ASSERT_TRUE(loader.next(second));
  EXPECT_EQ(second.batch_index, 1);
  EXPECT_ERROR_CONTAINS(loader.load_samples(std::vector<int64_t>{99}, 0, 1), "99");
}

TEST(Loader, WorkerErrorIsRethrownWithThePath) {
  auto samples = test::mixed_image_samples(test::scratch_dir("error"), 10);
  samples[6].path = (test::scratch_dir("error_missing") / "gone.jpg").string();
  for (int workers : {0, 3}) {
    DataLoader loader(samples, small_train_transform(), options(4, false, false, workers));
    loader.start_epoch(0);
    Batch b;
    ASSERT_TRUE(loader.next(b));
    EXPECT_ERROR_CONTAINS(loader.next(b), "gone.jpg");
    EXPECT_FALSE(loader.next(b));                         // the failed epoch is over
    EXPECT_ERROR_CONTAINS(epoch(loader, 1), "gone.jpg");  // a new epoch can start; the bad file fails again
  }
}

TEST(Loader, SkipBadImagesDropsAndCounts) {
  const fs::path dir = test::scratch_dir("skip");
  auto samples = test::mixed_image_samples(dir, 10);
  test::put_text(dir / "broken.jpg", "not an image");
  samples[2].path = (dir / "broken.jpg").string();
  samples[5].path = (dir / "missing.png").string();
  LoaderOptions o = options(4, false, false, 2);
  o.skip_bad_images = true;
  std::vector<std::string> warnings;
  std::mutex m;
  o.warn = [&](const std::string& w) {
    std::lock_guard<std::mutex> lock(m);
    warnings.push_back(w);
  };
  DataLoader loader(samples, small_train_transform(), o);
  const auto batches = epoch(loader, 0);
  ASSERT_EQ(batches.size(), 3u);
  EXPECT_EQ(batches[0].size(), 3);
  EXPECT_EQ(batches[0].indices, (std::vector<int64_t>{0, 1, 3}));
  EXPECT_EQ(batches[0].images.size(0), 3);
  EXPECT_EQ(batches[0].labels.to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 0}));
  EXPECT_EQ(batches[1].size(), 3);
  EXPECT_EQ(loader.skipped_images(), 2);
  ASSERT_EQ(warnings.size(), 2u);
  // The rows kept are the right images.
  std::vector<float> direct(3 * 16 * 20);
  Generator g = sample_generator(42, 0, 3);
  small_train_transform().apply(EncodedImage::read(samples[3].path), g, direct.data());
  const float* row = batches[0].images.data<float>() + 2 * direct.size();
  EXPECT_EQ(std::vector<float>(row, row + direct.size()), direct);
}

TEST(Loader, AllocatorHookProvidesTheBuffers) {
  const auto samples = test::mixed_image_samples(test::scratch_dir("alloc"), 6);
  LoaderOptions o = options(3, false, false, 1);
  std::atomic<int> calls{0};
  o.allocator = [&](const Shape& shape, DType dtype) {
    ++calls;
    return Tensor::zeros(shape, dtype);
  };
  DataLoader loader(samples, small_train_transform(), o);
  EXPECT_EQ(epoch(loader, 0).size(), 2u);
  EXPECT_EQ(calls.load(), 6);  // images, labels, domains per batch
}

TEST(Loader, StopFlagInterruptsAndDestructionMidEpochJoins) {
  const auto samples = test::mixed_image_samples(test::scratch_dir("stop"), 40);
  std::atomic<bool> stop{false};
  LoaderOptions o = options(4, true, true, 3);
  o.stop_flag = &stop;
  {
    DataLoader loader(samples, small_train_transform(), o);
    loader.start_epoch(0);
    Batch b;
    ASSERT_TRUE(loader.next(b));
    stop.store(true);  // what a SIGINT handler does
    bool interrupted = false;
    try {
      for (int i = 0; i < 20 && loader.next(b); ++i) {}
    } catch (const Interrupted&) { interrupted = true; }
    EXPECT_TRUE(interrupted);
    EXPECT_THROW(loader.load_samples(std::vector<int64_t>{0}, 0, 1), Interrupted);
  }  // destroyed with the epoch unfinished: must join, not hang
  {
    DataLoader loader(samples, small_train_transform(), options(4, true, true, 4));
    loader.start_epoch(0);
    Batch b;
    ASSERT_TRUE(loader.next(b));
  }
  {
    DataLoader loader(samples, small_train_transform(), options(4, true, true, 2));
    loader.request_stop();
    loader.start_epoch(0);
    Batch b;
    EXPECT_THROW(loader.next(b), Interrupted);
  }
}

TEST(Loader, ConfigurationErrors) {
  const auto samples = test::mixed_image_samples(test::scratch_dir("config"), 2);
  EXPECT_ERROR_CONTAINS(DataLoader(samples, small_train_transform(), options(0, false, false, 1)), "batch size");
  DataLoader loader(samples, small_train_transform(), options(2, false, false, 0));
  Batch b;
  EXPECT_ERROR_CONTAINS(loader.next(b), "start_epoch");
}

}  // namespace
}  // namespace clipt::data
