// Shared helpers for the test suites: paths to fixtures and shared data, scratch folders, and tensor
// comparisons with readable failure messages.
#pragma once
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/core/tensor.h"

namespace clipt::test {

std::filesystem::path source_dir();                   // the repository root
std::filesystem::path shared_data_dir();              // ../shared/data (CLIP vocabulary, class names)
std::filesystem::path golden_dir();                   // tests/golden
nlohmann::json golden_json(const std::string& name);  // tests/golden/<name>, parsed
// A fresh, empty folder under the build tree, removed at the end of the test program.
std::filesystem::path scratch_dir(const std::string& name);

// Element-wise |a − b| <= atol + rtol·|b| (b is the reference), with the worst element in the message.
::testing::AssertionResult all_close(const Tensor& actual, const Tensor& expected, double rtol = 1e-5,
                                     double atol = 1e-6);
::testing::AssertionResult all_close(const std::vector<double>& actual, const std::vector<double>& expected,
                                     double rtol = 1e-5, double atol = 1e-6);
// Bit-for-bit equality (same dtype, shape and bytes).
::testing::AssertionResult bit_equal(const Tensor& a, const Tensor& b);

}  // namespace clipt::test

#define EXPECT_ALL_CLOSE(a, b, ...) EXPECT_TRUE(::clipt::test::all_close((a), (b), ##__VA_ARGS__))
#define ASSERT_ALL_CLOSE(a, b, ...) ASSERT_TRUE(::clipt::test::all_close((a), (b), ##__VA_ARGS__))
// Expects `stmt` to throw clipt::Error whose message contains `substring`.
#define EXPECT_ERROR_CONTAINS(stmt, substring)                                       \
  do {                                                                               \
    try {                                                                            \
      stmt;                                                                          \
      ADD_FAILURE() << "expected clipt::Error containing \"" << (substring) << "\""; \
    } catch (const ::clipt::Error& e) {                                              \
      EXPECT_NE(std::string(e.what()).find(substring), std::string::npos)            \
          << "error message \"" << e.what() << "\" lacks \"" << (substring) << "\""; \
    }                                                                                \
  } while (0)
