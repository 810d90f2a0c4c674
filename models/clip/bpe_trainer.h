// Learns byte-level BPE merges from a text corpus with CLIP's conventions, so that the result loads in
// our Tokenizer, OpenAI's SimpleTokenizer and transformers' CLIPTokenizer alike (write it with
// write_hf_vocab from bpe_vocab.h: vocab.json + merges.txt in the Hugging Face layout):
//
// - Text is cleaned and lowercased as CLIP does (clip_clean_text) and split with CLIP's pattern
//     <|startoftext|>|<|endoftext|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+
//   with the tokenizer's own split (pre_tokenize.h; for ASCII captions: runs of letters, single digits,
//   runs of other non-space characters, and the English contractions). Special tokens are not learned.
// - Each word's UTF-8 bytes become symbols through GPT-2's bytes_to_unicode table; its last symbol carries
//   "</w>".
// - Merges are learned greedily: the most frequent adjacent pair (counted over word occurrences) is merged
//   everywhere, left to right without overlap, as the tokenizer applies it. Ties go to the pair whose left
//   symbol, then right symbol, is smallest in byte order, so training is deterministic. A pair whose
//   concatenation is already a token (reachable by an earlier merge) is skipped, so every merge adds exactly
//   one new token and id = 512 + merge rank, as CLIP's vocabulary layout requires.
// - Vocabulary: the 256 byte symbols in CLIP's order (bytes_to_unicode().values(): printable bytes first;
//   equivalently by code point of the symbol), the same 256 with "</w>", one token per merge, then
//   <|startoftext|> and <|endoftext|>.
// Training stops at `vocab_size` tokens or earlier when no pair occurs at least `min_pair_count` times.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "models/clip/bpe_vocab.h"

namespace clipt::clip {

struct BpeTrainingOptions {
  int64_t vocab_size = 2048;   // total tokens, including the 512 byte symbols and the 2 special tokens
  int64_t min_pair_count = 2;  // stop when the best pair is rarer than this
};

struct BpeTrainingStats {
  int64_t words = 0;  // pre-token occurrences in the corpus
  int64_t distinct_words = 0;
  int64_t merges = 0;
  bool stopped_early = false;  // ran out of pairs before reaching vocab_size
};

BpeVocabulary train_bpe(const std::vector<std::string>& corpus, const BpeTrainingOptions& options = {},
                        BpeTrainingStats* stats = nullptr);

// CLIP's cleaning + pre-tokenising pattern, as UTF-8 pieces ("a red circle." → "a", "red", "circle", ".").
// Special tokens come back as single pieces.
std::vector<std::string> bpe_training_words(std::string_view text);

}  // namespace clipt::clip
