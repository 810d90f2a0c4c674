// A profiled collective: a two-rank communicator whose transport is a stand-in (the other rank holds the
// same values, so the sum doubles them) shows as one `all_reduce` record with its bytes, and its bucketing
// copies and the collective are charged to the communication phase, not to the surrounding step's phase.
#include <gtest/gtest.h>

#include <cstring>

#include "engine/dist/communicator.h"
#include "engine/ops/ops.h"
#include "engine/profile/profiler.h"

namespace clipt {
namespace {

class MirroredPeer final : public dist::Communicator {
 public:
  MirroredPeer() : Communicator(0, 2, 0) {}
  std::string backend() const override { return "mirrored"; }

 protected:
  Device staging_device(Device d) const override { return d; }
  void raw_all_reduce(void* buf, int64_t count, DType dtype, dist::ReduceOp, Device) override {
    ASSERT_EQ(dtype, DType::F32);
    float* x = static_cast<float*>(buf);
    for (int64_t i = 0; i < count; ++i) x[i] *= 2;  // the peer's equal contribution
  }
  void raw_all_gather(const void* send, void* recv, int64_t count, DType dtype, Device) override {
    const size_t n = size_t(count) * dtype_size(dtype);
    std::memcpy(recv, send, n);
    std::memcpy(static_cast<char*>(recv) + n, send, n);
  }
  void raw_reduce_scatter(const void*, void*, int64_t, DType, Device) override {}
  void raw_broadcast(void*, int64_t, DType, int, Device) override {}
  void raw_barrier() override {}
  [[noreturn]] void kill_job(int code) override { fail("kill_job({})", code); }
};

TEST(CommunicatorProfile, CollectiveIsOneRecordInTheCommunicationPhase) {
  MirroredPeer comm;
  std::vector<Tensor> grads = {Tensor::full({3, 4}, 1.0), Tensor::full({5}, 2.0)};
  const Tensor local = Tensor::full({2}, 3.0);
  profile::Session s(Device::cpu());
  s.begin_step();
  comm.all_reduce(grads, dist::ReduceOp::Sum);
  const Tensor gathered = comm.all_gather(local);
  s.end_step();
  const profile::Profile p = s.finish();
  EXPECT_EQ(grads[0].to_vector<float>(), std::vector<float>(12, 2.f));
  EXPECT_EQ(grads[1].to_vector<float>(), std::vector<float>(5, 4.f));
  EXPECT_EQ(gathered.to_vector<float>(), std::vector<float>(4, 3.f));
  int collectives = 0;
  for (const profile::OpRecord& r : p.ops) {
    EXPECT_EQ(r.phase, profile::Phase::Communication) << r.op;
    if (std::string(r.op) == "all_reduce") {
      ++collectives;
      EXPECT_DOUBLE_EQ(r.bytes, 17 * 4.0);
    }
    if (std::string(r.op) == "all_gather") {
      ++collectives;
      EXPECT_DOUBLE_EQ(r.bytes, 2 * 4.0);
    }
  }
  EXPECT_EQ(collectives, 2);
  EXPECT_GT(p.ops.size(), 2u) << "the bucketing copies are recorded too";
  EXPECT_GT(p.steps[0].phase_us[size_t(profile::Phase::Communication)], 0);
}

}  // namespace
}  // namespace clipt
