// A split file whose labels are huge (found by tests/fuzz/split_json_fuzz): the class-name table used to be
// allocated for max label + 1 entries (bad_alloc or length_error for 10^12, signed overflow for 2^63 − 1);
// now the gap is named without allocating.
#include <gtest/gtest.h>

#include <fstream>

#include "data/dataset.h"
#include "data/datasets/common.h"
#include "tests/common/test_util.h"

namespace clipt::data {
namespace {

TEST(SplitLabels, AHugeLabelIsAGapNotAnAllocation) {
  const auto dir = test::scratch_dir("split_labels");
  std::ofstream(dir / "split.json") << R"({"train": [["a.jpg", 0, "cat"], ["b.jpg", 1000000000000, "dog"]],
                                         "val": [], "test": [["c.jpg", 9223372036854775807, "dog"]]})";
  const datasets::SplitLists lists = datasets::read_split_json(dir / "split.json", dir);
  EXPECT_ERROR_CONTAINS(class_names(lists.train), "no sample has label 1 (max label 1000000000000)");
  EXPECT_ERROR_CONTAINS(class_names(lists.test),
                        "label 9223372036854775807 of " + (dir / "c.jpg").string() + " is too large");
}

}  // namespace
}  // namespace clipt::data
