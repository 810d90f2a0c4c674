// The uint8 upload path against the float path it replaces: the loader's workers write planar uint8 (flip
// applied) and normalize_images produces the model's input; that input must equal the float Normalizer's
// bit for bit, for the train transform (random resized crops, flips) and the test transform, with and
// without "normalize". Also: the loader's uint8 mode, DeviceBatches' look-ahead (same batches, same order,
// errors raised where the plain loader raises them) and the bytes a batch puts on the bus.
#include <atomic>
#include <cstring>

#include "data/device_batches.h"
#include "data/loader.h"
#include "data/sample_rng.h"
#include "engine/ops/ops.h"
#include "tests/data/data_test_util.h"

namespace clipt::data {
namespace {

namespace fs = std::filesystem;

// Noise pictures (every byte value appears) of assorted sizes, lossless so decoding is exact.
std::vector<EncodedImage> noise_images(int n) {
  std::vector<EncodedImage> out;
  Generator g(7);
  for (int i = 0; i < n; ++i) {
    Image img(33 + 11 * i, 27 + 7 * (i % 4));
    for (auto& p : img.pixels) p = uint8_t(g.randint(0, 256));
    if (i == 0)
      for (size_t k = 0; k < 256 * 3 && k < img.pixels.size(); ++k) img.pixels[k] = uint8_t(k / 3);
    out.push_back(EncodedImage::from_bytes(encode_png(img), fmt::format("noise{}.png", i)));
  }
  return out;
}

TransformConfig config(bool normalize) {
  TransformConfig c;
  c.height = 24;
  c.width = 20;
  c.transforms = {"random_resized_crop", "random_flip"};
  if (normalize) c.transforms.push_back("normalize");
  return c;
}

// Runs both paths over every image with the same generators; returns how many images were flipped.
int expect_paths_agree(const ImageTransform& t, const std::vector<EncodedImage>& images) {
  const int64_t n = int64_t(images.size()), H = t.out_height(), W = t.out_width();
  const size_t per = t.image_floats();
  Tensor floats = Tensor::empty({n, 3, H, W}, DType::F32);
  Tensor bytes = Tensor::empty({n, 3, H, W}, DType::U8);
  int flipped = 0;
  for (int64_t i = 0; i < n; ++i) {
    Generator g1 = sample_generator(3, 0, uint64_t(i)), g2 = g1, g3 = g1;
    t.apply(images[size_t(i)], g1, floats.data<float>() + size_t(i) * per);
    t.apply_u8(images[size_t(i)], g2, bytes.data<uint8_t>() + size_t(i) * per);
    bool flip = false;
    (void)t.apply_pixels(images[size_t(i)], g3, &flip);
    flipped += flip;
  }
  const Tensor normalised = normalize_images(bytes, t.pixel_mean(), t.pixel_std());
  EXPECT_EQ(normalised.dtype(), DType::F32);
  EXPECT_EQ(std::memcmp(normalised.data_ptr(), floats.data_ptr(), floats.nbytes()), 0)
      << t.describe() << ": uint8 + normalize_images differs from the float Normalizer";
  return flipped;
}

TEST(UploadPath, Uint8ThenNormalizeImagesEqualsTheFloatPathBitForBit) {
  const auto images = noise_images(12);
  for (bool normalize : {true, false}) {
    SCOPED_TRACE(normalize ? "normalize" : "ToTensor only");
    const int flipped = expect_paths_agree(ImageTransform::train(config(normalize)), images);
    EXPECT_GT(flipped, 0) << "no image was flipped: the flip path is untested";
    EXPECT_LT(flipped, 12) << "every image was flipped: the unflipped path is untested";
    expect_paths_agree(ImageTransform::test(config(normalize)), images);
  }
}

TEST(UploadPath, PixelConstantsAreTheConfigsOrIdentity) {
  const ImageTransform with = ImageTransform::train(config(true)), without = ImageTransform::test(config(false));
  EXPECT_EQ(with.pixel_mean(), kClipMean);
  EXPECT_EQ(with.pixel_std(), kClipStd);
  EXPECT_EQ(without.pixel_mean(), (std::array<float, 3>{0, 0, 0}));
  EXPECT_EQ(without.pixel_std(), (std::array<float, 3>{1, 1, 1}));
}

LoaderOptions loader_options(bool uint8, int workers) {
  LoaderOptions o;
  o.batch_size = 4;
  o.shuffle = true;
  o.drop_last = false;
  o.num_workers = workers;
  o.prefetch_batches = 2;
  o.seed = 9;
  o.uint8_images = uint8;
  return o;
}

TEST(UploadPath, Uint8LoaderBatchesNormaliseToTheFloatLoadersBatches) {
  const fs::path dir = test::scratch_dir("upload_u8_loader");
  auto samples = test::mixed_image_samples(dir, 10);
  samples.push_back({(dir / "missing.png").string(), 1, "class1", 0});
  const ImageTransform t = ImageTransform::train(config(true));
  for (int workers : {0, 2}) {
    LoaderOptions of = loader_options(false, workers), ou = loader_options(true, workers);
    of.skip_bad_images = ou.skip_bad_images = true;  // the missing image exercises the row compaction
    of.warn = ou.warn = [](const std::string&) {};
    DataLoader lf(samples, t, of), lu(samples, t, ou);
    lf.start_epoch(1);
    lu.start_epoch(1);
    Batch bf, bu;
    int batches = 0;
    while (lf.next(bf)) {
      ASSERT_TRUE(lu.next(bu));
      ++batches;
      ASSERT_EQ(bu.images.dtype(), DType::U8);
      EXPECT_EQ(bu.indices, bf.indices);
      EXPECT_EQ(bu.labels.to_vector<int64_t>(), bf.labels.to_vector<int64_t>());
      EXPECT_EQ(upload_bytes(bu) - 2 * 8 * bu.size(), (upload_bytes(bf) - 2 * 8 * bf.size()) / 4)
          << "uint8 images are a quarter of the float bytes";
      const Tensor n = normalize_images(bu.images, t.pixel_mean(), t.pixel_std());
      ASSERT_EQ(n.shape(), bf.images.shape());
      EXPECT_EQ(std::memcmp(n.data_ptr(), bf.images.data_ptr(), bf.images.nbytes()), 0) << "batch " << batches;
    }
    EXPECT_FALSE(lu.next(bu));
    EXPECT_EQ(batches, 3);
    EXPECT_EQ(lu.skipped_images(), 1);
    // On-demand loads (DPC's negatives) come as uint8 too and normalise to the float ones.
    const Batch nf = lf.load_samples(std::vector<int64_t>{5, 2}, 0, 3),
                nu = lu.load_samples(std::vector<int64_t>{5, 2}, 0, 3);
    const Tensor d = device_images(nu.images, t, Device::cpu());
    EXPECT_EQ(std::memcmp(d.data_ptr(), nf.images.data_ptr(), nf.images.nbytes()), 0);
  }
}

TEST(UploadPath, DeviceBatchesHandOutTheLoadersBatchesInOrder) {
  const auto samples = test::mixed_image_samples(test::scratch_dir("upload_device_batches"), 11);
  const ImageTransform t = ImageTransform::train(config(true));
  for (bool look_ahead : {true, false}) {
    DataLoader reference(samples, t, loader_options(false, 1)), loader(samples, t, loader_options(true, 1));
    reference.start_epoch(2);
    loader.start_epoch(2);
    DeviceBatches uploads(loader, Device::cpu(), look_ahead);
    Batch want, got;
    int n = 0;
    while (reference.next(want)) {
      ASSERT_TRUE(uploads.next(got));
      EXPECT_EQ(got.indices, want.indices);
      EXPECT_EQ(got.batch_index, want.batch_index);
      if (n == 1) {  // a batch that is not uploaded (a resumed run skipping trained batches) is just dropped
        ++n;
        continue;
      }
      const DeviceBatch d = uploads.upload();
      EXPECT_EQ(d.images.dtype(), DType::F32);
      EXPECT_EQ(std::memcmp(d.images.data_ptr(), want.images.data_ptr(), want.images.nbytes()), 0);
      EXPECT_EQ(d.labels.to_vector<int64_t>(), want.labels.to_vector<int64_t>());
      EXPECT_EQ(d.domains.to_vector<int64_t>(), want.domains.to_vector<int64_t>());
      ++n;
    }
    EXPECT_FALSE(uploads.next(got));
    EXPECT_EQ(n, 3);
  }
}

TEST(UploadPath, ALookAheadFailureIsRaisedWhereThePlainLoaderRaisesIt) {
  const fs::path dir = test::scratch_dir("upload_look_ahead_error");
  auto samples = test::mixed_image_samples(dir, 8);
  test::put_file(dir / "broken.png", {1, 2, 3});
  samples[5].path = (dir / "broken.png").string();  // batch 1 of 2 (sequential, batch size 4)
  LoaderOptions o = loader_options(true, 0);
  o.shuffle = false;
  DataLoader loader(samples, ImageTransform::test(config(true)), o);
  loader.start_epoch(0);
  DeviceBatches uploads(loader, Device::cpu());
  Batch b;
  ASSERT_TRUE(uploads.next(b));
  EXPECT_NO_THROW(uploads.upload()) << "batch 0 is fine; batch 1's failure belongs to the next next()";
  EXPECT_ERROR_CONTAINS(uploads.next(b), "broken.png");
}

TEST(UploadPath, AStopAfterTheLookAheadIsRaisedAtTheBatchItInterrupted) {
  // As with the plain loader: a batch already loaded is handed out; the stop is raised by the next()
  // whose batch the stop interrupted (here the look-ahead's, kept until then).
  const auto samples = test::mixed_image_samples(test::scratch_dir("upload_look_ahead_stop"), 12);
  std::atomic<bool> stop{false};
  LoaderOptions o = loader_options(true, 0);  // no workers: a batch not yet loaded is loaded by next()
  o.stop_flag = &stop;
  DataLoader loader(samples, ImageTransform::test(config(true)), o);
  loader.start_epoch(0);
  DeviceBatches uploads(loader, Device::cpu());
  Batch b;
  ASSERT_TRUE(uploads.next(b));
  (void)uploads.upload();  // batch 1 is loaded ahead here
  stop = true;
  ASSERT_TRUE(uploads.next(b));
  EXPECT_EQ(b.batch_index, 1);
  EXPECT_NO_THROW(uploads.upload()) << "the look-ahead's interruption belongs to the next next()";
  EXPECT_THROW(uploads.next(b), Interrupted);
}

}  // namespace
}  // namespace clipt::data
