// DPC's stage 2 against a PyTorch re-implementation of the released code (tests/golden/
// make_dpc_fixture.py, on the transformers tiny CLIP): 5 steps from a tuned prompt P loaded from a
// stage-1 run folder. Each step mines hard negatives with the frozen stage-1 model (the fallback draws
// replayed from the fixture), builds the batch with the fixture's negative images, and takes an SGD
// step on the stored parameter M; the mined classes, the built labels, every loss, M and the decoded P′
// must agree (fp32).
#include <deque>
#include <fstream>

#include "engine/ops/ops.h"
#include "tests/methods/dpc_test_util.h"

namespace clipt::methods::dpc {
namespace {

using json = nlohmann::json;

// The fixture's coarse integer grids, upsampled (nearest) as make_dpc_fixture.py does.
Tensor grid_images(const json& g) {
  const auto shape = g["shape"].get<std::vector<int64_t>>();
  const auto data = g["data"].get<std::vector<int64_t>>();
  const double divisor = g["divisor"].get<double>();
  const int64_t up = g["upsample"].get<int64_t>();
  const int64_t n = shape[0], c = shape[1], h = shape[2], w = shape[3];
  std::vector<float> out(size_t(n * c * h * up * w * up));
  for (int64_t i = 0; i < n * c; ++i)
    for (int64_t y = 0; y < h * up; ++y)
      for (int64_t x = 0; x < w * up; ++x)
        out[size_t((i * h * up + y) * w * up + x)] =
            float(double(data[size_t((i * h + y / up) * w + x / up)]) / divisor);
  return Tensor::from_vector(out, {n, c, h * up, w * up});
}

Tensor flat(const json& j) { return Tensor::from_vector(j["data"].get<std::vector<float>>(), j["shape"].get<Shape>()); }

TEST(DpcGolden, FiveStageTwoStepsMatchTheSpecReimplementation) {
  std::ifstream in(test::golden_dir() / "dpc_steps.json");
  ASSERT_TRUE(in.good()) << "run tests/golden/make_dpc_fixture.py";
  const json f = json::parse(in);
  const auto classes = f["classnames"].get<std::vector<std::string>>();
  const Tensor P = flat(f["tuned"]);
  const Tensor class_images = grid_images(f["class_images"]);

  // The stage-1 run: a CoOp checkpoint holding P, as the trainer writes it.
  test::dpc::TinyClip tiny;
  Config stage1 = default_config();
  stage1.set("TRAINER.COOP.N_CTX", f["n_ctx"].get<int64_t>());
  const auto run = test::scratch_dir("dpc_golden_stage1");
  test::dpc::write_stage1_run(run, "CoOp", stage1, classes, P);

  Config cfg = default_config();
  cfg.set("DPC.BACK_CKPT_PATH", run.string());
  cfg.set("SPLE.STACK.WEIGHT", f["omega_base"].get<double>());
  cfg.set("SPLE.STACK.WEIGHT_FOR_NEW", 0.0);
  cfg.set("SPLE.INFER_TOPK", f["top_k"].get<int64_t>());
  Dpc dpc;
  dpc.build(tiny.context(cfg), classes);
  ASSERT_TRUE(test::bit_equal(dpc.tuned_prompts()[0], P));
  Tensor M = dpc.trainable_parameters().at(0).second;
  optim::SGD sgd({M}, {.lr = f["lr"], .momentum = f["momentum"], .weight_decay = f["weight_decay"]});

  for (size_t step = 0; step < f["steps"].size(); ++step) {
    SCOPED_TRACE("step " + std::to_string(step));
    const json& s = f["steps"][step];
    const auto labels = s["labels"].get<std::vector<int64_t>>();
    const Tensor anchors = grid_images(f["step_images"][step]);
    std::deque<int64_t> draws(s["draws"].begin(), s["draws"].end());
    const auto mined = dpc.mine(anchors, labels, [&] {
      if (draws.empty()) {
        ADD_FAILURE() << "more fallback draws than the reference made";
        return int64_t(1);
      }
      const int64_t c = draws.front();
      draws.pop_front();
      return c;
    });
    EXPECT_TRUE(draws.empty()) << draws.size() << " reference draws unused";
    ASSERT_EQ(mined.selection.negatives, s["negatives"].get<std::vector<std::vector<int64_t>>>());

    std::vector<int64_t> negative_classes;
    for (const auto& n : mined.selection.negatives) negative_classes.insert(negative_classes.end(), n.begin(), n.end());
    const Tensor negatives =
        negative_classes.empty()
            ? Tensor()
            : index_select(class_images, 0, Tensor::from_vector(negative_classes, {int64_t(negative_classes.size())}));
    const BuiltBatch batch = assemble_batch(anchors, labels, mined.selection.negatives, negatives);
    EXPECT_EQ(batch.labels, s["row_labels"].get<std::vector<int64_t>>());

    sgd.zero_grad();
    LossResult r = dpc.contrastive_loss(batch, mined.anchor_features);
    r.loss.backward();
    sgd.step();
    const double ref = s["loss"].get<double>();
    EXPECT_NEAR(r.loss.item(), ref, 1e-4 * std::abs(ref));
    EXPECT_ALL_CLOSE(M, Tensor::from_vector(s["stored"].get<std::vector<float>>(), M.shape()), 1e-4, 1e-6);
    EXPECT_ALL_CLOSE(dpc.parallel_prompts()[0], Tensor::from_vector(s["decoded"].get<std::vector<float>>(), M.shape()),
                     1e-4, 1e-5);
  }
}

}  // namespace
}  // namespace clipt::methods::dpc
