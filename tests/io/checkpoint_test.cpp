// Checkpoints: bit-exact tensors plus JSON metadata, a standard safetensors file underneath, helpful
// errors, and loads that either fully succeed or change nothing.
#include "engine/io/checkpoint.h"

#include <fstream>
#include <sstream>

#include "tests/common/test_util.h"

namespace clipt::io {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

json training_state() {
  return {
      {"epoch", 7},
      {"iteration", 1234},
      {"method", "coop"},
      {"rng", {{"seed", 18446744073709551615ull}, {"offset", 9007199254740993ull}}},  // beyond double precision
      {"config", {{"lr", 0.002}, {"n_ctx", 16}, {"ctx_init", "a photo of a"}, {"nested", {{"x", json::array()}}}}},
      {"class_names", {"Abyssinian", "café au lait", "sphynx"}},
  };
}

NamedTensors training_tensors() {
  Tensor ctx = Tensor::from_vector({0.1f, -0.2f, 0.3f, 1e-8f, -0.0f, 3e38f}, {2, 3});
  return {
      {"prompt_learner.ctx", ctx},
      {"prompt_learner.ctx_f16", ctx.to(DType::F16)},
      {"prompt_learner.ctx_bf16", ctx.to(DType::BF16)},
      {"optim.state.prompt_learner.ctx.momentum_buffer", Tensor::full({2, 3}, 0.5)},
      {"optim.step", Tensor::scalar(1234, DType::I64)},
      {"sampler.mask", Tensor::from_vector(std::vector<uint8_t>{1, 0, 1}, {3}).to(DType::Bool)},
      {"empty", Tensor::empty({0}, DType::F64)},
  };
}

TEST(Checkpoint, RoundTripsTensorsAndMetadata) {
  const auto path = test::scratch_dir("ckpt") / "model-best.pth.safetensors";
  const NamedTensors tensors = training_tensors();
  save_checkpoint(path, tensors, training_state());

  Checkpoint ckpt = load_checkpoint(path);
  EXPECT_EQ(ckpt.meta(), training_state());
  EXPECT_EQ(ckpt.meta()["rng"]["seed"].get<uint64_t>(), 18446744073709551615ull);
  EXPECT_EQ(ckpt.meta()["rng"]["offset"].get<uint64_t>(), 9007199254740993ull);
  ASSERT_EQ(ckpt.names().size(), tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    EXPECT_EQ(ckpt.names()[i], tensors[i].first);
    EXPECT_TRUE(test::bit_equal(ckpt.get(tensors[i].first), tensors[i].second)) << tensors[i].first;
  }
  const NamedTensors loaded = ckpt.tensors();
  ASSERT_EQ(loaded.size(), tensors.size());
  EXPECT_TRUE(test::bit_equal(loaded[3].second, tensors[3].second));
}

TEST(Checkpoint, IsAStandardSafetensorsFile) {
  const auto path = test::scratch_dir("ckpt") / "c.safetensors";
  save_checkpoint(path, {{"w", Tensor::ones({2})}}, {{"epoch", 1}});
  SafetensorsFile f(path);
  EXPECT_EQ(f.metadata().at("format"), "clipt-checkpoint-v1");
  EXPECT_EQ(json::parse(f.metadata().at("clipt")), (json{{"epoch", 1}}));
  EXPECT_EQ(f.names(), std::vector<std::string>{"w"});
}

TEST(Checkpoint, LoadIntoConvertsAndKeepsTheDestinationTensor) {
  const auto path = test::scratch_dir("ckpt") / "c.safetensors";
  Tensor half_weights = Tensor::from_vector({1.5f, -2.0f, 0.25f, 8.0f}, {2, 2}).to(DType::F16);
  save_checkpoint(path, {{"w", half_weights}}, json::object());
  // A trainable f32 master weight: loading goes outside autograd and writes into the same storage.
  Tensor param = Tensor::zeros({2, 2});
  param.requires_grad_(true);
  Tensor alias = param;
  load_checkpoint(path).load_into("w", param);
  EXPECT_EQ(alias.to_vector<float>(), (std::vector<float>{1.5f, -2.0f, 0.25f, 8.0f}));
  EXPECT_TRUE(param.requires_grad());
  EXPECT_TRUE(param.is_leaf());
  EXPECT_EQ(load_checkpoint(path).load("w", DType::F64).to_vector<double>(), (std::vector<double>{1.5, -2, 0.25, 8}));
}

TEST(Checkpoint, MissingFile) {
  const auto path = test::scratch_dir("ckpt") / "nope.safetensors";
  EXPECT_ERROR_CONTAINS(load_checkpoint(path), "checkpoint '" + path.string() + "' does not exist");
}

TEST(Checkpoint, WrongFormat) {
  const auto dir = test::scratch_dir("ckpt");
  {
    std::ofstream out(dir / "garbage.pth");
    out << "PK\x03\x04 this is a zip archive, not safetensors";
  }
  EXPECT_ERROR_CONTAINS(load_checkpoint(dir / "garbage.pth"),
                        "cannot load checkpoint '" + (dir / "garbage.pth").string());
  EXPECT_ERROR_CONTAINS(load_checkpoint(dir / "garbage.pth"), "header length");

  save_safetensors(dir / "weights.safetensors", {{"w", Tensor::ones({1})}});
  EXPECT_ERROR_CONTAINS(load_checkpoint(dir / "weights.safetensors"), "not a clipt checkpoint");

  save_safetensors(dir / "bad_json.safetensors", {}, {{"clipt", "{epoch: 1"}});
  EXPECT_ERROR_CONTAINS(load_checkpoint(dir / "bad_json.safetensors"), "the 'clipt' metadata entry is not valid JSON");

  save_safetensors(dir / "future.safetensors", {}, {{"clipt", "{}"}, {"format", "clipt-checkpoint-v9"}});
  EXPECT_ERROR_CONTAINS(load_checkpoint(dir / "future.safetensors"), "has format 'clipt-checkpoint-v9'");
}

TEST(Checkpoint, MissingTensorAndShapeMismatch) {
  const auto path = test::scratch_dir("ckpt") / "c.safetensors";
  save_checkpoint(path, {{"x", Tensor::zeros({4, 512})}, {"y", Tensor::ones({3})}}, json::object());
  Checkpoint ckpt = load_checkpoint(path);
  EXPECT_ERROR_CONTAINS(ckpt.get("z"), "checkpoint '" + path.string() + "' has no tensor 'z'");
  Tensor dst = Tensor::zeros({16, 512});
  EXPECT_ERROR_CONTAINS(ckpt.load_into("x", dst), "checkpoint tensor 'x' has shape [4, 512], model expects [16, 512]");

  // Several destinations: every problem is listed and nothing is written.
  Tensor y = Tensor::full({3}, 2.0), x_ok = Tensor::full({4, 512}, 2.0), w = Tensor::zeros({1});
  try {
    ckpt.load_into({{"y", y}, {"x", x_ok}, {"missing", w}, {"x", dst}});
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("has no tensor 'missing'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("model expects [16, 512]"), std::string::npos) << msg;
  }
  EXPECT_EQ(y.to_vector<float>(), (std::vector<float>{2, 2, 2}));
  EXPECT_EQ(x_ok.to_vector<float>()[0], 2.0f);
}

TEST(Checkpoint, FailedSaveKeepsThePreviousCheckpoint) {
  const auto dir = test::scratch_dir("ckpt");
  const auto path = dir / "last.safetensors";
  save_checkpoint(path, {{"w", Tensor::ones({2})}}, {{"epoch", 1}});
  const std::string before = read_all(path);
  EXPECT_ERROR_CONTAINS(save_checkpoint(path, {{"w", Tensor::ones({2})}, {"w", Tensor::ones({2})}}, {{"epoch", 2}}),
                        "appears twice");
  EXPECT_ERROR_CONTAINS(save_checkpoint(path, {{"w", Tensor::ones({2})}}, {{"name", "\xff"}}), "metadata JSON");
  EXPECT_EQ(read_all(path), before);
  save_checkpoint(path, {{"w", Tensor::zeros({2})}}, {{"epoch", 2}});
  EXPECT_EQ(load_checkpoint(path).meta()["epoch"], 2);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);
}

}  // namespace
}  // namespace clipt::io
