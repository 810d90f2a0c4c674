// Data pipeline throughput: decode + random-resized-crop + flip + normalise of 500×375 JPEGs to 224×224,
// on one core (the per-core figure the issue targets: ≥ 400 images/s) and through the threaded loader
// with every core. Generates its own photo-like JPEGs (about ImageNet's size and entropy) in a temp
// folder. Prints one JSON line per measurement:
//   {"name":..., "images_per_s":..., "per_core":..., "target_per_core": 400, "ratio": per_core / 400, ...}
//
// Usage: bench_data_pipeline [--seconds S] [--images N] [--workers W]
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "data/device_batches.h"
#include "data/image.h"
#include "data/loader.h"
#include "data/sample_rng.h"
#include "data/transforms.h"

namespace fs = std::filesystem;
using namespace clipt;
using namespace clipt::data;

namespace {

constexpr double kTargetPerCore = 400.0;

// Smooth shapes, gradients, texture and sensor-like noise: compresses to roughly ImageNet's file sizes.
Image photo_like(int width, int height, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  Image img(width, height);
  const double fx = 0.01 + 0.05 * u(rng), fy = 0.01 + 0.05 * u(rng), phase = 6.28 * u(rng);
  struct Blob {
    double x, y, r;
    int c[3];
  };
  std::vector<Blob> blobs;
  for (int i = 0; i < 12; ++i)
    blobs.push_back(
        {u(rng) * width, u(rng) * height, 15 + 80 * u(rng), {int(255 * u(rng)), int(255 * u(rng)), int(255 * u(rng))}});
  std::normal_distribution<double> noise(0, 9);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      double px[3] = {128 + 60 * std::sin(fx * x + phase) * std::cos(fy * y), 110 + 50 * std::cos(fx * y - phase),
                      90 + 70 * std::sin(0.5 * (fx + fy) * (x + y))};
      for (const auto& b : blobs) {
        const double d2 = (x - b.x) * (x - b.x) + (y - b.y) * (y - b.y);
        if (d2 < b.r * b.r) {
          const double texture = 20 * std::sin(0.4 * x + 0.3 * y + b.r);
          for (int c = 0; c < 3; ++c) px[c] = b.c[c] + texture;
        }
      }
      for (int c = 0; c < 3; ++c) {
        const double v = px[c] + noise(rng);
        img.at(x, y, c) = uint8_t(v < 0 ? 0 : v > 255 ? 255 : v);
      }
    }
  return img;
}

double now_s() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

// CPU seconds of this thread / of the whole process: the per-core figures use these, so that a busy
// shared machine (other jobs stealing the core) does not deflate them.
double thread_cpu_s() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}
double process_cpu_s() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

struct Rate {
  double wall_per_s = 0;  // images per wall-clock second
  double cpu_per_s = 0;   // images per CPU second (per core)
};

// images_per_s is wall-clock throughput; per_core is images per CPU-second of the threads doing the work.
void print_line(const std::string& name, const Rate& rate, int cores, const std::string& extra = "") {
  fmt::print(
      "{{\"name\": \"{}\", \"images_per_s\": {:.1f}, \"cores\": {}, \"per_core\": {:.1f}, "
      "\"target_per_core\": {:.0f}, \"ratio\": {:.3f}{}}}\n",
      name, rate.wall_per_s, cores, rate.cpu_per_s, kTargetPerCore, rate.cpu_per_s / kTargetPerCore, extra);
  std::fflush(stdout);
}

// Runs the transform over the encoded images on this thread for about `seconds`.
Rate single_core(const ImageTransform& transform, const std::vector<EncodedImage>& images, double seconds,
                 bool from_disk, const std::vector<std::string>& paths) {
  std::vector<float> out(transform.image_floats());
  int64_t done = 0;
  const double start = now_s(), cpu_start = thread_cpu_s();
  double elapsed = 0;
  while (elapsed < seconds) {
    for (size_t i = 0; i < images.size(); ++i, ++done) {
      Generator rng = sample_generator(0, 0, uint64_t(done));
      if (from_disk) {
        const auto encoded = EncodedImage::read(paths[i]);
        transform.apply(encoded, rng, out.data());
      } else {
        transform.apply(images[i], rng, out.data());
      }
    }
    elapsed = now_s() - start;
  }
  return Rate{double(done) / elapsed, double(done) / (thread_cpu_s() - cpu_start)};
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 3.0;
  int n_images = 64;
  int workers = int(std::thread::hardware_concurrency());
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--seconds")
      seconds = std::atof(argv[i + 1]);
    else if (flag == "--images")
      n_images = std::atoi(argv[i + 1]);
    else if (flag == "--workers")
      workers = std::atoi(argv[i + 1]);
  }
  if (workers < 1) workers = 1;

  const fs::path dir = fs::temp_directory_path() / fmt::format("clipt_bench_data_{}", ::getpid());
  fs::create_directories(dir);
  std::vector<EncodedImage> images;
  std::vector<std::string> paths;
  std::vector<Sample> samples;
  size_t total_bytes = 0;
  for (int i = 0; i < n_images; ++i) {
    const auto bytes = encode_jpeg(photo_like(500, 375, uint32_t(i)), 90);
    const fs::path p = dir / fmt::format("img_{:04d}.jpg", i);
    write_jpeg(p, decode(EncodedImage::from_bytes(bytes, "x")).image, 90);
    paths.push_back(p.string());
    images.push_back(EncodedImage::read(p));
    total_bytes += images.back().bytes().size();
    samples.push_back(Sample{p.string(), i % 10, "class", 0});
  }
  const std::string size_note = fmt::format(", \"mean_jpeg_kb\": {:.1f}", double(total_bytes) / n_images / 1024.0);

  TransformConfig config;  // CoOp's: random_resized_crop + random_flip + normalize, 224, bicubic
  const ImageTransform train = ImageTransform::train(config);
  TransformConfig exact_config = config;
  exact_config.dct_scaling_train = false;
  const ImageTransform train_exact = ImageTransform::train(exact_config);
  const ImageTransform test = ImageTransform::test(config);

  // Decode alone, for reference.
  {
    int64_t done = 0;
    const double start = now_s(), cpu_start = thread_cpu_s();
    double elapsed = 0;
    while (elapsed < seconds) {
      for (const auto& e : images) {
        (void)decode(e);
        ++done;
      }
      elapsed = now_s() - start;
    }
    print_line("jpeg_decode_full_500x375", Rate{double(done) / elapsed, double(done) / (thread_cpu_s() - cpu_start)}, 1,
               size_note);
  }
  print_line("train_rrc_flip_normalize_1core", single_core(train, images, seconds, false, paths), 1, size_note);
  print_line("train_rrc_flip_normalize_1core_from_files", single_core(train, images, seconds, true, paths), 1,
             size_note);
  print_line("train_rrc_flip_normalize_1core_pil_exact", single_core(train_exact, images, seconds, false, paths), 1,
             size_note);
  print_line("test_resize_centercrop_normalize_1core", single_core(test, images, seconds, false, paths), 1, size_note);

  // The threaded loader with every core, batch 32, shuffled, as a CoOp training epoch: float batches
  // (normalised by the workers) and uint8 batches (the trainer's mode: normalised on the device), with the
  // bytes each batch puts on the bus.
  for (bool uint8 : {false, true}) {
    LoaderOptions options;
    options.uint8_images = uint8;
    options.batch_size = 32;
    options.shuffle = true;
    options.drop_last = true;
    options.num_workers = workers;
    options.prefetch_batches = 2 * workers / 32 + 4;
    std::vector<Sample> many;
    for (int rep = 0; rep < 8; ++rep) many.insert(many.end(), samples.begin(), samples.end());
    DataLoader loader(many, train, options);
    int64_t images_done = 0, batch_bytes = 0;
    const double start = now_s(), cpu_start = process_cpu_s();
    double elapsed = 0;
    for (int64_t epoch = 0; elapsed < seconds; ++epoch) {
      loader.start_epoch(epoch);
      Batch batch;
      while (loader.next(batch)) {
        images_done += batch.size();
        batch_bytes = upload_bytes(batch);
      }
      elapsed = now_s() - start;
    }
    // CPU time of the whole process (workers and the consuming main thread) per image.
    print_line(uint8 ? "loader_train_batch32_all_cores_uint8" : "loader_train_batch32_all_cores",
               Rate{double(images_done) / elapsed, double(images_done) / (process_cpu_s() - cpu_start)}, workers,
               size_note + fmt::format(", \"upload_bytes_per_batch\": {}", batch_bytes));
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  return 0;
}
