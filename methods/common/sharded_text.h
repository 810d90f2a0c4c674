// The class-sharded text tower: with C class prompts and N ranks, each rank encodes its C/N share and
// the features are all-gathered (on the tape: the backward is a reduce-scatter), so every rank scores its
// images against all classes with 1/N of the text work. Same features as one process.
#pragma once
#include <functional>
#include <vector>

#include "methods/method.h"

namespace clipt::methods {

// Features [R, ...] of class rows `rows` (all `num_classes` when empty) through `encode`, which encodes
// the rows it is given (never an empty list). Sharded when ctx.shard_text and the job has several ranks
// (and at least as many rows as ranks); otherwise encode(rows).
Tensor sharded_text_rows(const MethodContext& ctx, int64_t num_classes, const std::vector<int64_t>& rows,
                         const std::function<Tensor(const std::vector<int64_t>& rows)>& encode);

}  // namespace clipt::methods
