// The profiler's FLOP count of a real ViT-B/16 image forward (random weights, one 224-pixel image on the
// CPU): 35.1 GFLOP (the published 17.6 GMAC × 2) within 1%, and its GEMM FLOPs equal to the count from
// the architecture by hand.
#include <gtest/gtest.h>

#include <algorithm>

#include "engine/ops/ops.h"
#include "engine/ops/random.h"
#include "engine/profile/profiler.h"
#include "models/clip/towers.h"

namespace clipt::clip {
namespace {

TEST(VitFlopsProfile, VitB16ImageForwardIs35Point1Gflop) {
  const ClipConfig c = clip_preset("vit_b16");
  Generator gen(0);
  VisionTower tower(c, gen, DType::F32);
  tower.requires_grad_(false);
  Tensor image = randn({1, 3, 224, 224}, gen);
  profile::Profile p;
  {
    NoGrad ng;
    profile::Session s(Device::cpu());
    tower.forward(image);
    p = s.finish();
  }
  double total = 0, gemm = 0, attention = 0, bias_act = 0;
  for (const profile::OpRecord& r : p.ops) {
    total += r.flops;
    if (std::string(r.op) == "gemm") gemm += r.flops;
    if (std::string(r.op) == "attention") attention += r.flops;
    if (std::string(r.op) == "bias_quick_gelu") bias_act += r.flops;
  }
  EXPECT_NEAR(total / 1e9, 35.1, 0.351) << "GFLOP of one ViT-B/16 image forward";
  // By hand: 196 patches × (3·16·16 → 768); per block on 197 tokens: QKV (768 → 2304), out_proj
  // (768 → 768), MLP (768 → 3072 → 768); the projection of the class token (768 → 512). Biases add one
  // FLOP per output, except c_fc's, which the fused bias+QuickGELU op adds. The scores and the weighted
  // sum (12 heads × 197² × 64 each) are the fused attention op's.
  const double t = 197, w = 768, h = 3072;
  const double block = 2 * t * w * 3 * w + t * 3 * w + 2 * t * w * w + t * w + 2 * t * w * h + 2 * t * h * w + t * w;
  const double by_hand = 2 * 196 * 768 * 768 + 12 * block + 2 * 768 * 512;
  EXPECT_DOUBLE_EQ(gemm, by_hand);
  EXPECT_DOUBLE_EQ(attention, 12 * 2 * (2 * 12 * t * t * 64));
  EXPECT_DOUBLE_EQ(bias_act, 12 * 5 * t * h) << "bias add + QuickGELU (5 FLOPs per element) of every c_fc";
  // The tower is the root here: paths start at its children, as in its checkpoint names.
  const auto& paths = p.module_paths;
  EXPECT_NE(std::find(paths.begin(), paths.end(), "transformer.resblocks.11.mlp.c_fc"), paths.end());
  EXPECT_NE(std::find(paths.begin(), paths.end(), "ln_pre"), paths.end());
}

}  // namespace
}  // namespace clipt::clip
