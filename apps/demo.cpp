// `clipt demo`: the smallest real job of the engine — a two-layer causal transformer trained from
// scratch on generated sequences (predict, at every position, the first token of the sequence).
// Replaced by the built-in world's base-to-new demo once CLIP and the trainer land.
#include <fmt/core.h>

#include <chrono>

#include "apps/args.h"
#include "apps/commands.h"
#include "engine/nn/transformer.h"
#include "engine/optim/optimizer.h"

namespace clipt::apps {

int cmd_demo(const CommandArgs& argv) {
  Args args(argv);
  args.check_known({"steps", "device", "seed"});
  const int64_t steps = args.get_int("steps", 200);
  const Device device = parse_device(args.get_or("device", "cpu"));
  const uint64_t seed = uint64_t(args.get_int("seed", 0));

  const int64_t vocab = 8, width = 32, len = 6, batch = 16;
  Generator g(seed);
  nn::Embedding emb(vocab, width, g, 0.5);
  nn::Transformer tr(width, 2, 4, 64, nn::Activation::Gelu, g);
  nn::Linear head(width, vocab, true, g);
  std::vector<Tensor> params;
  for (nn::Module* m : std::initializer_list<nn::Module*>{&emb, &tr, &head}) {
    m->to(device);
    for (auto& p : m->parameters()) params.push_back(p);
  }
  optim::AdamW opt(params, {.lr = 3e-3, .weight_decay = 0.0});
  fmt::print("clipt demo: two-layer transformer ({} parameters) on {}, {} steps\n",
             emb.num_parameters() + tr.num_parameters() + head.num_parameters(), device.str(), steps);
  const auto start = std::chrono::steady_clock::now();
  double first = 0, loss_value = 0;
  for (int64_t step = 0; step < steps; ++step) {
    Generator data(seed * 1000003 + uint64_t(step));
    Tensor ids = randint(0, vocab, {batch, len}, data, device);
    Tensor target = ids.select(1, 0).unsqueeze(1).expand({batch, len}).contiguous().reshape({-1});
    opt.zero_grad();
    Tensor loss = cross_entropy(head.forward(tr.forward(emb.forward(ids), true)).reshape({-1, vocab}), target);
    loss.backward();
    opt.step();
    loss_value = loss.item();
    if (step == 0) first = loss_value;
    if (step % 25 == 0 || step + 1 == steps) fmt::print("  step {:4d}  loss {:.4f}\n", step, loss_value);
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  fmt::print("loss {:.4f} -> {:.4f} in {:.2f} s ({:.0f} steps/s)\n", first, loss_value, secs, double(steps) / secs);
  return 0;
}

}  // namespace clipt::apps
