// safetensors reader and writer: the reference implementation's own file (tests/golden/io), bit-exact
// round trips of every dtype and layout, zero-copy mapping, conversion on load, and writer errors.
// Malformed files are covered in safetensors_malformed_test.cpp, the fuzz test in safetensors_fuzz_test.cpp.
#include "engine/io/safetensors.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

#include "engine/ops/ops.h"
#include "tests/common/test_util.h"

namespace clipt::io {
namespace {

namespace fs = std::filesystem;

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

template <typename T> std::vector<T> raw_values(const Tensor& t) {  // the stored bit patterns, whatever the dtype
  Tensor c = t.contiguous();
  std::vector<T> out(size_t(c.nbytes() / sizeof(T)));
  if (!out.empty()) std::memcpy(out.data(), c.data_ptr(), c.nbytes());
  return out;
}

// A tensor of `dtype` whose bytes are random (for floats this includes NaN payloads, infinities,
// subnormals and -0: a round trip must keep every bit). Bool bytes are 0/1.
Tensor random_tensor(const Shape& shape, DType dtype, uint64_t seed) {
  Tensor t = Tensor::empty(shape, dtype);
  std::mt19937_64 rng(seed);
  auto* p = static_cast<uint8_t*>(t.data_ptr());
  for (size_t i = 0; i < t.nbytes(); ++i) p[i] = uint8_t(dtype == DType::Bool ? rng() & 1 : rng() & 0xff);
  return t;
}

const DType kAllDTypes[] = {DType::F32, DType::F64, DType::F16, DType::BF16,
                            DType::I32, DType::I64, DType::U8,  DType::Bool};

fs::path reference_file() { return test::golden_dir() / "io" / "reference.safetensors"; }

// ---- the reference implementation's file ----

TEST(SafetensorsReference, ReadsFileWrittenByReferenceImplementation) {
  SafetensorsFile f(reference_file());
  // Header order (the reference writer sorts by dtype, then name).
  EXPECT_EQ(f.names(),
            (std::vector<std::string>{"i64", "f64", "empty", "f32", "scalar", "i32", "bf16", "f16", "u8", "bool"}));
  EXPECT_EQ(f.metadata(), (Metadata{{"purpose", "clipt reader test – ünïcode"}}));

  Tensor f32 = f.get("f32");
  EXPECT_EQ(f32.dtype(), DType::F32);
  EXPECT_EQ(f32.shape(), (Shape{2, 3}));
  // 1.5, -0.0, NaN, inf, -inf, 1e-45 (the smallest f32 subnormal) as bits.
  EXPECT_EQ(raw_values<uint32_t>(f32),
            (std::vector<uint32_t>{0x3fc00000u, 0x80000000u, 0x7fc00000u, 0x7f800000u, 0xff800000u, 0x00000001u}));
  EXPECT_EQ(f.get("f64").to_vector<double>(), (std::vector<double>{M_PI, -1e300, 5e-324}));
  EXPECT_EQ(f.get("f16").to_vector<float>(), (std::vector<float>{1.0f, -2.5f, 65504.0f}));
  Tensor bf16 = f.get("bf16");
  EXPECT_EQ(bf16.shape(), (Shape{2, 2}));
  // torch rounds -3e38 to 0xff62, 1e-38 to 0x006d (subnormal in bf16's 8-bit exponent range), 0.1 to 0x3dcd.
  EXPECT_EQ(raw_values<uint16_t>(bf16), (std::vector<uint16_t>{0x3f80, 0xff62, 0x006d, 0x3dcd}));
  EXPECT_EQ(f.get("i32").to_vector<int32_t>(), (std::vector<int32_t>{INT32_MIN, INT32_MAX, 7}));
  EXPECT_EQ(f.get("i64").to_vector<int64_t>(), (std::vector<int64_t>{INT64_MIN, INT64_MAX}));
  EXPECT_EQ(f.get("i64").shape(), (Shape{2, 1}));
  EXPECT_EQ(f.get("u8").to_vector<uint8_t>(), (std::vector<uint8_t>{0, 1, 128, 255, 3}));
  Tensor b = f.get("bool");
  EXPECT_EQ(b.dtype(), DType::Bool);
  EXPECT_EQ(b.to_vector<uint8_t>(), (std::vector<uint8_t>{1, 0, 1}));
  Tensor scalar = f.get("scalar");
  EXPECT_EQ(scalar.dim(), 0);
  EXPECT_EQ(scalar.item(), 42.25);
  Tensor empty = f.get("empty");
  EXPECT_EQ(empty.shape(), (Shape{0, 4}));
  EXPECT_EQ(empty.numel(), 0);
}

// Given the same tensors in the same order, our writer must produce the reference's bytes exactly:
// same compact JSON, key order, padding and data layout. (So the Python package reads our files.)
TEST(SafetensorsReference, WriterReproducesReferenceBytes) {
  SafetensorsFile f(reference_file());
  EXPECT_EQ(serialize_safetensors(f.tensors(), f.metadata()), read_all(reference_file()));
}

// ---- round trips ----

TEST(SafetensorsRoundTrip, EveryDTypeIsBitExact) {
  const auto dir = test::scratch_dir("st");
  NamedTensors tensors;
  uint64_t seed = 1;
  for (DType dt : kAllDTypes) {
    const std::string name(dtype_name(dt));
    tensors.emplace_back(name + ".matrix", random_tensor({3, 5}, dt, seed++));
    tensors.emplace_back(name + ".odd", random_tensor({7}, dt, seed++));  // odd byte counts for 1/2-byte types
    tensors.emplace_back(name + ".scalar", random_tensor({}, dt, seed++));
    tensors.emplace_back(name + ".empty", Tensor::empty({2, 0, 3}, dt));
  }
  const Metadata metadata{{"epoch", "3"}, {"note", "quotes \" and \\ and\nnewline, ünïcode"}, {"", "empty key"}};
  const auto path = dir / "all.safetensors";
  save_safetensors(path, tensors, metadata);

  SafetensorsFile f(path);
  EXPECT_EQ(f.metadata(), metadata);
  ASSERT_EQ(f.size(), tensors.size());
  std::vector<std::string> expected_names;
  for (const auto& [name, t] : tensors) expected_names.push_back(name);
  EXPECT_EQ(f.names(), expected_names);  // the caller's order survives
  for (const auto& [name, t] : tensors) {
    SCOPED_TRACE(name);
    Tensor back = f.get(name);
    EXPECT_EQ(f.dtype(name), t.dtype());
    EXPECT_EQ(f.shape(name), t.shape());
    EXPECT_TRUE(test::bit_equal(back, t));
    // The writer sorts by element size, so every tensor is aligned and viewed in place.
    EXPECT_EQ(reinterpret_cast<uintptr_t>(back.data_ptr()) % back.element_size(), 0u);
  }
}

TEST(SafetensorsRoundTrip, NonContiguousInputsAreWrittenInLogicalOrder) {
  const auto dir = test::scratch_dir("st");
  Tensor base = Tensor::from_vector({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, {3, 4});
  NamedTensors tensors{
      {"transposed", base.t()},                                          // [4, 3], strides [1, 4]
      {"narrowed", base.narrow(1, 1, 2)},                                // [3, 2], offset 1
      {"expanded", Tensor::from_vector({7, 8}, {2, 1}).expand({2, 3})},  // stride 0
      {"permuted_f16", random_tensor({2, 3, 4}, DType::F16, 9).permute({2, 0, 1})},
      {"strided", slice(base, 1, 0, 4, 2)},
  };
  save_safetensors(dir / "views.safetensors", tensors);
  SafetensorsFile f(dir / "views.safetensors");
  EXPECT_EQ(f.get("transposed").to_vector<float>(), (std::vector<float>{0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11}));
  EXPECT_EQ(f.get("narrowed").to_vector<float>(), (std::vector<float>{1, 2, 5, 6, 9, 10}));
  EXPECT_EQ(f.get("expanded").to_vector<float>(), (std::vector<float>{7, 7, 7, 8, 8, 8}));
  EXPECT_EQ(f.get("strided").to_vector<float>(), (std::vector<float>{0, 2, 4, 6, 8, 10}));
  for (const auto& [name, t] : tensors) EXPECT_TRUE(test::bit_equal(f.get(name), t)) << name;
}

TEST(SafetensorsRoundTrip, EmptyFileAndInMemoryImage) {
  const std::string bytes = serialize_safetensors({});
  // The reference writes "{}" padded with spaces to 8 bytes after the length.
  EXPECT_EQ(bytes, std::string("\x08\0\0\0\0\0\0\0{}      ", 16));
  SafetensorsFile f = SafetensorsFile::from_bytes(bytes);
  EXPECT_EQ(f.size(), 0u);
  EXPECT_TRUE(f.metadata().empty());
}

TEST(SafetensorsRoundTrip, HeaderIsPaddedToEightBytes) {
  for (int len = 1; len <= 9; ++len) {
    const std::string bytes = serialize_safetensors({{std::string(size_t(len), 'n'), Tensor::ones({1}, DType::U8)}});
    uint64_t header_len = 0;
    std::memcpy(&header_len, bytes.data(), 8);
    EXPECT_EQ(header_len % 8, 0u);
    EXPECT_EQ(bytes.size(), 8 + header_len + 1);
    EXPECT_TRUE(bytes[8 + header_len - 1] == ' ' || bytes[8 + header_len - 1] == '}');
  }
}

// ---- zero copy, conversion, lifetime ----

TEST(SafetensorsMapping, GetIsZeroCopyAndCopyOnWrite) {
  const auto dir = test::scratch_dir("st");
  const auto path = dir / "w.safetensors";
  Tensor w = Tensor::from_vector({1, 2, 3, 4}, {2, 2});
  save_safetensors(path, {{"w", w}});
  const std::string before = read_all(path);

  SafetensorsFile f(path);
  Tensor a = f.get("w"), b = f.get("w");
  EXPECT_EQ(a.data_ptr(), b.data_ptr());  // both view the mapping; a copy would allocate twice
  a.fill_(9.0);  // private mapping: allowed, visible through views of this mapping, never in the file
  EXPECT_EQ(b.to_vector<float>(), (std::vector<float>{9, 9, 9, 9}));
  EXPECT_EQ(read_all(path), before);
  EXPECT_EQ(SafetensorsFile(path).get("w").to_vector<float>(), (std::vector<float>{1, 2, 3, 4}));
}

TEST(SafetensorsMapping, TensorsOutliveTheFileObject) {
  const auto dir = test::scratch_dir("st");
  save_safetensors(dir / "a.safetensors", {{"x", Tensor::from_vector({5, 6, 7}, {3})}});
  Tensor x;
  {
    SafetensorsFile f(dir / "a.safetensors");
    x = f.get("x");
  }
  fs::remove(dir / "a.safetensors");  // the mapping keeps the data even after unlink
  EXPECT_EQ(x.to_vector<float>(), (std::vector<float>{5, 6, 7}));
}

TEST(SafetensorsMapping, LoadConvertsWithTheBackendCopy) {
  const auto dir = test::scratch_dir("st");
  Tensor h = random_tensor({4, 6}, DType::F16, 3);
  Tensor i = Tensor::from_vector(std::vector<int64_t>{-3, 0, 5}, {3});
  save_safetensors(dir / "m.safetensors", {{"h", h}, {"i", i}});
  SafetensorsFile f(dir / "m.safetensors");

  Tensor as_f32 = f.load("h", DType::F32);
  EXPECT_EQ(as_f32.dtype(), DType::F32);
  // f16 → f32 is exact: compare against the per-element conversion in half.h, NaNs by bit pattern class.
  const auto bits = raw_values<uint16_t>(h);
  const auto got = as_f32.to_vector<float>();
  for (size_t k = 0; k < bits.size(); ++k) {
    const float want = half_bits_to_float(bits[k]);
    if (std::isnan(want)) {
      EXPECT_TRUE(std::isnan(got[k])) << k;
    } else {
      EXPECT_EQ(got[k], want) << k;
    }
  }
  EXPECT_EQ(f.load("i", DType::F64).to_vector<double>(), (std::vector<double>{-3, 0, 5}));
  // No conversion requested: the zero-copy view itself.
  EXPECT_EQ(f.load("h", DType::F16).data_ptr(), f.get("h").data_ptr());
}

// Files from writers that do not sort by element size put a wide tensor at an odd offset: viewing it
// would be a misaligned access, so the reader copies it into an aligned buffer.
TEST(SafetensorsMapping, MisalignedTensorIsCopiedToAlignedMemory) {
  const std::string header =
      R"({"b":{"dtype":"U8","shape":[3],"data_offsets":[0,3]},"w":{"dtype":"F32","shape":[2],"data_offsets":[3,11]}})";
  std::string file(8, '\0');
  const uint64_t n = header.size();
  std::memcpy(file.data(), &n, 8);
  file += header;
  file += std::string("\x01\x02\x03", 3);
  const float w[2] = {1.25f, -7.5f};
  file.append(reinterpret_cast<const char*>(w), 8);
  SafetensorsFile f = SafetensorsFile::from_bytes(file, "handmade");
  Tensor t = f.get("w");
  EXPECT_EQ(reinterpret_cast<uintptr_t>(t.data_ptr()) % 4, 0u);
  EXPECT_EQ(t.to_vector<float>(), (std::vector<float>{1.25f, -7.5f}));
  EXPECT_EQ(f.get("b").to_vector<uint8_t>(), (std::vector<uint8_t>{1, 2, 3}));
}

// ---- writer errors: nothing is written ----

TEST(SafetensorsWriter, RejectsBadInputAndKeepsExistingFile) {
  const auto dir = test::scratch_dir("st");
  const auto path = dir / "keep.safetensors";
  save_safetensors(path, {{"a", Tensor::ones({2})}});
  const std::string before = read_all(path);
  EXPECT_ERROR_CONTAINS(save_safetensors(path, {{"a", Tensor::ones({2})}, {"a", Tensor::zeros({2})}}),
                        "tensor name 'a' appears twice");
  EXPECT_ERROR_CONTAINS(save_safetensors(path, {{"__metadata__", Tensor::ones({2})}}), "reserved");
  EXPECT_ERROR_CONTAINS(save_safetensors(path, {{"u", Tensor()}}), "tensor 'u' is undefined");
  EXPECT_ERROR_CONTAINS(save_safetensors(path, {{"bad\xff utf8", Tensor::ones({1})}}), "cannot encode the header");
  EXPECT_ERROR_CONTAINS(save_safetensors(path, {{"a", Tensor::ones({1})}}, {{"k", "\xc3"}}), path.string());
  EXPECT_EQ(read_all(path), before);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);
}

TEST(SafetensorsWriter, DTypeNames) {
  EXPECT_EQ(safetensors_dtype(DType::F32), "F32");
  EXPECT_EQ(safetensors_dtype(DType::F64), "F64");
  EXPECT_EQ(safetensors_dtype(DType::F16), "F16");
  EXPECT_EQ(safetensors_dtype(DType::BF16), "BF16");
  EXPECT_EQ(safetensors_dtype(DType::I32), "I32");
  EXPECT_EQ(safetensors_dtype(DType::I64), "I64");
  EXPECT_EQ(safetensors_dtype(DType::U8), "U8");
  EXPECT_EQ(safetensors_dtype(DType::Bool), "BOOL");
}

}  // namespace
}  // namespace clipt::io
