#include "tests/common/test_util.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <mutex>
#include <stdexcept>

namespace clipt::test {

std::filesystem::path source_dir() { return CLIPT_SOURCE_DIR; }
std::filesystem::path shared_data_dir() { return CLIPT_SHARED_DATA_DIR; }
std::filesystem::path golden_dir() { return source_dir() / "tests" / "golden"; }

nlohmann::json golden_json(const std::string& name) {
  std::ifstream in(golden_dir() / name);
  if (!in) throw std::runtime_error("missing golden fixture " + (golden_dir() / name).string());
  return nlohmann::json::parse(in);
}

namespace {
struct ScratchRoot {
  std::filesystem::path root;
  ScratchRoot() {
    root = std::filesystem::path(CLIPT_BINARY_DIR) / "test_scratch" / std::to_string(::getpid());
    std::filesystem::create_directories(root);
  }
  ~ScratchRoot() {
    std::error_code ec;
    std::filesystem::remove_all(root, ec);
  }
};
}  // namespace

std::filesystem::path scratch_dir(const std::string& name) {
  static ScratchRoot root;
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string tag = name;
  if (info) tag = std::string(info->test_suite_name()) + "." + info->name() + "." + name;
  for (char& c : tag)
    if (c == '/') c = '_';
  auto dir = root.root / tag;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

::testing::AssertionResult all_close(const std::vector<double>& a, const std::vector<double>& b, double rtol,
                                     double atol) {
  if (a.size() != b.size()) return ::testing::AssertionFailure() << "sizes differ: " << a.size() << " vs " << b.size();
  double worst = -1;
  size_t worst_i = 0;
  size_t bad = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double err = std::abs(a[i] - b[i]);
    const double tol = atol + rtol * std::abs(b[i]);
    const bool nan_mismatch = std::isnan(a[i]) != std::isnan(b[i]);
    if (nan_mismatch || err > tol) {
      ++bad;
      const double excess = nan_mismatch ? INFINITY : err - tol;
      if (excess > worst) {
        worst = excess;
        worst_i = i;
      }
    }
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << bad << " of " << a.size() << " elements differ; worst at " << worst_i
                                       << ": actual " << a[worst_i] << " vs expected " << b[worst_i] << " (rtol "
                                       << rtol << ", atol " << atol << ")";
}

::testing::AssertionResult all_close(const Tensor& actual, const Tensor& expected, double rtol, double atol) {
  if (actual.shape() != expected.shape())
    return ::testing::AssertionFailure() << "shapes differ: " << describe(actual) << " vs " << describe(expected);
  return all_close(actual.to_vector<double>(), expected.to_vector<double>(), rtol, atol);
}

::testing::AssertionResult bit_equal(const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype() || a.shape() != b.shape())
    return ::testing::AssertionFailure() << describe(a) << " vs " << describe(b);
  Tensor ca = a.to(Device::cpu()).contiguous(), cb = b.to(Device::cpu()).contiguous();
  if (std::memcmp(ca.data_ptr(), cb.data_ptr(), ca.nbytes()) != 0)
    return ::testing::AssertionFailure() << "bytes differ between " << describe(a) << " tensors";
  return ::testing::AssertionSuccess();
}

}  // namespace clipt::test
