// CLIP's pre-tokenising split, shared by the tokenizer and the BPE trainer so that a trained vocabulary
// sees exactly the words the tokenizer will look up: re.findall with
//   <|startoftext|>|<|endoftext|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+   (IGNORECASE)
// on text already cleaned and lowercased (text_clean.h).
#pragma once
#include <string_view>
#include <vector>

namespace clipt::clip {

// The pieces of `text` (views into it), alternatives tried in the pattern's order at each position;
// characters no alternative matches (whitespace) are skipped. Special tokens come back as single pieces.
std::vector<std::u32string_view> pre_tokenize(std::u32string_view text);

}  // namespace clipt::clip
