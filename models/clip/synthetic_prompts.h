// Made-up class names and a tokenizer learned from their prompts, for runs on random weights that need
// no downloaded vocabulary (method-step benchmarks, `clipt profile --arch`).
#pragma once
#include <string>
#include <vector>

#include "models/clip/tokenizer.h"

namespace clipt::clip {

// Class names of two or three syllables (so prompts have realistic token counts).
std::vector<std::string> synthetic_class_names(int64_t n);
// A 1024-token BPE learned from "a photo of a <name>." for every class name.
Tokenizer prompt_tokenizer(const std::vector<std::string>& names);

}  // namespace clipt::clip
