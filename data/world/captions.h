// Natural-language captions for world scenes: many templates and word orders, synonyms for sizes, patterns
// and styles, optional background, position and distractor phrases. Deterministic from the seed.
//
// Every caption names the subject's colour and shape (as adjacent words in most templates, the way a class
// prompt "a photo of a red circle." does), so pretraining always sees the pair it is about. Captions are
// lowercase ASCII: words, commas, hyphens and full stops.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/world/scene.h"

namespace clipt::world {

std::string caption(const Scene& scene, uint64_t seed);

// Number of caption templates (a seed picks one); for tests that want to see them all.
inline constexpr int kNumCaptionTemplates = 12;
std::string caption_with_template(const Scene& scene, int template_index, uint64_t seed);

// Every word a caption or a class prompt of the world can contain (for tests and tokenizer corpora).
std::vector<std::string> caption_vocabulary();

}  // namespace clipt::world
