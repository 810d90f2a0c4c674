// Differentiable collectives and the row sharding that the class-sharded text tower uses.
#pragma once
#include <cstdint>
#include <string>

#include "engine/dist/communicator.h"

namespace clipt::dist {

// Rows [begin, end) of `total` that `rank` of `world_size` owns: contiguous, sizes differing by at most
// one, earlier ranks first.
struct RowShard {
  int64_t begin = 0, end = 0;
  int64_t size() const { return end - begin; }
};
RowShard shard_rows(int64_t total, int rank, int world_size);

// The ranks' `local` tensors (equal shapes) concatenated along dim 0, on the tape: the gradient of
// this rank's slice is the sum over ranks of their output gradients at that slice (a reduce-scatter).
Tensor all_gather_rows(Communicator& comm, const Tensor& local);

// Every rank passes its shard_rows(total, ...) rows of a [total, ...] tensor; returns the whole
// tensor on every rank, on the tape (uneven shards are padded for the collective and cut after).
Tensor gather_row_shards(Communicator& comm, const Tensor& local, int64_t total);

// Root's string on every rank (paths, JSON records: what rank 0 alone reads from disk and the others
// must follow). One rank: `text` itself.
std::string broadcast_string(Communicator& comm, const std::string& text, int root = 0);

}  // namespace clipt::dist
