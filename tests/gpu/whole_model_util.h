// Helpers for the whole-model CUDA tests (tests/gpu/cuda_whole_model_*_test.cpp): these run for the first
// time on a GPU machine in someone else's short session, so every failure must say what differed and by
// how much without a rerun: the largest absolute and relative differences, where, and how many elements.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <sstream>
#include <string>

#include "engine/ops/ops.h"
#include "tests/gpu/gpu_test_util.h"

namespace clipt::test::gpu {

// Set CLIPT_WHOLE_MODEL_DRY_RUN=1 to run these tests on a machine without a GPU with the CPU standing in
// for the device: every comparison then checks the CPU against itself, so only the harness (building each
// method on the device, copying parameters, the steps, the messages) is exercised, not the CUDA backend.
inline bool dry_run() {
  const char* v = std::getenv("CLIPT_WHOLE_MODEL_DRY_RUN");
  return v != nullptr && v[0] != '\0' && std::string(v) != "0";
}

// The device under test: cuda:0, or the CPU in a dry run.
inline Device test_device() { return dry_run() ? Device::cpu() : cuda0(); }

// Skips the test, with the reason, on machines without a CUDA device (CI), unless this is a dry run.
#define CLIPT_REQUIRE_CUDA()                                        \
  if (!::clipt::cuda_available() && !::clipt::test::gpu::dry_run()) \
  GTEST_SKIP() << "no CUDA device (the whole-model CUDA tests need one)"

// Element-wise |a − e| <= atol + rtol·|e| (e: the CPU reference), on any devices and dtypes. The message
// names `what`, the count of bad elements, the worst one (index, both values) and the largest absolute and
// relative differences over the whole tensor.
inline ::testing::AssertionResult close_to(const std::string& what, const Tensor& actual, const Tensor& expected,
                                           double rtol, double atol) {
  if (actual.shape() != expected.shape())
    return ::testing::AssertionFailure() << what << ": shapes differ: " << shape_str(actual.shape()) << " vs "
                                         << shape_str(expected.shape());
  const auto a = actual.to(Device::cpu()).to(DType::F64).contiguous().to_vector<double>();
  const auto e = expected.to(Device::cpu()).to(DType::F64).contiguous().to_vector<double>();
  double max_abs = 0, max_rel = 0, worst_excess = -1;
  size_t bad = 0, worst = 0, non_finite = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const bool finite_mismatch = std::isfinite(a[i]) != std::isfinite(e[i]);
    if (!std::isfinite(a[i])) ++non_finite;
    const double d = std::abs(a[i] - e[i]);
    if (std::isfinite(d)) {
      max_abs = std::max(max_abs, d);
      max_rel = std::max(max_rel, d / std::max(std::abs(e[i]), 1e-30));
    }
    const double excess = finite_mismatch ? INFINITY : d - (atol + rtol * std::abs(e[i]));
    if (finite_mismatch || excess > 0) {
      ++bad;
      if (excess > worst_excess) worst_excess = excess, worst = i;
    }
  }
  std::ostringstream s;
  s << what << ": max |diff| " << max_abs << ", max relative diff " << max_rel << " over " << a.size()
    << " elements (rtol " << rtol << ", atol " << atol << ")";
  if (non_finite) s << ", " << non_finite << " non-finite values on the tested side";
  if (bad == 0) return ::testing::AssertionSuccess() << s.str();
  s << "; " << bad << " elements out of tolerance, worst at flat index " << worst << ": " << a[worst] << " vs CPU "
    << e[worst];
  return ::testing::AssertionFailure() << s.str();
}

// For 16-bit runs compared with an f32 reference: direction and size rather than elements. Passes when the
// cosine between the flattened tensors is at least `min_cosine` and their norms differ by at most
// `max_norm_ratio` (relative); the message gives both numbers and the largest element difference.
inline ::testing::AssertionResult same_direction(const std::string& what, const Tensor& actual, const Tensor& expected,
                                                 double min_cosine, double max_norm_ratio) {
  if (actual.shape() != expected.shape())
    return ::testing::AssertionFailure() << what << ": shapes differ: " << shape_str(actual.shape()) << " vs "
                                         << shape_str(expected.shape());
  const auto a = actual.to(Device::cpu()).to(DType::F64).contiguous().to_vector<double>();
  const auto e = expected.to(Device::cpu()).to(DType::F64).contiguous().to_vector<double>();
  double dot = 0, na = 0, ne = 0, max_abs = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    dot += a[i] * e[i];
    na += a[i] * a[i];
    ne += e[i] * e[i];
    max_abs = std::max(max_abs, std::abs(a[i] - e[i]));
  }
  na = std::sqrt(na), ne = std::sqrt(ne);
  const double cosine = (na > 0 && ne > 0) ? dot / (na * ne) : (na == ne ? 1.0 : 0.0);
  const double norm_ratio = ne > 0 ? std::abs(na / ne - 1.0) : (na == 0 ? 0.0 : INFINITY);
  std::ostringstream s;
  s << what << ": cosine " << cosine << " (need >= " << min_cosine << "), norm " << na << " vs CPU " << ne
    << " (relative difference " << norm_ratio << ", allowed " << max_norm_ratio << "), max |diff| " << max_abs;
  if (std::isfinite(cosine) && cosine >= min_cosine && norm_ratio <= max_norm_ratio)
    return ::testing::AssertionSuccess() << s.str();
  return ::testing::AssertionFailure() << s.str();
}

// Bit-for-bit equality with the first differing element named (for determinism and resume checks).
inline ::testing::AssertionResult bits_equal(const std::string& what, const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype() || a.shape() != b.shape())
    return ::testing::AssertionFailure() << what << ": " << dtype_name(a.dtype()) << shape_str(a.shape()) << " vs "
                                         << dtype_name(b.dtype()) << shape_str(b.shape());
  if (bit_equal(a, b)) return ::testing::AssertionSuccess();
  const auto va = a.to(Device::cpu()).to(DType::F64).contiguous().to_vector<double>();
  const auto vb = b.to(Device::cpu()).to(DType::F64).contiguous().to_vector<double>();
  size_t first = 0, count = 0;
  double max_abs = 0;
  for (size_t i = 0; i < va.size(); ++i)
    if (va[i] != vb[i] && !(std::isnan(va[i]) && std::isnan(vb[i]))) {
      if (count++ == 0) first = i;
      max_abs = std::max(max_abs, std::abs(va[i] - vb[i]));
    }
  return ::testing::AssertionFailure() << what << ": not bit-identical: " << count << " of " << va.size()
                                       << " elements differ (max |diff| " << max_abs << "), first at flat index "
                                       << first << ": " << (va.empty() ? 0.0 : va[first]) << " vs "
                                       << (vb.empty() ? 0.0 : vb[first]);
}

}  // namespace clipt::test::gpu
