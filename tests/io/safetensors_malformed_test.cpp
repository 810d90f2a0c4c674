// Every malformed safetensors file we can think of, written byte by byte: each must raise one
// clipt::Error that names the file and the offending tensor, value or byte offset.
#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <fstream>

#include "engine/io/safetensors.h"
#include "tests/common/test_util.h"

namespace clipt::io {
namespace {

namespace fs = std::filesystem;

std::string le64(uint64_t n) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[size_t(i)] = char((n >> (8 * i)) & 0xff);
  return s;
}

// A file image: length prefix, the header text as given, then the data bytes.
std::string file_with(const std::string& header, const std::string& data = "") {
  return le64(header.size()) + header + data;
}

std::string tensor_json(const std::string& dtype, const std::string& shape, uint64_t b, uint64_t e) {
  return R"({"dtype":")" + dtype + R"(","shape":)" + shape + R"(,"data_offsets":[)" + std::to_string(b) + "," +
         std::to_string(e) + "]}";
}

// Opens `bytes` both from a real file and from memory; both must fail with `substring`, and the file
// variant's message must name the file.
void expect_rejected(const std::string& bytes, const std::string& substring) {
  const auto path = test::scratch_dir("bad") / "bad.safetensors";
  {
    std::ofstream out(path, std::ios::binary);
    out.write(bytes.data(), std::streamsize(bytes.size()));
  }
  EXPECT_ERROR_CONTAINS(SafetensorsFile{path}, substring);
  EXPECT_ERROR_CONTAINS(SafetensorsFile{path}, "'" + path.string() + "'");
  EXPECT_ERROR_CONTAINS(SafetensorsFile::from_bytes(bytes, "image"), substring);
}

const std::string kFloats(24, '\0');  // data for a 2x3 F32 tensor

TEST(SafetensorsMalformed, ValidBaselineOpens) {
  // The cases below each break one thing of this file.
  const std::string ok = file_with(R"({"a":)" + tensor_json("F32", "[2,3]", 0, 24) + "}", kFloats);
  EXPECT_NO_THROW(SafetensorsFile::from_bytes(ok));
}

TEST(SafetensorsMalformed, MissingOrSpecialFiles) {
  const auto dir = test::scratch_dir("bad");
  EXPECT_ERROR_CONTAINS(SafetensorsFile(dir / "absent.safetensors"), "No such file or directory");
  EXPECT_ERROR_CONTAINS(SafetensorsFile(dir / "absent.safetensors"), "absent.safetensors");
  EXPECT_ERROR_CONTAINS(SafetensorsFile{dir}, "not a regular file");
}

TEST(SafetensorsMalformed, TooShortForTheLength) {
  expect_rejected("", "file is 0 bytes, too short");
  expect_rejected(std::string("\x02\0\0", 3), "file is 3 bytes, too short");
}

TEST(SafetensorsMalformed, HeaderLengthLargerThanFile) {
  expect_rejected(le64(1000) + "{}", "header length 1000 (bytes 0-7) exceeds the 2 bytes");
  expect_rejected(le64(UINT64_MAX) + "{}", "header length 18446744073709551615");
}

TEST(SafetensorsMalformed, HeaderLengthAboveFormatLimit) {
  // A sparse 100 MB file: the limit is checked before any byte of the header is parsed.
  const auto path = test::scratch_dir("bad") / "huge.safetensors";
  const std::string prefix = le64(100'000'001);
  {
    std::ofstream out(path, std::ios::binary);
    out.write(prefix.data(), 8);
  }
  fs::resize_file(path, 100'000'100);
  EXPECT_ERROR_CONTAINS(SafetensorsFile{path}, "exceeds the 100000000-byte limit");
}

TEST(SafetensorsMalformed, TruncatedFile) {
  const std::string ok = file_with(R"({"a":)" + tensor_json("F32", "[2,3]", 0, 24) + "}", kFloats);
  const std::string cut = ok.substr(0, ok.size() - 5);
  expect_rejected(cut, "tensor 'a' data_offsets [0, 24] reach file byte");
  expect_rejected(cut, "truncated file?");
  // Cut inside the header: the length now points past the end.
  expect_rejected(ok.substr(0, 20), "exceeds the 12 bytes that follow it in a 20-byte file");
}

TEST(SafetensorsMalformed, HeaderNotJson) {
  expect_rejected(file_with("{not json}"), "is not valid JSON");
  expect_rejected(file_with(""), "is not valid JSON");
  expect_rejected(file_with(R"({"a":1} trailing)"), "is not valid JSON");
  expect_rejected(file_with("{\"a\xff\":1}"), "is not valid JSON");  // invalid UTF-8
  expect_rejected(file_with(R"({"a": 1e999})"), "is not valid JSON");
}

TEST(SafetensorsMalformed, HeaderNotAnObject) {
  expect_rejected(file_with("[1,2,3]"), "header is a JSON array, expected an object");
  expect_rejected(file_with("\"text\""), "header is a JSON string");
  expect_rejected(file_with(R"({"a":5})"), "tensor 'a' entry is a JSON number, expected an object");
}

TEST(SafetensorsMalformed, TooDeeplyNested) {
  expect_rejected(file_with(R"({"a":{"shape":[[[1]]]}})"), "levels deep");
  expect_rejected(file_with(std::string(50000, '[') + std::string(50000, ']')), "levels deep");
}

TEST(SafetensorsMalformed, UnknownDType) {
  expect_rejected(file_with(R"({"w":)" + tensor_json("F12", "[2,3]", 0, 24) + "}", kFloats),
                  "tensor 'w' has unknown dtype 'F12'");
  expect_rejected(file_with(R"({"w":{"dtype":7,"shape":[1],"data_offsets":[0,1]}})", "x"),
                  "tensor 'w' dtype is a JSON number (7), expected a string");
}

TEST(SafetensorsMalformed, ShapeAndOffsetsDisagree) {
  expect_rejected(file_with(R"({"w":)" + tensor_json("F32", "[2,3]", 0, 20) + "}", kFloats),
                  "tensor 'w' of dtype F32 and shape [2,3] needs 24 bytes but data_offsets [0, 20] span 20");
  expect_rejected(file_with(R"({"w":)" + tensor_json("F16", "[]", 0, 4) + "}", "abcd"), "needs 2 bytes");
}

TEST(SafetensorsMalformed, OffsetsOutOfRangeOrReversed) {
  expect_rejected(file_with(R"({"w":)" + tensor_json("F32", "[2,3]", 8, 32) + "}", kFloats),
                  "tensor 'w' data_offsets [8, 32] reach file byte");
  expect_rejected(file_with(R"({"w":)" + tensor_json("U8", "[0]", 30, 30) + "}", kFloats), "[30, 30]");
  expect_rejected(file_with(R"({"w":)" + tensor_json("F32", "[2,3]", 24, 0) + "}", kFloats),
                  "data_offsets [24, 0] end before they begin");
  expect_rejected(file_with(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}})", kFloats),
                  "data_offsets [0,4,8] is not an array of two integers");
  expect_rejected(file_with(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}})", kFloats),
                  "negative value -4 in 'data_offsets'");
  expect_rejected(file_with(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,"4"]}})", kFloats),
                  "has a string value \"4\" in 'data_offsets'");
}

TEST(SafetensorsMalformed, OverlappingTensors) {
  const std::string header =
      R"({"a":)" + tensor_json("F32", "[4]", 0, 16) + R"(,"b":)" + tensor_json("F32", "[2]", 12, 20) + "}";
  expect_rejected(file_with(header, kFloats),
                  "tensors 'a' (data_offsets [0, 16]) and 'b' (data_offsets [12, 20]) overlap");
  // Identical ranges overlap too; empty tensors overlap nothing.
  const std::string same =
      R"({"a":)" + tensor_json("F32", "[2]", 0, 8) + R"(,"b":)" + tensor_json("I32", "[2]", 0, 8) + "}";
  expect_rejected(file_with(same, kFloats), "overlap");
  const std::string empty_inside =
      R"({"a":)" + tensor_json("F32", "[6]", 0, 24) + R"(,"e":)" + tensor_json("F32", "[0,5]", 8, 8) + "}";
  EXPECT_NO_THROW(SafetensorsFile::from_bytes(file_with(empty_inside, kFloats)));
}

TEST(SafetensorsMalformed, BadDimensions) {
  expect_rejected(file_with(R"({"w":)" + tensor_json("F32", "[2,-3]", 0, 24) + "}", kFloats),
                  "tensor 'w' has a negative value -3 in 'shape'");
  expect_rejected(file_with(R"({"w":)" + tensor_json("F32", "[2.5]", 0, 24) + "}", kFloats),
                  "tensor 'w' has a number value 2.5 in 'shape', expected a non-negative integer");
  expect_rejected(file_with(R"({"w":)" + tensor_json("F32", "[4294967296,4294967296,2]", 0, 24) + "}", kFloats),
                  "tensor 'w' shape [4294967296,4294967296,2] overflows");
  expect_rejected(file_with(R"({"w":)" + tensor_json("U8", "[18446744073709551615]", 0, 24) + "}", kFloats),
                  "overflows");
  // numel fits in 64 bits but the byte count does not.
  expect_rejected(file_with(R"({"w":)" + tensor_json("F64", "[4611686018427387904]", 0, 24) + "}", kFloats),
                  "overflows");
  expect_rejected(file_with(R"({"w":{"dtype":"F32","shape":"2x3","data_offsets":[0,24]}})", kFloats),
                  "tensor 'w' shape is a JSON string, expected an array");
}

TEST(SafetensorsMalformed, DuplicateNamesAndKeys) {
  const std::string t = tensor_json("F32", "[2]", 0, 8);
  expect_rejected(file_with(R"({"a":)" + t + R"(,"a":)" + t + "}", kFloats), "duplicate tensor name 'a'");
  expect_rejected(file_with(R"({"a":{"dtype":"F32","dtype":"F16","shape":[2],"data_offsets":[0,8]}})", kFloats),
                  "tensor 'a' has a duplicate field 'dtype'");
  expect_rejected(file_with(R"({"__metadata__":{"k":"1","k":"2"}})"), "duplicate metadata key 'k'");
}

TEST(SafetensorsMalformed, MissingFields) {
  expect_rejected(file_with(R"({"w":{"shape":[2],"data_offsets":[0,8]}})", kFloats), "tensor 'w' has no 'dtype' field");
  expect_rejected(file_with(R"({"w":{"dtype":"F32","data_offsets":[0,8]}})", kFloats),
                  "tensor 'w' has no 'shape' field");
  expect_rejected(file_with(R"({"w":{"dtype":"F32","shape":[2]}})", kFloats), "tensor 'w' has no 'data_offsets' field");
}

TEST(SafetensorsMalformed, MetadataMustMapStringsToStrings) {
  expect_rejected(file_with(R"({"__metadata__":{"epoch":3}})"),
                  "metadata value of key 'epoch' is a JSON number (3), expected a string");
  expect_rejected(file_with(R"({"__metadata__":{"cfg":{"a":"b"}}})"), "metadata value of key 'cfg' is a JSON object");
  expect_rejected(file_with(R"({"__metadata__":["a","b"]})"), "'__metadata__' is a JSON array, expected an object");
  // null metadata is what serde writes for "none": accepted.
  EXPECT_TRUE(SafetensorsFile::from_bytes(file_with(R"({"__metadata__":null})")).metadata().empty());
}

TEST(SafetensorsMalformed, BoolBytesMustBeZeroOrOne) {
  const std::string bytes =
      file_with(R"({"m":)" + tensor_json("BOOL", "[3]", 0, 3) + "}", std::string("\x01\x00\x02", 3));
  SafetensorsFile f = SafetensorsFile::from_bytes(bytes, "flags");
  EXPECT_ERROR_CONTAINS(f.get("m"), "BOOL tensor 'm' holds byte value 2 at file byte");
}

TEST(SafetensorsMalformed, UnsupportedButValidDTypeFailsOnlyForThatTensor) {
  const std::string header =
      R"({"q":)" + tensor_json("I16", "[2]", 0, 4) + R"(,"w":)" + tensor_json("F32", "[1]", 4, 8) + "}";
  SafetensorsFile f = SafetensorsFile::from_bytes(file_with(header, std::string(8, '\0')), "mixed");
  EXPECT_EQ(f.entry("q").dtype_name, "I16");
  EXPECT_FALSE(f.entry("q").supported);
  EXPECT_ERROR_CONTAINS(f.get("q"), "tensor 'q' has dtype I16, which clipt does not support");
  EXPECT_EQ(f.get("w").item(), 0.0);
}

TEST(SafetensorsMalformed, MissingTensorNamesTheFile) {
  SafetensorsFile f = SafetensorsFile::from_bytes(file_with("{}"), "weights.safetensors");
  EXPECT_ERROR_CONTAINS(f.get("visual.proj"), "safetensors file 'weights.safetensors' has no tensor 'visual.proj'");
  EXPECT_ERROR_CONTAINS(f.load("visual.proj", DType::F32), "has no tensor 'visual.proj'");
}

}  // namespace
}  // namespace clipt::io
