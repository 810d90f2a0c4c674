// normalize_images on the CPU backend (the reference of the CUDA kernel): torchvision's ToTensor +
// Normalize values written out by hand for the extreme pixels, every pixel value of every channel against
// the float32 formula, the output dtypes as the f32 result rounded, the layout (batch, channel planes), and
// one clear error for each bad argument.
#include <gtest/gtest.h>

#include <cstring>

#include "engine/ops/ops.h"
#include "engine/ops/random.h"
#include "tests/common/test_util.h"

namespace clipt {
namespace {

constexpr std::array<float, 3> kMean{0.48145466f, 0.4578275f, 0.40821073f};
constexpr std::array<float, 3> kStd{0.26862954f, 0.26130258f, 0.27577711f};

// Every value 0..255 in each channel plane of a [1, 3, 16, 16] batch.
Tensor all_values() {
  std::vector<uint8_t> v(3 * 256);
  for (size_t c = 0; c < 3; ++c)
    for (size_t i = 0; i < 256; ++i) v[c * 256 + i] = uint8_t(i);
  return Tensor::from_vector(v, {1, 3, 16, 16});
}

TEST(NormalizeImages, ExtremePixelsAreTorchvisionsValues) {
  const std::vector<float> out = normalize_images(all_values(), kMean, kStd).to_vector<float>();
  for (size_t c = 0; c < 3; ++c) {
    // torch: (torch.tensor([0., 1.]) - mean) / std in float32.
    const float lo = (0.0f - kMean[c]) / kStd[c], hi = (1.0f - kMean[c]) / kStd[c];
    EXPECT_EQ(out[c * 256], lo) << "channel " << c;
    EXPECT_EQ(out[c * 256 + 255], hi) << "channel " << c;
  }
  EXPECT_NEAR(out[0], -1.7922625, 1e-6);  // CLIP's well-known black level for red
}

TEST(NormalizeImages, EveryValueFollowsTheFloat32FormulaPerChannel) {
  const std::vector<float> out = normalize_images(all_values(), kMean, kStd).to_vector<float>();
  for (size_t c = 0; c < 3; ++c)
    for (int v = 0; v < 256; ++v) {
      volatile float x = float(v) / 255.0f;  // volatile: one rounding per operation, as torch does
      volatile float centred = x - kMean[c];
      const float want = centred / kStd[c];
      ASSERT_EQ(out[c * 256 + size_t(v)], want) << "channel " << c << " value " << v;
    }
}

TEST(NormalizeImages, ToTensorAloneIsMeanZeroStdOne) {
  const std::vector<float> out = normalize_images(all_values(), {0, 0, 0}, {1, 1, 1}).to_vector<float>();
  for (int v = 0; v < 256; ++v) ASSERT_EQ(out[size_t(512 + v)], float(v) / 255.0f);
}

TEST(NormalizeImages, OutputDtypesAreTheFloatResultRounded) {
  Generator g(11);
  Tensor img = mul(rand({3, 3, 5, 7}, g), 255.0).to(DType::U8);
  const Tensor f32 = normalize_images(img, kMean, kStd);
  for (DType d : {DType::F16, DType::BF16, DType::F64}) {
    SCOPED_TRACE(dtype_name(d));
    const Tensor got = normalize_images(img, kMean, kStd, d);
    ASSERT_EQ(got.dtype(), d);
    const Tensor want = f32.to(d);
    EXPECT_EQ(std::memcmp(got.data_ptr(), want.data_ptr(), want.nbytes()), 0);
  }
}

TEST(NormalizeImages, ChannelsAreThePlanesOfEachImage) {
  // Image b, channel c filled with value 10·b + c: the output of plane (b, c) uses channel c's constants.
  const int64_t B = 3, H = 2, W = 3;
  std::vector<uint8_t> v;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t i = 0; i < H * W; ++i) v.push_back(uint8_t(10 * b + c));
  const Tensor img = Tensor::from_vector(v, {B, 3, H, W});
  const std::vector<float> out = normalize_images(img, kMean, kStd).to_vector<float>();
  for (int64_t b = 0; b < B; ++b)
    for (int64_t c = 0; c < 3; ++c) {
      const float want = (float(10 * b + c) / 255.0f - kMean[size_t(c)]) / kStd[size_t(c)];
      for (int64_t i = 0; i < H * W; ++i) ASSERT_EQ(out[size_t((b * 3 + c) * H * W + i)], want);
    }
  // A strided view is packed first: the same values as its contiguous copy.
  const Tensor wide = Tensor::from_vector(v, {B, 3, W, H}).transpose(2, 3);
  EXPECT_EQ(normalize_images(wide, kMean, kStd).to_vector<float>(),
            normalize_images(wide.contiguous(), kMean, kStd).to_vector<float>());
}

TEST(NormalizeImages, BadArgumentsAreOneClearError) {
  const Tensor img = Tensor::zeros({2, 3, 4, 4}, DType::U8);
  EXPECT_ERROR_CONTAINS(normalize_images(img.to(DType::F32), kMean, kStd), "uint8");
  EXPECT_ERROR_CONTAINS(normalize_images(Tensor::zeros({2, 4, 4, 4}, DType::U8), kMean, kStd), "[B, 3, H, W]");
  EXPECT_ERROR_CONTAINS(normalize_images(img, kMean, {0.2f, 0.0f, 0.3f}), "std[1] is zero");
  EXPECT_ERROR_CONTAINS(normalize_images(img, kMean, kStd, DType::I64), "floating");
  EXPECT_EQ(normalize_images(Tensor::zeros({0, 3, 4, 4}, DType::U8), kMean, kStd).shape(), (Shape{0, 3, 4, 4}));
}

}  // namespace
}  // namespace clipt
