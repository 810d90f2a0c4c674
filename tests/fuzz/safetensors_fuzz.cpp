// libFuzzer target for the safetensors reader (built with -DCLIPT_FUZZ=ON and clang; see
// tests/fuzz/CMakeLists.txt). The input is a whole file image. Properties checked:
//   - parsing either succeeds or raises clipt::Error (any other exception, a crash or a sanitizer
//     report is a finding);
//   - after a successful parse every supported tensor can be viewed and converted to f32;
//   - whatever the reader accepts, the writer can write, and reading that back gives the same names,
//     dtypes, shapes, metadata and bytes.
// Run: see tests/fuzz/CMakeLists.txt (seed the corpus with any .safetensors file).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "engine/io/safetensors.h"

namespace {

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "safetensors_fuzz: property violated: %s\n", what);
    std::abort();
  }
}

void exercise(const std::string& bytes) {
  using namespace clipt;
  using namespace clipt::io;
  SafetensorsFile f;
  try {
    f = SafetensorsFile::from_bytes(bytes, "fuzz");
  } catch (const Error&) {
    return;  // rejected cleanly
  }
  NamedTensors readable;
  for (const auto& e : f.entries()) {
    if (!e.supported) continue;
    try {
      Tensor t = f.get(e.name);
      check(t.numel() == numel_of(e.shape), "numel matches the header");
      check(t.nbytes() == e.end - e.begin, "byte size matches data_offsets");
      Tensor as_f32 = f.load(e.name, DType::F32);
      volatile float sink = 0;
      for (float v : as_f32.to_vector<float>()) sink = sink + v;
      readable.emplace_back(e.name, t);
    } catch (const Error&) {
      // e.g. a BOOL byte other than 0/1: rejected per tensor
    }
  }
  const std::string again = serialize_safetensors(readable, f.metadata());
  const SafetensorsFile g = SafetensorsFile::from_bytes(again, "fuzz-rewritten");
  check(g.metadata() == f.metadata(), "metadata survives a rewrite");
  check(g.size() == readable.size(), "tensor count survives a rewrite");
  for (const auto& [name, t] : readable) {
    const Tensor u = g.get(name);
    check(u.dtype() == t.dtype() && u.shape() == t.shape(), "dtype and shape survive a rewrite");
    check(std::memcmp(u.data_ptr(), t.data_ptr(), t.nbytes()) == 0, "bytes survive a rewrite");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  exercise(std::string(reinterpret_cast<const char*>(data), size));
  return 0;
}
