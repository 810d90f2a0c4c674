// The few-shot protocol of CoOp (Dassl's DatasetBase.generate_fewshot_dataset, called from every CoOp
// dataset class): per class, in order of first appearance, k samples without replacement when the
// class has at least k, otherwise k with replacement; train gets k = NUM_SHOTS and val min(k, 4)
// (ImageNet, whose val is its test set, samples train only). The selection is cached in
// <dataset dir>/split_fewshot/shot_<k>-seed_<s>.json so every run with that seed (stage 1 and stage 2
// of DPC, base and new evaluation) sees the same images.
//
// Determinism: the draws come from our Philox generator keyed by the seed, so a (dataset, k, seed)
// always gives the same selection on every machine. They cannot match Python's `random.sample` stream
// bit for bit, so the chosen images differ from the peers' pickles for the same seed; the protocol
// (counts per class, which split, seeds 1–3) is the same.
//
// Cache format: {"format": "clipt-fewshot", "version": 1, "dataset": name, "shots": k, "seed": s,
// "train": [[relative_path, label, classname], ...], "val": [...]} with paths relative to the image
// folder, like CoOp's split files. A cache is only used when its shots and seed match its file name
// and the current request, and every entry is still in the split it came from; otherwise — or when the
// file is not valid JSON — it is an error naming the file (delete it to resample).
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "engine/ops/random.h"

namespace clipt::data {

// k samples per class (see above) drawn with `gen`; classes in order of first appearance.
std::vector<Sample> sample_per_class(const std::vector<Sample>& samples, int shots, Generator& gen);

struct FewShotOptions {
  bool use_cache = true;  // read and write <dataset dir>/split_fewshot/
  // Where non-fatal problems go (e.g. a read-only dataset folder where the cache cannot be written).
  std::function<void(const std::string&)> warn;
};

std::filesystem::path fewshot_cache_path(const DatasetSplits& splits, int shots, uint64_t seed);

// Applies NUM_SHOTS = shots (< 1: unchanged, as Dassl) with `seed` (cfg.SEED). Test-only sets are
// returned unchanged.
DatasetSplits apply_fewshot(DatasetSplits splits, int shots, uint64_t seed, const FewShotOptions& options = {});

}  // namespace clipt::data
