// The Dynamic Hard Negative Optimizer's mining (specs/dpc.md §3.1), as the released code does it
// (sple_coop.py parse_sple_batch_train), quirks included:
//  1. candidates of sample i: the top-K base classes by similarity of its frozen stage-1 image feature
//     to the frozen stage-1 text features, minus its ground truth — K−1 classes when the ground truth
//     is among them, all K when it is not (the code's "at most K−1" check compares against a list that
//     is still empty, so it never caps). K is capped at the number of base classes (torch.topk would
//     raise for K > n_base; the released code never meets it with its datasets and K);
//  2. no class twice per batch: a running list `used`, seeded with all the batch's labels (duplicates
//     kept), is consulted and extended sample by sample, so later samples get fewer negatives;
//  3. random fallback while a sample has fewer than 2 negatives: uniform draws in [1, n_base−2]
//     (inclusive; class 0 and the last class are never drawn), at most n_base−2 attempts, a drawn class
//     kept only if not yet used — so fewer than 2 negatives remain possible (5 base classes).
// The draws come from a caller's function (a Generator seeded from (seed, global step) in training, the
// fixture's draws in the golden test).
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "engine/ops/random.h"

namespace clipt::methods::dpc {

// Candidates of one sample from its top-K class list (most similar first).
std::vector<int64_t> hard_negative_candidates(const std::vector<int64_t>& topk_classes, int64_t label);

// One fallback draw: a class id uniform in [1, n_base−2].
using FallbackDraw = std::function<int64_t()>;
FallbackDraw generator_draw(Generator& gen, int64_t n_base);

struct NegativeSelection {
  std::vector<std::vector<int64_t>> negatives;  // per sample, in the order kept
  int64_t fallback_draws = 0;                   // draws made
  int64_t fallback_kept = 0;                    // draws that became negatives
  int64_t short_samples = 0;                    // samples left with fewer than 2 negatives
};

// Steps 2 and 3 over a batch: `candidates[i]` from hard_negative_candidates, `labels` the batch labels.
NegativeSelection select_hard_negatives(const std::vector<std::vector<int64_t>>& candidates,
                                        const std::vector<int64_t>& labels, int64_t n_base, const FallbackDraw& draw);

// Where the images of negative classes come from: per base class, the positions of its images in a
// sample list — the training loader's (the few-shot base subset: DPC.NEGATIVES fewshot, the strict
// few-shot protocol) or a library's own list (DPC.NEGATIVES library: SPLE.PIC_LIB).
class NegativePool {
 public:
  NegativePool() = default;
  // Indexes the loader's samples by label; every base class must have an image.
  static NegativePool from_samples(const std::vector<data::Sample>& samples, int64_t n_base);
  // Reads the released "DPC image database" JSON: {"train": [{classname: [label, [relative paths]]}, ...],
  // "val": ..., ...}. Only "train" is read (as the released code: "do not load val, to avoid leakage").
  // Classes are matched by name to `classnames` (the base classes; '_' and ' ' are equivalent); a base
  // class missing from the file is an error, extra classes are ignored. A relative path is rebuilt as
  // the released code does: as many trailing components as it has are stripped from `anchor_path` (an
  // image of the training set) and it is appended there; absolute paths are taken as they are.
  static NegativePool from_library(const std::filesystem::path& json_file, const std::vector<std::string>& classnames,
                                   const std::string& anchor_path);

  bool owns_samples() const { return !samples_.empty(); }  // library: load these samples
  const std::vector<data::Sample>& samples() const { return samples_; }
  int64_t num_classes() const { return int64_t(by_class_.size()); }
  int64_t count(int64_t label) const { return int64_t(by_class_.at(size_t(label)).size()); }
  // One image of class `label`, uniformly at random: a position in the loader's list or in samples().
  int64_t pick(int64_t label, Generator& gen) const;

 private:
  std::vector<std::vector<int64_t>> by_class_;
  std::vector<data::Sample> samples_;
};

}  // namespace clipt::methods::dpc
