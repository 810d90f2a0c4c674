// Single-process parts of engine/dist: row sharding, launch detection, and the world-size-1
// communicator (every collective is the identity). The multi-rank behaviour runs under mpirun in
// tests/dist/ranks (ctest Dist.TwoRanks.*).
#include "engine/dist/communicator.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "engine/dist/dist_ops.h"
#include "engine/dist/launch.h"
#include "engine/ops/ops.h"
#include "tests/common/test_util.h"

namespace clipt {
namespace {

TEST(DistShard, RowsCoverEverythingOnceInRankOrder) {
  for (int64_t total : {0, 1, 5, 7, 16}) {
    for (int n : {1, 2, 3, 4}) {
      int64_t next = 0, widest = 0, narrowest = total;
      for (int r = 0; r < n; ++r) {
        const dist::RowShard s = dist::shard_rows(total, r, n);
        EXPECT_EQ(s.begin, next) << total << " rows, rank " << r << " of " << n;
        next = s.end;
        widest = std::max(widest, s.size());
        narrowest = std::min(narrowest, s.size());
      }
      EXPECT_EQ(next, total);
      EXPECT_LE(widest - narrowest, 1);
    }
  }
  EXPECT_ERROR_CONTAINS(dist::shard_rows(4, 2, 2), "rank 2 of 2");
}

// Sets environment variables for one test and restores them after.
class ScopedEnv {
 public:
  void set(const char* name, const char* value) {
    const char* old = std::getenv(name);
    saved_.push_back({name, old ? std::optional<std::string>(old) : std::nullopt});
    if (value)
      setenv(name, value, 1);
    else
      unsetenv(name);
  }
  ~ScopedEnv() {
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
      if (it->second)
        setenv(it->first.c_str(), it->second->c_str(), 1);
      else
        unsetenv(it->first.c_str());
    }
  }

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

TEST(DistLaunch, ReadsOpenMpiPmixAndPmiVariables) {
  ScopedEnv env;
  for (const char* v : {"OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK", "PMIX_RANK",
                        "SLURM_NTASKS", "SLURM_LOCALID", "PMI_RANK", "PMI_SIZE", "MPI_LOCALRANKID", "SLURM_PROCID"})
    env.set(v, nullptr);
  EXPECT_FALSE(dist::detect_launch().launched);

  env.set("SLURM_PROCID", "3");  // srun without --mpi: not an MPI job
  env.set("SLURM_NTASKS", "8");
  EXPECT_FALSE(dist::detect_launch().launched);

  env.set("PMIX_RANK", "3");  // srun --mpi=pmix
  env.set("SLURM_LOCALID", "1");
  dist::LaunchInfo pmix = dist::detect_launch();
  EXPECT_TRUE(pmix.launched);
  EXPECT_EQ(pmix.launcher, "pmix");
  EXPECT_EQ(pmix.rank, 3);
  EXPECT_EQ(pmix.world_size, 8);
  EXPECT_EQ(pmix.local_rank, 1);

  env.set("OMPI_COMM_WORLD_RANK", "1");  // mpirun wins over the PMIx variables it also sets
  env.set("OMPI_COMM_WORLD_SIZE", "2");
  env.set("OMPI_COMM_WORLD_LOCAL_RANK", "1");
  dist::LaunchInfo ompi = dist::detect_launch();
  EXPECT_EQ(ompi.launcher, "openmpi");
  EXPECT_EQ(ompi.rank, 1);
  EXPECT_EQ(ompi.world_size, 2);
}

TEST(DistSingleProcess, CollectivesAreIdentities) {
  auto comm = dist::make_single_process();
  EXPECT_EQ(comm->world_size(), 1);
  EXPECT_EQ(comm->backend(), "single");
  Tensor a = Tensor::from_vector({1.f, 2.f, 3.f}, {3});
  Tensor b = Tensor::from_vector(std::vector<double>{4, 5}, {2});
  std::vector<Tensor> bucket{a, b};
  comm->all_reduce(bucket, dist::ReduceOp::Mean);
  EXPECT_TRUE(test::bit_equal(a, Tensor::from_vector({1.f, 2.f, 3.f}, {3})));
  EXPECT_EQ(comm->all_reduce(2.5, dist::ReduceOp::Sum), 2.5);
  EXPECT_TRUE(test::bit_equal(comm->all_gather(a), a));
  EXPECT_TRUE(test::bit_equal(comm->reduce_scatter(a), a));
  comm->barrier();
  EXPECT_ERROR_CONTAINS(comm->broadcast(bucket, 1), "root 1");
  // Bucket checks apply whatever the world size.
  std::vector<Tensor> mixed{a, Tensor::from_vector(std::vector<int64_t>{1}, {1})};
  EXPECT_ERROR_CONTAINS(comm->all_reduce(mixed, dist::ReduceOp::Sum), "mix integer and floating");
}

TEST(DistSingleProcess, GatheredShardsKeepTheGradient) {
  auto comm = dist::make_single_process();
  Tensor x = Tensor::from_vector({1.f, 2.f, 3.f, 4.f}, {2, 2}).requires_grad_();
  Tensor y = dist::gather_row_shards(*comm, x, 2);
  sum(mul(y, y)).backward();
  EXPECT_ALL_CLOSE(x.grad(), Tensor::from_vector({2.f, 4.f, 6.f, 8.f}, {2, 2}));
  EXPECT_ERROR_CONTAINS(dist::gather_row_shards(*comm, x, 3), "holds 2 of 3 rows");
}

}  // namespace
}  // namespace clipt
