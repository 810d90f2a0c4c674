// libFuzzer target for CoOp's split JSON reader (built with -DCLIPT_FUZZ=ON and clang; see
// tests/fuzz/CMakeLists.txt). The input is a split file; it is written to a temporary file because the reader
// takes a path. Properties checked:
//   - reading either succeeds or raises clipt::Error (any other exception — e.g. a length_error or bad_alloc
//     from a huge label — a crash or a sanitizer report is a finding);
//   - an accepted file has a non-empty test list and labels >= 0;
//   - the class-name table of each list (Dassl's lab2cname, what every run builds first) either raises
//     clipt::Error or has max label + 1 names, each the class name of the samples with that label.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "data/dataset.h"
#include "data/datasets/common.h"
#include "engine/core/error.h"

namespace {

namespace fs = std::filesystem;
using namespace clipt::data;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "split_json_fuzz: property violated: %s\n", what);
    std::abort();
  }
}

const fs::path& split_file() {
  static const fs::path p = fs::temp_directory_path() / ("clipt_split_fuzz_" + std::to_string(getpid()) + ".json");
  return p;
}

void check_class_names(const std::vector<Sample>& samples) {
  std::vector<std::string> names;
  try {
    names = class_names(samples);
  } catch (const clipt::Error&) {
    return;  // a gap in the labels or a label with two names: refused cleanly
  }
  check(int64_t(names.size()) == num_classes(samples), "one class name per label up to the largest");
  for (const auto& s : samples) check(names[size_t(s.label)] == s.classname, "a label's name is its samples' name");
}

void exercise(const uint8_t* data, size_t size) {
  {
    std::ofstream out(split_file(), std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), std::streamsize(size));
  }
  datasets::SplitLists lists;
  try {
    lists = datasets::read_split_json(split_file(), "/images");
  } catch (const clipt::Error&) {
    return;  // malformed: refused cleanly
  }
  check(!lists.test.empty(), "an accepted split has test images");
  for (const auto* part : {&lists.train, &lists.val, &lists.test})
    for (const auto& s : *part) check(s.label >= 0, "labels are non-negative");
  check_class_names(lists.train);
  check_class_names(lists.test);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  std::atexit([] {
    std::error_code ec;
    fs::remove(split_file(), ec);
  });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  exercise(data, size);
  return 0;
}
