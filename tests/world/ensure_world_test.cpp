// ensure_world: writes everything once, returns the paths, loads with the project's tokenizer.
#include "models/world/ensure_world.h"

#include <filesystem>

#include "models/clip/tokenizer.h"
#include "tests/common/test_util.h"

namespace clipt::world_setup {
using namespace clipt::world;
namespace {

namespace fs = std::filesystem;

WorldParams tiny() {
  WorldParams p;
  p.benchmark.train_per_class = 2;
  p.benchmark.val_per_class = 1;
  p.benchmark.test_per_class = 1;
  p.benchmark.image_size = 32;
  p.dg.train_per_class = 1;
  p.dg.crossval_per_class = 1;
  p.dg.image_size = 32;
  p.xd_styles = {Style::Sketch};
  p.tokenizer.corpus_captions = 2000;
  return p;
}

TEST(WorldEnsure, WritesOnceAndReturnsThePaths) {
  const fs::path root = test::scratch_dir("world_root");
  const WorldPaths paths = ensure_world(root, tiny());
  EXPECT_TRUE(paths.benchmark.written);
  EXPECT_TRUE(fs::is_regular_file(root / "world" / "split_world.json"));
  ASSERT_TRUE(paths.dg.has_value());
  EXPECT_TRUE(fs::is_regular_file(root / "world_dg" / "splits" / "sketch_train_kfold.txt"));
  ASSERT_EQ(paths.xd.size(), size_t(1));
  EXPECT_EQ(paths.xd[0].dir, root / "world_sketch");
  EXPECT_EQ(paths.tokenizer_dir, root / "tokenizer");
  EXPECT_TRUE(fs::is_regular_file(root / "tokenizer" / "vocab.json"));
  EXPECT_TRUE(fs::is_regular_file(root / "tokenizer" / "merges.txt"));

  // The tokenizer knows every class name word as one token, so prompts are short and exact.
  const clip::Tokenizer tok = clip::Tokenizer::from_hf_dir(paths.tokenizer_dir);
  for (const WorldClass& c : paths.benchmark.classes) {
    EXPECT_EQ(tok.encode(c.name).size(), size_t(2)) << c.name;
    EXPECT_EQ(tok.encode("a photo of a " + c.name + ".").size(), size_t(7)) << c.name;
  }

  const auto stamp = fs::last_write_time(root / "tokenizer" / "vocab.json");
  const WorldPaths again = ensure_world(root, tiny());
  EXPECT_FALSE(again.benchmark.written);
  EXPECT_FALSE(again.dg->written);
  EXPECT_EQ(fs::last_write_time(root / "tokenizer" / "vocab.json"), stamp);

  WorldParams changed = tiny();
  changed.tokenizer.vocab_size = 1500;
  EXPECT_ERROR_CONTAINS(ensure_world(root, changed), "vocab_size");
}

}  // namespace
}  // namespace clipt::world_setup
