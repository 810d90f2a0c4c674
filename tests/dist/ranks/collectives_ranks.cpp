// The collectives of engine/dist on two MPI ranks, against values computed by hand from each rank's
// inputs (rank r contributes numbers built from r).
#include <gtest/gtest.h>

#include "engine/dist/communicator.h"
#include "engine/dist/dist_ops.h"
#include "engine/ops/ops.h"
#include "tests/common/test_util.h"

namespace clipt {
namespace {

dist::Communicator& comm() { return dist::world(); }

#define REQUIRE_TWO_RANKS() \
  if (comm().world_size() != 2) GTEST_SKIP() << "needs mpirun -np 2, world size is " << comm().world_size()

TEST(DistTwoRanks, AllReduceSumMeanMaxInOneBucket) {
  REQUIRE_TWO_RANKS();
  const float r = float(comm().rank());
  Tensor a = Tensor::from_vector({r + 1, 2 * (r + 1)}, {2});
  Tensor b = Tensor::from_vector(std::vector<float>{10 * r, -r, 3, r * r, 1, 2}, {2, 3});
  std::vector<Tensor> bucket{a, b};
  const dist::CommStats before = comm().stats();
  comm().all_reduce(bucket, dist::ReduceOp::Sum);
  EXPECT_EQ(comm().stats().calls, before.calls + 1);  // one flat bucket, one collective
  EXPECT_ALL_CLOSE(a, Tensor::from_vector({3.f, 6.f}, {2}));
  EXPECT_ALL_CLOSE(b, Tensor::from_vector(std::vector<float>{10, -1, 6, 1, 2, 4}, {2, 3}));

  Tensor m = Tensor::from_vector(std::vector<double>{r, 4 * r + 1}, {2});
  comm().all_reduce(m, dist::ReduceOp::Mean);
  EXPECT_EQ(m.dtype(), DType::F64);
  EXPECT_ALL_CLOSE(m, Tensor::from_vector(std::vector<double>{0.5, 3}, {2}));

  Tensor counts = Tensor::from_vector(std::vector<int64_t>{int64_t(r) + 7, 5 - int64_t(r)}, {2});
  comm().all_reduce(counts, dist::ReduceOp::Max);
  EXPECT_EQ(counts.to_vector<int64_t>(), (std::vector<int64_t>{8, 5}));
  EXPECT_EQ(comm().all_reduce(std::vector<double>{r, 1}, dist::ReduceOp::Sum), (std::vector<double>{1, 2}));
}

TEST(DistTwoRanks, AllGatherReduceScatterBroadcast) {
  REQUIRE_TWO_RANKS();
  const float r = float(comm().rank());
  Tensor local = Tensor::full({2, 3}, r + 1);
  Tensor all = comm().all_gather(local);
  ASSERT_EQ(all.shape(), (Shape{4, 3}));
  EXPECT_ALL_CLOSE(narrow(all, 0, 0, 2), Tensor::full({2, 3}, 1.0));
  EXPECT_ALL_CLOSE(narrow(all, 0, 2, 2), Tensor::full({2, 3}, 2.0));

  // full_r[i] = (r + 1)·(i + 1): the sum over ranks is 3·(i + 1); rank r keeps rows 2r, 2r + 1.
  Tensor full = mul(add(Tensor::arange(4, DType::F32), 1.0), double(r + 1));
  Tensor part = comm().reduce_scatter(full);
  EXPECT_ALL_CLOSE(part, Tensor::from_vector({3 * (2 * r + 1), 3 * (2 * r + 2)}, {2}));
  EXPECT_ERROR_CONTAINS(comm().reduce_scatter(Tensor::zeros({3})), "divisible by the world size 2");

  Tensor p = Tensor::full({3}, r + 5), q = Tensor::full({2, 2}, 10 * r);
  std::vector<Tensor> params{p, q};
  comm().broadcast(params, 1);
  EXPECT_ALL_CLOSE(p, Tensor::full({3}, 6.0));
  EXPECT_ALL_CLOSE(q, Tensor::full({2, 2}, 10.0));
}

TEST(DistTwoRanks, AllGatherBackwardIsReduceScatterOfGradients) {
  REQUIRE_TWO_RANKS();
  const int r = comm().rank();
  Tensor x = Tensor::full({2, 2}, double(r + 1)).requires_grad_();
  Tensor y = dist::all_gather_rows(comm(), x);  // [4, 2]
  // loss_r = Σ y ⊙ W_r with W_r[i, j] = (r + 1)(i + 1): dloss_s/dy[i] summed over ranks s is 3(i + 1).
  Tensor w = mul(add(Tensor::arange(4, DType::F32), 1.0).reshape({4, 1}).expand({4, 2}), double(r + 1));
  sum(mul(y, w)).backward();
  const float g0 = 3.f * float(2 * r + 1), g1 = 3.f * float(2 * r + 2);
  EXPECT_ALL_CLOSE(x.grad(), Tensor::from_vector({g0, g0, g1, g1}, {2, 2}));
}

TEST(DistTwoRanks, UnevenRowShardsGatherAndBackward) {
  REQUIRE_TWO_RANKS();
  const int r = comm().rank();
  const int64_t total = 5;
  const dist::RowShard s = dist::shard_rows(total, r, 2);  // rank 0: rows 0-1, rank 1: rows 2-4
  Tensor local = add(Tensor::arange(s.size(), DType::F32), double(s.begin)).reshape({s.size(), 1});
  local = cat({local, mul(local, 2.0)}, 1).detach().requires_grad_();
  Tensor all = dist::gather_row_shards(comm(), local, total);
  Tensor rows = add(Tensor::arange(total, DType::F32), 0.0).reshape({total, 1});
  EXPECT_ALL_CLOSE(all, cat({rows, mul(rows, 2.0)}, 1));
  // loss_r = (r + 1)·Σ all²: the gradient at a row is Σ_s 2(s + 1)·x = 6x.
  sum(mul(mul(all, all), double(r + 1))).backward();
  EXPECT_ALL_CLOSE(local.grad(), mul(local.detach(), 6.0));
}

}  // namespace
}  // namespace clipt
