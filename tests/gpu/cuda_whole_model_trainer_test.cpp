// The trainer on CUDA: a CoOp run interrupted mid-epoch (a Ctrl-C after step 4 of 9) and resumed ends with
// the context bit-identical to an uninterrupted run's, in f32 and in the recipes' fp16; and the
// uninterrupted CUDA f32 run ends close to the same run on the CPU. The CPU version of the resume test is
// Trainer.InterruptedRunResumesBitIdentically (tests/methods/trainer_test.cpp), on the same fixture.
#include <atomic>
#include <filesystem>

#include "methods/trainer/trainer.h"
#include "tests/gpu/whole_model_util.h"
#include "tests/methods/trainer_fixture.h"

namespace clipt {
namespace {

namespace fs = std::filesystem;
using test::gpu::bits_equal;
using test::gpu::close_to;
using test::trainer_fixture::context_of;
using test::trainer_fixture::make_dataset;
using test::trainer_fixture::run_config;

std::vector<std::string> on_device(const std::string& prec) {
  return {"CLIPT.DEVICE", test::gpu::test_device().str(), "TRAINER.COOP.PREC", prec};
}

class CudaTrainerResume : public ::testing::TestWithParam<std::string> {};

TEST_P(CudaTrainerResume, InterruptedRunResumesBitIdentically) {
  CLIPT_REQUIRE_CUDA();
  const std::string prec = GetParam();
  const fs::path data = make_dataset("data_" + prec);
  const fs::path straight = test::scratch_dir("straight_" + prec),
                 interrupted = test::scratch_dir("interrupted_" + prec);
  trainer::RunLog log({}, true);
  trainer::Trainer reference(run_config(data, straight, on_device(prec)), log);
  reference.train();

  std::atomic<bool> stop{false};
  {
    trainer::Trainer first(run_config(data, interrupted, on_device(prec)), log, &stop);
    first.set_after_step([&](int64_t step) {
      if (step == 4) stop = true;  // mid second epoch (3 steps per epoch)
    });
    EXPECT_THROW(first.train(), Interrupted);
  }
  ASSERT_TRUE(fs::exists(interrupted / "checkpoints" / "resume.safetensors")) << "no resume checkpoint written";
  trainer::Trainer resumed(run_config(data, interrupted, on_device(prec)), log);
  resumed.train();
  EXPECT_TRUE(
      bits_equal("context after resume vs uninterrupted (" + prec + ")", context_of(resumed), context_of(reference)));

  if (prec == "fp32") {  // and the CUDA run trains what the CPU run trains
    const fs::path on_cpu = test::scratch_dir("cpu_" + prec);
    trainer::Trainer cpu(run_config(data, on_cpu, {"CLIPT.DEVICE", "cpu", "TRAINER.COOP.PREC", "fp32"}), log);
    cpu.train();
    EXPECT_TRUE(close_to("context after 9 steps, device vs CPU", context_of(reference), context_of(cpu), 1e-3, 1e-5));
  }
}

INSTANTIATE_TEST_SUITE_P(Precisions, CudaTrainerResume, ::testing::Values("fp32", "fp16"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace clipt
