// The episodes of MetaPrompt's meta step (specs/metaprompt.md §1.5), as plain bookkeeping on the labels
// (and domain labels) of one batch, so it can be tested without a model.
//   B2N: the training classes in a random order, cut into two groups of ceil(C/2) and the rest; split i
//        holds out group i (query) and trains on the other group (support); classes are relabelled to
//        their position in their group's shuffled order.
//   DG:  leave one domain out, over the domains present in the batch (ascending): the split of domain d
//        trains on the samples of every other present domain and holds out those of d; all classes,
//        global labels. Indexing by the domains actually present (not 0..N−1) keeps a batch that lacks a
//        domain from pairing splits with the wrong samples (§1.6 item 4).
#pragma once
#include <cstdint>
#include <vector>

#include "engine/dist/communicator.h"

namespace clipt::methods::meta {

struct Episode {
  int64_t held_out = 0;                                 // B2N: the query group (0 or 1); DG: the held-out domain label
  std::vector<int64_t> support_samples, query_samples;  // positions in the batch, ascending
  std::vector<int64_t> support_labels, query_labels;    // their labels (group-local for B2N)
  std::vector<int64_t> support_classes, query_classes;  // B2N: class rows in group order; DG: empty (all)
};

// The class order of the B2N split for one optimisation step: a permutation of 0..C−1 that is a pure
// function of (seed, global_step), so a resumed run draws the same splits.
std::vector<int64_t> class_order(uint64_t seed, int64_t global_step, int64_t num_classes);

// The two class halves of `order` and the episodes that run, in split order (query group 0, then 1).
// A split is skipped (as the released code does) when its query group has fewer than 2 classes or when
// its support or query has no sample in the batch.
std::vector<Episode> class_half_episodes(const std::vector<int64_t>& order, const std::vector<int64_t>& labels);

// Leave-one-domain-out episodes over the domains present in `domains` (ascending); a batch with a single
// domain has no support samples and yields no episode.
std::vector<Episode> domain_episodes(const std::vector<int64_t>& domains, const std::vector<int64_t>& labels);

// ---- data parallel ----
// The trainer gives every rank an equal, contiguous share of the global batch, in rank order. The
// episodes are drawn over the gathered global batch (so they do not depend on the world size), and each
// rank's episode losses cover the samples of its share.
struct LocalSamples {
  std::vector<int64_t> positions;  // in this rank's batch
  std::vector<int64_t> labels;
};
struct LocalShare {
  int world = 1;
  int64_t offset = 0, size = 0;  // this rank's positions [offset, offset + size) of the global batch
  // The global batch's values of a 1-d i64 tensor of this rank's share (all-gathered in rank order).
  std::vector<int64_t> gather(dist::Communicator* comm, const Tensor& local) const;
  // The samples of a global set (positions in the global batch, with their labels) that this rank holds.
  LocalSamples select(const std::vector<int64_t>& global_positions, const std::vector<int64_t>& labels) const;
  // The factor on this rank's mean loss over `mine` such that the mean over ranks of the gradients is
  // the gradient of the mean loss over the whole set of `set_size` samples: |mine|·world/set_size.
  double weight(const LocalSamples& mine, size_t set_size) const {
    return double(mine.positions.size()) * double(world) / double(set_size);
  }
};
// This rank's share of a batch of which it holds `local_size` samples (one process: all of it).
LocalShare local_share(dist::Communicator* comm, int64_t local_size);

}  // namespace clipt::methods::meta
