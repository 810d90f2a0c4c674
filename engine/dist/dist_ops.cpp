#include "engine/dist/dist_ops.h"

#include "engine/autograd/node.h"
#include "engine/ops/ops.h"

namespace clipt::dist {

RowShard shard_rows(int64_t total, int rank, int world_size) {
  CLIPT_CHECK(world_size >= 1 && rank >= 0 && rank < world_size && total >= 0, "shard_rows: rank {} of {} over {} rows",
              rank, world_size, total);
  return {total * rank / world_size, total * (rank + 1) / world_size};
}

Tensor all_gather_rows(Communicator& comm, const Tensor& local) {
  Tensor out = comm.all_gather(local);
  if (comm.world_size() > 1) {
    Communicator* c = &comm;
    record("all_gather_rows", {local}, {&out},
           [c](const TensorList& g, const Node&) -> TensorList { return {c->reduce_scatter(g[0])}; });
  } else {
    out = local;  // one rank: the identity, with local's own history
  }
  return out;
}

Tensor gather_row_shards(Communicator& comm, const Tensor& local, int64_t total) {
  const int n = comm.world_size();
  if (n == 1) {
    CLIPT_CHECK(local.size(0) == total, "gather_row_shards: one rank holds {} of {} rows", local.size(0), total);
    return local;
  }
  const RowShard mine = shard_rows(total, comm.rank(), n);
  CLIPT_CHECK(local.dim() >= 1 && local.size(0) == mine.size(),
              "gather_row_shards: rank {} should hold rows [{}, {}) of {}, got {}", comm.rank(), mine.begin, mine.end,
              total, describe(local));
  const int64_t widest = (total + n - 1) / n;
  Tensor padded = local;
  if (mine.size() < widest) {
    Shape pad_shape = local.shape();
    pad_shape[0] = widest - mine.size();
    padded = cat({local, Tensor::zeros(pad_shape, local.dtype(), local.device())}, 0);
  }
  Tensor all = all_gather_rows(comm, padded);  // [n·widest, ...]
  if (total == widest * n) return all;
  TensorList parts;
  for (int r = 0; r < n; ++r) {
    const RowShard s = shard_rows(total, r, n);
    if (s.size() > 0) parts.push_back(narrow(all, 0, int64_t(r) * widest, s.size()));
  }
  return cat(parts, 0);
}

std::string broadcast_string(Communicator& comm, const std::string& text, int root) {
  if (comm.world_size() == 1) return text;
  std::vector<Tensor> size{Tensor::from_vector(std::vector<int64_t>{int64_t(text.size())}, {1})};
  comm.broadcast(size, root);
  const int64_t n = size[0].to_vector<int64_t>()[0];
  if (n == 0) return "";
  std::vector<uint8_t> bytes(text.begin(), text.end());
  bytes.resize(size_t(n));
  std::vector<Tensor> buf{Tensor::from_vector(bytes, {n})};
  comm.broadcast(buf, root);
  const std::vector<uint8_t> out = buf[0].to_vector<uint8_t>();
  return std::string(out.begin(), out.end());
}

}  // namespace clipt::dist
