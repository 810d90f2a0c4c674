#include "methods/common/sharded_text.h"

#include "engine/dist/dist_ops.h"

namespace clipt::methods {

Tensor sharded_text_rows(const MethodContext& ctx, int64_t num_classes, const std::vector<int64_t>& rows,
                         const std::function<Tensor(const std::vector<int64_t>& rows)>& encode) {
  const int n = ctx.comm ? ctx.comm->world_size() : 1;
  const int64_t total = rows.empty() ? num_classes : int64_t(rows.size());
  if (!ctx.shard_text || n == 1 || total < n) return encode(rows);
  const dist::RowShard mine = dist::shard_rows(total, ctx.comm->rank(), n);
  std::vector<int64_t> local;
  for (int64_t i = mine.begin; i < mine.end; ++i) local.push_back(rows.empty() ? i : rows[size_t(i)]);
  return dist::gather_row_shards(*ctx.comm, encode(local), total);
}

}  // namespace clipt::methods
