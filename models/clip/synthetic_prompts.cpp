#include "models/clip/synthetic_prompts.h"

#include "models/clip/bpe_trainer.h"

namespace clipt::clip {

std::vector<std::string> synthetic_class_names(int64_t n) {
  const char* syllables[] = {"ka", "lo", "mi", "ter", "su", "ban", "vor", "ne", "pri", "dal", "go", "rin"};
  std::vector<std::string> out;
  for (int64_t i = 0; i < n; ++i) {
    std::string name = std::string(syllables[i % 12]) + syllables[(i / 12 + 3) % 12];
    if (i >= 144) name += std::string(" ") + syllables[(i / 144) % 12];
    out.push_back(name);
  }
  return out;
}

Tokenizer prompt_tokenizer(const std::vector<std::string>& names) {
  std::vector<std::string> corpus;
  for (const auto& n : names) corpus.push_back("a photo of a " + n + ".");
  return Tokenizer(train_bpe(corpus, {.vocab_size = 1024}), "bench prompts");
}

}  // namespace clipt::clip
