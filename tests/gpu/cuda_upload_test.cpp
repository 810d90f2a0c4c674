// The uint8 upload path on a device: normalize_images' kernel against the CPU backend bit for bit (f32,
// f16, bf16; the 128-bit path and the scalar path of odd planes and misaligned views), AsyncUpload's copies
// from pinned and pageable memory on the copy stream, ordered before the compute stream's use, and the
// trainer's DeviceBatches on CUDA equal to the same batches on the CPU.
#include <cstring>
#include <fstream>

#include "data/device_batches.h"
#include "engine/runtime/async_upload.h"
#include "engine/runtime/pinned_host.h"
#include "tests/gpu/gpu_test_util.h"

#ifdef CLIPT_WITH_CUDA
#include "engine/runtime/context.h"
#endif

namespace clipt {
namespace {

using test::gpu::cuda0;

constexpr std::array<float, 3> kMean{0.48145466f, 0.4578275f, 0.40821073f};
constexpr std::array<float, 3> kStd{0.26862954f, 0.26130258f, 0.27577711f};

Tensor random_u8(const Shape& shape, uint64_t seed) {
  Generator g(seed);
  std::vector<uint8_t> v(size_t(numel_of(shape)));
  for (auto& x : v) x = uint8_t(g.randint(0, 256));
  return Tensor::from_vector(v, shape);
}

void expect_same_bits(const Tensor& cpu, const Tensor& cuda, const std::string& what) {
  const Tensor back = cuda.to(Device::cpu());
  ASSERT_EQ(back.dtype(), cpu.dtype()) << what;
  ASSERT_EQ(back.shape(), cpu.shape()) << what;
  EXPECT_EQ(std::memcmp(back.data_ptr(), cpu.data_ptr(), cpu.nbytes()), 0) << what << ": CUDA differs from CPU";
}

TEST(CudaUpload, NormalizeImagesMatchesTheCpuBitForBit) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  // 224x224 and 16x16 planes take the vector path; 7x5 and the offset view the scalar path.
  for (const Shape& shape : {Shape{4, 3, 224, 224}, Shape{2, 3, 16, 16}, Shape{3, 3, 7, 5}}) {
    const Tensor img = random_u8(shape, uint64_t(shape[2]));
    for (DType d : {DType::F32, DType::F16, DType::BF16}) {
      expect_same_bits(normalize_images(img, kMean, kStd, d), normalize_images(img.to(cuda0()), kMean, kStd, d),
                       fmt::format("{} {}", shape_str(shape), dtype_name(d)));
    }
    expect_same_bits(normalize_images(img, {0, 0, 0}, {1, 1, 1}),
                     normalize_images(img.to(cuda0()), {0, 0, 0}, {1, 1, 1}), "ToTensor only");
  }
  // A batch that starts one byte into its storage: misaligned for 128-bit loads.
  const Tensor flat = random_u8({1 + 2 * 3 * 32 * 32}, 5);
  const Tensor view = flat.narrow(0, 1, 2 * 3 * 32 * 32).reshape({2, 3, 32, 32});
  expect_same_bits(
      normalize_images(view.contiguous(), kMean, kStd),
      normalize_images(flat.to(cuda0()).narrow(0, 1, 2 * 3 * 32 * 32).reshape({2, 3, 32, 32}), kMean, kStd),
      "misaligned");
}

TEST(CudaUpload, AsyncUploadCopiesPinnedAndPageableTensorsBeforeTheirUse) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  Tensor pinned = pinned_empty({3, 64, 64}, DType::U8);
  const Tensor src = random_u8({3, 64, 64}, 9);
  std::memcpy(pinned.data_ptr(), src.data_ptr(), src.nbytes());
  const Tensor labels = Tensor::from_vector(std::vector<int64_t>{4, 1, 7}, {3});  // pageable
  for (int round = 0; round < 3; ++round) {  // the pinned buffer is reused behind the copies' events
    AsyncUpload up({pinned, labels, src.narrow(1, 1, 8)}, cuda0());
    std::vector<Tensor> d = up.take();
    ASSERT_EQ(d.size(), 3u);
    EXPECT_TRUE(d[0].device().is_cuda());
    expect_same_bits(src, d[0], "pinned");
    expect_same_bits(labels, d[1], "pageable");
    expect_same_bits(src.narrow(1, 1, 8).contiguous(), d[2], "strided");
  }
  // An upload dropped before it is taken frees its blocks behind the copy.
  { AsyncUpload dropped({pinned}, cuda0()); }
  cuda_backend().synchronize();
}

TEST(CudaUpload, DeviceBatchesOnCudaEqualTheCpuBatches) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  const auto dir = test::scratch_dir("cuda_device_batches");
  std::vector<data::Sample> samples;
  Generator g(3);
  for (int i = 0; i < 10; ++i) {
    data::Image img(40 + i, 36);
    for (auto& p : img.pixels) p = uint8_t(g.randint(0, 256));
    const auto path = dir / fmt::format("n{}.png", i);
    const auto bytes = data::encode_png(img);
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
    samples.push_back({path.string(), i % 3, "c", 0});
  }
  data::TransformConfig tc;
  tc.height = tc.width = 32;
  data::LoaderOptions o;
  o.batch_size = 4;
  o.shuffle = true;
  o.num_workers = 2;
  o.seed = 1;
  o.uint8_images = true;
  data::LoaderOptions pinned = o;
  pinned.allocator = [](const Shape& s, DType d) { return pinned_empty(s, d); };
  data::DataLoader cpu_loader(samples, data::ImageTransform::train(tc), o),
      gpu_loader(samples, data::ImageTransform::train(tc), pinned);
  cpu_loader.start_epoch(0);
  gpu_loader.start_epoch(0);
  data::DeviceBatches on_cpu(cpu_loader, Device::cpu()), on_gpu(gpu_loader, cuda0());
  data::Batch a, b;
  int n = 0;
  while (on_cpu.next(a)) {
    ASSERT_TRUE(on_gpu.next(b));
    const data::DeviceBatch x = on_cpu.upload(), y = on_gpu.upload();
    expect_same_bits(x.images, y.images, fmt::format("batch {} images", n));
    expect_same_bits(x.labels, y.labels, fmt::format("batch {} labels", n));
    ++n;
  }
  EXPECT_FALSE(on_gpu.next(b));
  EXPECT_EQ(n, 3);
}

#ifdef CLIPT_WITH_CUDA
TEST(CudaUpload, SmallPageableUploadsDoNotWaitForTheStream) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  // Class-subset rows and sampled indices are built on the host during a step (CoCoOp, DPC, MetaPrompt):
  // their upload is staged through the pinned pool and must not wait for the work queued before it.
  const Tensor a = test::gpu::random_cpu({4096, 4096}, DType::F32, 1).to(cuda0());
  Tensor busy = a;
  for (int i = 0; i < 8; ++i) busy = matmul(busy, a);  // many milliseconds of queued work
  std::vector<int64_t> rows(300);
  for (size_t i = 0; i < rows.size(); ++i) rows[i] = int64_t(rows.size() - i);
  const Tensor idx = Tensor::from_vector(rows, {int64_t(rows.size())}, cuda0());
  EXPECT_EQ(cudaStreamQuery(cuda::current_stream(0)), cudaErrorNotReady)
      << "the upload of a small pageable vector waited for the stream";
  EXPECT_EQ(idx.to_vector<int64_t>(), rows);
  // A large pageable tensor (over the staging limit) is copied as before and arrives intact.
  const Tensor big = test::gpu::random_cpu({1 << 19}, DType::F32, 2);
  EXPECT_EQ(big.to(cuda0()).to_vector<float>(), big.to_vector<float>());
}
#endif

}  // namespace
}  // namespace clipt
