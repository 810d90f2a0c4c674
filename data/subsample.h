// Base-to-new class split (CoOp's OxfordPets.subsample_classes, used by every dataset): the distinct
// labels of the (few-shot) train split, sorted; base = the first ceil(C/2), new = the rest; samples of
// the other half are dropped from train, val and test alike and the kept labels are renumbered from 0
// in sorted order.
#pragma once
#include <cstdint>
#include <string_view>
#include <vector>

#include "data/dataset.h"

namespace clipt::data {

enum class Subsample { All, Base, New };

// "all" | "base" | "new" (DATASET.SUBSAMPLE_CLASSES); anything else → Error.
Subsample parse_subsample(std::string_view name);
const char* subsample_name(Subsample subsample);

// The original labels kept by `subsample`, in their new order (position = new label), computed from
// `train` as CoOp does.
std::vector<int64_t> subsample_labels(const std::vector<Sample>& train, Subsample subsample);

// Keeps the samples whose label is in `labels` and relabels label labels[i] → i.
std::vector<Sample> relabel(const std::vector<Sample>& samples, const std::vector<int64_t>& labels);

// Applies the split to train, val and test (Subsample::All returns them unchanged).
DatasetSplits subsample_classes(DatasetSplits splits, Subsample subsample);

}  // namespace clipt::data
