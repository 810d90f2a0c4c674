// The sharpness report of a trained prompt: over a training set split into batches of unequal size it
// must equal the same quantities computed directly on one batch holding every image (loss, gradient
// norm, the loss at w + ρ·g/‖g‖ set by hand), restore the parameters bit-exactly, and behave as a
// first-order quantity (sharpness/ρ → ‖g‖ as ρ → 0).
#include "methods/common/sharpness.h"

#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/autograd/node.h"
#include "engine/ops/ops.h"
#include "methods/trainer/config_defaults.h"
#include "tests/common/test_util.h"

namespace clipt {
namespace {

class SharpnessReport : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ifstream in(test::golden_dir() / "coop_steps.json");
    f_ = nlohmann::json::parse(in);
    clip_ = clip::load_clip(test::golden_dir() / "clip_tiny");
    tok_ = std::make_unique<clip::Tokenizer>(clip::Tokenizer::from_hf_dir(test::golden_dir() / "clip_tiny"));
    cfg_ = default_config();
    cfg_.set("TRAINER.COOP.N_CTX", int64_t(4));
    methods::MethodContext ctx{clip_.get(), tok_.get(), &cfg_, "", Device::cpu(), 1, ""};
    method_ = methods::create_method("CoOp");
    method_->build(ctx, f_["classnames"].get<std::vector<std::string>>());
    ctx_ = method_->trainable_parameters().at(0).second;
    NoGrad ng;
    ctx_.copy_(Tensor::from_vector(f_["ctx_init"].get<std::vector<float>>(), ctx_.shape()));
    images_ = Tensor::from_vector(f_["images"]["data"].get<std::vector<float>>(), f_["images"]["shape"].get<Shape>());
    labels_ = Tensor::from_vector(f_["labels"].get<std::vector<int64_t>>(), {int64_t(f_["labels"].size())});
  }

  // Batches of 4 and 2 images.
  methods::BatchSource two_batches() {
    return {[this] { next_ = 0; },
            [this](methods::TrainBatch& b) {
              const int64_t sizes[2] = {4, 2}, starts[2] = {0, 4};
              if (next_ >= 2) return false;
              b.images = images_.narrow(0, starts[next_], sizes[next_]).contiguous();
              b.labels = labels_.narrow(0, starts[next_], sizes[next_]).contiguous();
              ++next_;
              return true;
            }};
  }

  methods::TrainBatch whole() const {
    methods::TrainBatch b;
    b.images = images_;
    b.labels = labels_;
    return b;
  }

  nlohmann::json f_;
  std::unique_ptr<clip::ClipModel> clip_;
  std::unique_ptr<clip::Tokenizer> tok_;
  Config cfg_;
  std::unique_ptr<methods::Method> method_;
  Tensor ctx_, images_, labels_;
  int next_ = 0;
};

TEST_F(SharpnessReport, EqualsTheWholeSetComputedAtOnce) {
  const double rho = 0.1;
  const Tensor before = ctx_.detach().clone();
  const methods::SharpnessReport r = methods::measure_sharpness(*method_, two_batches(), rho);
  EXPECT_TRUE(test::bit_equal(ctx_.detach(), before));
  EXPECT_EQ(r.images, 6);

  // Reference: one batch of all six images, the ascent point set by hand.
  methods::LossResult l = method_->loss(whole());
  const Tensor g = grad_of(l.loss, {ctx_})[0];
  const double norm = std::sqrt(sum(mul(g, g)).item());
  EXPECT_NEAR(r.loss, l.loss.item(), 1e-5);
  EXPECT_NEAR(r.grad_norm, norm, 1e-4 * norm);
  {
    NoGrad ng;
    ctx_.copy_(add(before, mul(g, rho / norm)));
  }
  double perturbed;
  {
    NoGrad ng;
    perturbed = method_->loss(whole()).loss.item();
    ctx_.copy_(before);
  }
  EXPECT_NEAR(r.perturbed_loss, perturbed, 1e-5);
  EXPECT_NEAR(r.sharpness, perturbed - l.loss.item(), 2e-5);
  EXPECT_GT(r.sharpness, 0);  // the gradient direction is an ascent direction
  const nlohmann::json j = r.to_json();
  EXPECT_DOUBLE_EQ(j.at("sharpness").get<double>(), r.sharpness);
  EXPECT_DOUBLE_EQ(j.at("rho").get<double>(), rho);
}

TEST_F(SharpnessReport, IsFirstOrderInTheRadius) {
  const methods::SharpnessReport small = methods::measure_sharpness(*method_, two_batches(), 1e-3);
  EXPECT_NEAR(small.sharpness / 1e-3, small.grad_norm, 0.05 * small.grad_norm);
  const methods::SharpnessReport zero = methods::measure_sharpness(*method_, two_batches(), 0.0);
  EXPECT_EQ(zero.sharpness, 0.0);
  EXPECT_ERROR_CONTAINS(methods::measure_sharpness(*method_, two_batches(), -1.0), "rho");
}

TEST_F(SharpnessReport, EmptyTrainingSetIsAnError) {
  methods::BatchSource none{[] {}, [](methods::TrainBatch&) { return false; }};
  EXPECT_ERROR_CONTAINS(methods::measure_sharpness(*method_, none, 0.1), "empty");
}

}  // namespace
}  // namespace clipt
