// Op values and gradients, and optimizer trajectories, against PyTorch (fixture written by
// tests/golden/make_engine_fixtures.py with torch in f64).
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>

#include "engine/ops/ops.h"
#include "engine/optim/optimizer.h"
#include "tests/common/test_util.h"

namespace clipt {
namespace {

using json = nlohmann::json;

Tensor from_json(const json& j, DType dtype = DType::F64) {
  Shape shape = j["shape"].get<Shape>();
  if (dtype == DType::I64) return Tensor::from_vector(j["data"].get<std::vector<int64_t>>(), shape);
  return Tensor::from_vector(j["data"].get<std::vector<double>>(), shape).to(dtype);
}

const json& fixture() {
  static json j = [] {
    std::ifstream in(test::golden_dir() / "engine_ops.json");
    return json::parse(in);
  }();
  return j;
}

using OpFn = std::function<Tensor(const TensorList&, const std::map<std::string, Tensor>&)>;

const std::map<std::string, OpFn>& ops_under_test() {
  static const std::map<std::string, OpFn> m = {
      {"gelu", [](auto& x, auto&) { return gelu(x[0]); }},
      {"gelu_tanh", [](auto& x, auto&) { return gelu_tanh(x[0]); }},
      {"quick_gelu", [](auto& x, auto&) { return quick_gelu(x[0]); }},
      {"softmax_dim0", [](auto& x, auto&) { return softmax(x[0], 0); }},
      {"log_softmax", [](auto& x, auto&) { return log_softmax(x[0], -1); }},
      {"layer_norm", [](auto& x, auto&) { return layer_norm(x[0], x[1], x[2], 1e-5); }},
      {"cross_entropy", [](auto& x, auto& i) { return cross_entropy(x[0], i.at("y")); }},
      {"cross_entropy_smooth", [](auto& x, auto& i) { return cross_entropy(x[0], i.at("y"), 0.1); }},
      {"cross_entropy_ignore", [](auto& x, auto& i) { return cross_entropy(x[0], i.at("y")); }},
      {"cross_entropy_soft", [](auto& x, auto&) { return cross_entropy_soft(x[0], softmax(x[1], -1)); }},
      {"kl_div_batchmean", [](auto& x, auto&) { return kl_div(log_softmax(x[0], -1), softmax(x[1], -1)); }},
      {"sdpa_causal", [](auto& x, auto&) { return scaled_dot_product_attention(x[0], x[1], x[2], true); }},
      {"sdpa", [](auto& x, auto&) { return scaled_dot_product_attention(x[0], x[1], x[2], false); }},
      {"conv2d_patch", [](auto& x, auto&) { return conv2d_patchify(x[0], x[1], x[2]); }},
      {"linear", [](auto& x, auto&) { return linear(x[0], x[1], x[2]); }},
      {"matmul_broadcast", [](auto& x, auto&) { return matmul(x[0], x[1]); }},
      {"normalize", [](auto& x, auto&) { return l2_normalize(x[0], -1); }},
      {"cosine_similarity", [](auto& x, auto&) { return cosine_similarity(x[0], x[1], -1); }},
      {"var", [](auto& x, auto&) { return var(x[0], {1}, true); }},
      {"norm", [](auto& x, auto&) { return norm(x[0], {0}); }},
      {"embedding", [](auto& x, auto& i) { return embedding(x[0], i.at("ids")); }},
      {"topk_values", [](auto& x, auto&) { return topk(x[0], 3, -1).first; }},
  };
  return m;
}

class TorchParity : public ::testing::TestWithParam<std::string> {};

TEST_P(TorchParity, ValuesAndGradients) {
  const json* c = nullptr;
  for (const auto& k : fixture()["cases"])
    if (k["name"] == GetParam()) c = &k;
  ASSERT_NE(c, nullptr) << "fixture has no case " << GetParam();
  TensorList inputs;
  for (const auto& j : (*c)["inputs"]) inputs.push_back(from_json(j).requires_grad_());
  std::map<std::string, Tensor> ints;
  for (const auto& [k, v] : (*c)["ints"].items()) ints[k] = from_json(v, DType::I64);
  Tensor out = ops_under_test().at(GetParam())(inputs, ints);
  Tensor expected = from_json((*c)["output"]);
  ASSERT_EQ(out.shape(), expected.shape());
  EXPECT_ALL_CLOSE(out, expected, 1e-9, 1e-10);
  std::vector<double> proj(size_t(out.numel()));
  for (size_t i = 0; i < proj.size(); ++i)
    proj[i] = proj.size() == 1 ? -1.0 : -1.0 + 2.5 * double(i) / double(proj.size() - 1);
  sum(mul(out, Tensor::from_vector(proj, out.shape()))).backward();
  for (size_t i = 0; i < inputs.size(); ++i) {
    SCOPED_TRACE("gradient of input " + std::to_string(i));
    EXPECT_ALL_CLOSE(inputs[i].grad(), from_json((*c)["grads"][i]), 1e-8, 1e-10);
  }
}

INSTANTIATE_TEST_SUITE_P(Ops, TorchParity, ::testing::ValuesIn([] {
                           std::vector<std::string> names;
                           for (const auto& [k, v] : ops_under_test()) names.push_back(k);
                           return names;
                         }()),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

TEST(TorchFixture, EveryFixtureCaseIsTested) {
  for (const auto& c : fixture()["cases"])
    EXPECT_TRUE(ops_under_test().count(c["name"].get<std::string>())) << c["name"];
}

TEST(TorchFixture, OptimizerTrajectories) {
  for (const auto& run : fixture()["optimizers"]) {
    SCOPED_TRACE(run.dump().substr(0, 120));
    Tensor p = from_json(run["initial"], DType::F32).requires_grad_();
    const json& o = run["options"];
    std::unique_ptr<optim::Optimizer> opt;
    if (run["optimizer"] == "sgd") {
      optim::SgdOptions s;
      s.lr = o["lr"];
      s.momentum = o.value("momentum", 0.0);
      s.dampening = o.value("dampening", 0.0);
      s.weight_decay = o.value("weight_decay", 0.0);
      s.nesterov = o.value("nesterov", false);
      opt = std::make_unique<optim::SGD>(std::vector<Tensor>{p}, s);
    } else {
      optim::AdamWOptions a;
      a.lr = o["lr"];
      if (o.contains("betas")) {
        a.beta1 = o["betas"][0];
        a.beta2 = o["betas"][1];
      }
      a.eps = o.value("eps", 1e-8);
      a.weight_decay = o.value("weight_decay", 1e-2);
      opt = std::make_unique<optim::AdamW>(std::vector<Tensor>{p}, a);
    }
    for (size_t step = 0; step < run["grads"].size(); ++step) {
      p.set_grad(from_json(run["grads"][step], DType::F32));
      opt->step();
      EXPECT_ALL_CLOSE(p, from_json(run["params"][step], DType::F32), 1e-6, 1e-7) << "step " << step;
    }
  }
}

}  // namespace
}  // namespace clipt
