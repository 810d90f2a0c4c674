#include "methods/metaprompt/meta_splits.h"

#include <algorithm>
#include <set>

#include "engine/core/error.h"
#include "engine/ops/random.h"

namespace clipt::methods::meta {

std::vector<int64_t> class_order(uint64_t seed, int64_t global_step, int64_t num_classes) {
  CLIPT_CHECK(num_classes >= 0 && global_step >= 0, "meta split: {} classes at step {}", num_classes, global_step);
  // A Philox stream of its own ("meta" in the key) whose counter block is the step: independent of every
  // other draw of the run (augmentation, sampling, initialisation) and free of state across steps.
  Generator gen;
  gen.set_state(seed * 0x9E3779B97F4A7C15ull ^ 0x6D657461ull, uint64_t(global_step) << 32);
  return randperm(num_classes, gen);
}

std::vector<Episode> class_half_episodes(const std::vector<int64_t>& order, const std::vector<int64_t>& labels) {
  const int64_t c = int64_t(order.size());
  const int64_t half = (c + 1) / 2;
  std::vector<int64_t> group_of(size_t(c), -1), local(size_t(c), -1);
  for (int64_t k = 0; k < c; ++k) {
    const int64_t cls = order[size_t(k)];
    CLIPT_CHECK(cls >= 0 && cls < c && group_of[size_t(cls)] < 0,
                "meta split: class order is not a permutation of 0..{}", c - 1);
    group_of[size_t(cls)] = k < half ? 0 : 1;
    local[size_t(cls)] = k < half ? k : k - half;
  }
  const std::vector<int64_t> groups[2] = {std::vector<int64_t>(order.begin(), order.begin() + half),
                                          std::vector<int64_t>(order.begin() + half, order.end())};
  std::vector<Episode> out;
  for (int64_t i = 0; i < 2; ++i) {
    Episode e;
    e.held_out = i;
    e.query_classes = groups[i];
    e.support_classes = groups[1 - i];
    for (size_t s = 0; s < labels.size(); ++s) {
      const int64_t y = labels[s];
      CLIPT_CHECK(y >= 0 && y < c, "meta split: label {} outside the {} training classes", y, c);
      if (group_of[size_t(y)] == i) {
        e.query_samples.push_back(int64_t(s));
        e.query_labels.push_back(local[size_t(y)]);
      } else {
        e.support_samples.push_back(int64_t(s));
        e.support_labels.push_back(local[size_t(y)]);
      }
    }
    if (e.query_classes.size() < 2 || e.support_samples.empty() || e.query_samples.empty()) continue;
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<Episode> domain_episodes(const std::vector<int64_t>& domains, const std::vector<int64_t>& labels) {
  CLIPT_CHECK(domains.size() == labels.size(), "meta split: {} domain labels for {} samples", domains.size(),
              labels.size());
  const std::set<int64_t> present(domains.begin(), domains.end());
  std::vector<Episode> out;
  for (const int64_t d : present) {
    Episode e;
    e.held_out = d;
    for (size_t s = 0; s < labels.size(); ++s) {
      if (domains[s] == d) {
        e.query_samples.push_back(int64_t(s));
        e.query_labels.push_back(labels[s]);
      } else {
        e.support_samples.push_back(int64_t(s));
        e.support_labels.push_back(labels[s]);
      }
    }
    if (e.support_samples.empty()) continue;
    out.push_back(std::move(e));
  }
  return out;
}

LocalShare local_share(dist::Communicator* comm, int64_t local_size) {
  LocalShare s;
  s.world = comm ? comm->world_size() : 1;
  s.size = local_size;
  s.offset = comm ? int64_t(comm->rank()) * local_size : 0;  // equal shares (the trainer checks the split)
  return s;
}

std::vector<int64_t> LocalShare::gather(dist::Communicator* comm, const Tensor& local) const {
  CLIPT_CHECK(local.numel() == size, "meta split: {} values for a share of {} samples", local.numel(), size);
  if (world == 1) return local.to_vector<int64_t>();
  return comm->all_gather(local.to(DType::I64).reshape({size})).to_vector<int64_t>();
}

LocalSamples LocalShare::select(const std::vector<int64_t>& global_positions,
                                const std::vector<int64_t>& labels) const {
  LocalSamples mine;
  for (size_t k = 0; k < global_positions.size(); ++k) {
    const int64_t p = global_positions[k] - offset;
    if (p >= 0 && p < size) {
      mine.positions.push_back(p);
      mine.labels.push_back(labels[k]);
    }
  }
  return mine;
}

}  // namespace clipt::methods::meta
