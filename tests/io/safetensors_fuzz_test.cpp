// Randomised robustness test of the safetensors parser (the coverage-guided libFuzzer version is
// tests/fuzz/safetensors_fuzz.cpp). Valid files are mutated — bit flips, byte overwrites, truncation,
// random header length, JSON-significant characters spliced into the header, deleted and duplicated
// ranges, scrambled data bytes — with a fixed seed. Every outcome must be a successful parse (after
// which every tensor is read and converted) or a clipt::Error; anything else, or a crash, fails.
#include <cstring>
#include <fstream>
#include <random>

#include "engine/io/safetensors.h"
#include "tests/common/test_util.h"

namespace clipt::io {
namespace {

// Seeds: valid files covering every dtype, metadata, 0-d and empty tensors.
std::vector<std::string> seed_files() {
  std::vector<std::string> out;
  out.push_back(serialize_safetensors({}));
  out.push_back(serialize_safetensors({{"w", Tensor::from_vector({1, 2, 3, 4, 5, 6}, {2, 3})}},
                                      {{"format", "pt"}, {"epoch", "12"}}));
  NamedTensors all;
  int64_t i = 0;
  for (DType dt : {DType::F32, DType::F64, DType::F16, DType::BF16, DType::I32, DType::I64, DType::U8, DType::Bool}) {
    all.emplace_back(std::string(dtype_name(dt)), Tensor::ones({2, ++i % 3 + 1}, dt));
  }
  all.emplace_back("scalar", Tensor::scalar(3.5));
  all.emplace_back("empty", Tensor::empty({0, 7}, DType::F16));
  out.push_back(serialize_safetensors(all, {{"k", "v"}}));
  return out;
}

// Deterministic across standard libraries: only raw engine output, no std distributions.
struct Rng {
  std::mt19937_64 engine;
  explicit Rng(uint64_t seed) : engine(seed) {}
  uint64_t next() { return engine(); }
  size_t below(size_t n) { return n == 0 ? 0 : size_t(next() % n); }
};

std::string mutate(std::string s, Rng& rng) {
  static const char kJsonChars[] = "{}[]\":,-0123456789e.E+ \\tnulfas";
  uint64_t header_len = 0;
  if (s.size() >= 8) std::memcpy(&header_len, s.data(), 8);
  const size_t header_end = size_t(std::min<uint64_t>(8 + header_len, s.size()));
  const int rounds = 1 + int(rng.below(4));
  for (int r = 0; r < rounds; ++r) {
    switch (rng.below(10)) {
      case 0:  // flip a few bits anywhere
        for (int k = 0, n = 1 + int(rng.below(8)); k < n && !s.empty(); ++k)
          s[rng.below(s.size())] ^= char(1u << rng.below(8));
        break;
      case 1:  // overwrite a byte anywhere
        if (!s.empty()) s[rng.below(s.size())] = char(rng.next());
        break;
      case 2:  // truncate
        s.resize(rng.below(s.size() + 1));
        break;
      case 3: {  // a random or nearby header length
        uint64_t n = rng.below(2) ? rng.next() >> rng.below(64) : header_len + rng.below(17) - 8;
        if (s.size() >= 8) std::memcpy(s.data(), &n, 8);
        break;
      }
      case 4:  // a JSON-significant character into the header
        if (header_end > 8) s[8 + rng.below(header_end - 8)] = kJsonChars[rng.below(sizeof(kJsonChars) - 1)];
        break;
      case 5: {  // digits into the header (offsets, dims)
        if (header_end <= 8) break;
        const size_t at = 8 + rng.below(header_end - 8);
        for (size_t k = 0, n = 1 + rng.below(20); k < n && at + k < header_end; ++k)
          s[at + k] = char('0' + rng.below(10));
        break;
      }
      case 6: {  // delete a range
        if (s.empty()) break;
        const size_t at = rng.below(s.size());
        s.erase(at, 1 + rng.below(std::min<size_t>(16, s.size() - at)));
        break;
      }
      case 7: {  // duplicate a range (repeated keys, nested brackets)
        if (s.empty()) break;
        const size_t at = rng.below(s.size());
        const std::string piece = s.substr(at, 1 + rng.below(40));
        s.insert(rng.below(s.size() + 1), piece);
        break;
      }
      case 8:  // append random bytes
        for (size_t k = 0, n = rng.below(32); k < n; ++k) s.push_back(char(rng.next()));
        break;
      case 9:  // scramble data bytes only: the header stays valid, the values (NaNs, BOOL bytes) do not
        if (s.size() > header_end) {
          for (int k = 0, n = 1 + int(rng.below(8)); k < n; ++k)
            s[header_end + rng.below(s.size() - header_end)] = char(rng.next());
        }
        break;
    }
  }
  return s;
}

// Parses `bytes` and, when that succeeds, reads and converts every tensor. Returns true on success.
bool exercise(const SafetensorsFile& f) {
  double checksum = 0;
  for (const auto& e : f.entries()) {
    if (!e.supported) continue;
    Tensor t = f.get(e.name);
    EXPECT_EQ(t.numel(), numel_of(e.shape));
    EXPECT_EQ(t.nbytes(), e.end - e.begin);
    Tensor as_f32 = f.load(e.name, DType::F32);
    for (float v : as_f32.to_vector<float>()) checksum += v == v ? 0 : 1;  // touches every element
  }
  return checksum >= 0;
}

TEST(SafetensorsFuzz, MutatedFilesParseOrRaiseCleanly) {
  const auto seeds = seed_files();
  const auto dir = test::scratch_dir("fuzz");
  Rng rng(20240611);
  int parsed = 0, rejected = 0;
  const int iterations = 6000;
  for (int it = 0; it < iterations; ++it) {
    const std::string bytes = mutate(seeds[rng.below(seeds.size())], rng);
    try {
      // Mostly in memory (fast); every 25th case through a real file and mmap.
      if (it % 25 == 0) {
        const auto path = dir / "case.safetensors";
        {
          std::ofstream out(path, std::ios::binary | std::ios::trunc);
          out.write(bytes.data(), std::streamsize(bytes.size()));
        }
        exercise(SafetensorsFile(path));
      } else {
        exercise(SafetensorsFile::from_bytes(bytes, "case"));
      }
      ++parsed;
    } catch (const Error&) { ++rejected; } catch (const std::exception& e) {
      ADD_FAILURE() << "iteration " << it << ": non-clipt exception " << typeid(e).name() << ": " << e.what();
    }
  }
  // Both outcomes must actually occur, or the mutations are too weak / too strong to test anything.
  EXPECT_GT(parsed, iterations / 40);
  EXPECT_GT(rejected, iterations / 4);
  std::printf("[ fuzz ] %d iterations: %d parsed, %d rejected with clipt::Error\n", iterations, parsed, rejected);
}

}  // namespace
}  // namespace clipt::io
