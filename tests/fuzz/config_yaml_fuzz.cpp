// libFuzzer target for the YAML config reader (built with -DCLIPT_FUZZ=ON and clang; see
// tests/fuzz/CMakeLists.txt). The input is a YAML file merged into the real key table (default_config(),
// every Dassl/peer/clipt key with its kind). Properties checked:
//   - a merge either succeeds or raises clipt::Error (any other exception, a crash or a sanitizer report —
//     e.g. a stack overflow on deep nesting — is a finding);
//   - merges are all-or-nothing: a merge that fails leaves every value as it was;
//   - dump() round-trips: the dump of a merged config merges into a fresh default config without error and
//     gives the same value for every key (so a run's config.yaml always reloads as the same config).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "engine/config/config.h"
#include "engine/core/error.h"
#include "methods/trainer/config_defaults.h"

namespace {

using clipt::Config;

void check(bool ok, const char* what, const std::string& detail = "") {
  if (!ok) {
    std::fprintf(stderr, "config_yaml_fuzz: property violated: %s %s\n", what, detail.c_str());
    std::abort();
  }
}

bool same_values(const Config& a, const Config& b, std::string* differing) {
  for (const auto& key : a.keys())
    if (!(a.get(key) == b.get(key))) {
      *differing = key + ": " + a.get(key).repr() + " vs " + b.get(key).repr();
      return false;
    }
  return true;
}

const Config& defaults() {
  static const Config c = clipt::default_config();
  return c;
}

void exercise(const std::string& yaml) {
  Config merged = defaults();
  std::string differing;
  try {
    merged.merge_from_yaml(yaml, "fuzz.yaml");
  } catch (const clipt::Error&) {
    check(same_values(merged, defaults(), &differing), "a failed merge leaves the config as it was:", differing);
    return;
  }
  const std::string dumped = merged.dump();
  Config reloaded = defaults();
  try {
    reloaded.merge_from_yaml(dumped, "dump");
  } catch (const clipt::Error& e) { check(false, "the dump of a merged config reloads:", e.what()); }
  check(same_values(merged, reloaded, &differing), "the dump reloads to the same values:", differing);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  exercise(std::string(reinterpret_cast<const char*>(data), size));
  return 0;
}
