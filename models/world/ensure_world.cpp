#include "models/world/ensure_world.h"

#include "data/world/captions.h"
#include "data/world/published_folder.h"
#include "engine/core/error.h"
#include "models/clip/bpe_trainer.h"

namespace clipt::world_setup {

using namespace clipt::world;

namespace fs = std::filesystem;

namespace {

nlohmann::json pretrain_json(const PretrainSpec& p) {
  nlohmann::json colours = nlohmann::json::array(), shapes = nlohmann::json::array(),
                 weights = nlohmann::json::object();
  for (Colour c : p.classes.colours) colours.push_back(std::string(colour_name(c)));
  for (Shape s : p.classes.shapes) shapes.push_back(std::string(shape_name(s)));
  for (int s = 0; s < kNumStyles; ++s) weights[std::string(style_name(Style(s)))] = p.style_weights[size_t(s)];
  return {{"seed", p.seed},
          {"classes", {{"colours", colours}, {"shapes", shapes}}},
          {"holdout", p.holdout == Holdout::NewClassPairs ? "new_class_pairs" : "none"},
          {"style_weights", weights},
          {"distractor_probability", p.distractor_probability}};
}

// Templates of the prompt-learning papers (CoOp's "a photo of a {}." and the ImageNet ensemble) plus the
// world's style words, so hand-made prompts tokenize into whole words.
constexpr const char* kPromptTemplates[] = {
    "a photo of a {}.",         "itap of a {}.",         "a bad photo of the {}.", "a origami {}.",
    "a photo of the large {}.", "a {} in a video game.", "art of the {}.",         "a photo of the small {}.",
    "a sketch of a {}.",        "a cartoon of a {}.",    "a drawing of a {}.",     "a noisy photo of a {}.",
    "a textured photo of a {}."};

}  // namespace

std::vector<std::string> tokenizer_corpus(const PretrainSpec& pretrain, const TokenizerSpec& spec) {
  CLIPT_CHECK(spec.corpus_captions >= 1 && spec.corpus_captions <= 10'000'000,
              "world tokenizer: corpus_captions {} not in [1, 10000000]", spec.corpus_captions);
  std::vector<std::string> corpus;
  const PretrainStream stream(pretrain);
  corpus.reserve(size_t(spec.corpus_captions) + 200);
  for (int64_t i = 0; i < spec.corpus_captions; ++i) corpus.push_back(stream.caption_at(uint64_t(i)));
  for (int c = 0; c < kNumColours; ++c)
    for (int s = 0; s < kNumShapes; ++s)
      for (const char* t : kPromptTemplates) {
        std::string text = t;
        text.replace(text.find("{}"), 2, class_name(Colour(c), Shape(s)));
        corpus.push_back(std::move(text));
      }
  return corpus;
}

WorldPaths ensure_world(const fs::path& root, const WorldParams& params) {
  WorldPaths paths;
  paths.root = root;
  paths.benchmark = write_benchmark(root, params.benchmark);
  if (params.write_dg) paths.dg = write_dg_benchmark(root, params.dg);
  for (Style style : params.xd_styles) {
    BenchmarkSpec xd = params.benchmark;
    xd.name = params.benchmark.name + "_" + std::string(style_name(style));
    xd.style = style;
    xd.train_per_class = 0;
    xd.val_per_class = 0;
    paths.xd.push_back(write_benchmark(root, xd));
  }

  paths.tokenizer_dir = root / "tokenizer";
  const nlohmann::json marker = {{"generator", "clipt built-in world"},
                                 {"version", kGeneratorVersion},
                                 {"layout", "hf_clip_tokenizer"},
                                 {"vocab_size", params.tokenizer.vocab_size},
                                 {"corpus_captions", params.tokenizer.corpus_captions},
                                 {"pretrain", pretrain_json(params.pretrain)}};
  publish_folder(paths.tokenizer_dir, marker, [&](const fs::path& tmp) {
    clip::BpeTrainingOptions options;
    options.vocab_size = params.tokenizer.vocab_size;
    const clip::BpeVocabulary vocab = clip::train_bpe(tokenizer_corpus(params.pretrain, params.tokenizer), options);
    clip::write_hf_vocab(vocab, tmp);
  });
  return paths;
}

}  // namespace clipt::world_setup
