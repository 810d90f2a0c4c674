// CLIP's BPE vocabulary files: OpenAI's bpe_simple_vocab_16e6.txt.gz and the Hugging Face pair
// vocab.json + merges.txt, read into one in-memory form and written back in the Hugging Face layout.
//
// Tokens are strings over GPT-2's byte-to-unicode alphabet (every UTF-8 byte is one printable code point),
// stored here as UTF-8; a token that ends a word carries the "</w>" suffix.
#pragma once
#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace clipt::clip {

struct BpeVocabulary {
  std::vector<std::string> tokens;                          // id -> token
  std::vector<std::pair<std::string, std::string>> merges;  // rank -> (left, right)
};

// The byte-to-unicode table of GPT-2/CLIP: byte b -> one code point, as UTF-8. Printable Latin-1 bytes map
// to themselves; the others (controls, space, 0x7F-0xA0, 0xAD) to U+0100 onwards, in byte order.
const std::array<std::string, 256>& bytes_to_unicode();
// The bytes in the order of OpenAI's table (the printable ones first, then the rest), which is the order
// of the first 256 (and next 256) ids of CLIP's vocabulary.
const std::array<uint8_t, 256>& openai_byte_order();

// OpenAI's .txt.gz: a header line, then merges; the vocabulary is built as OpenAI's SimpleTokenizer does
// (the 256 byte symbols, the same with "</w>", one token per merge of the first 48,894, then
// <|startoftext|> and <|endoftext|>), giving the 49,408 ids of every OpenAI CLIP model.
BpeVocabulary load_openai_bpe_gz(const std::filesystem::path& path);
// Hugging Face layout: vocab.json (token -> id, ids 0..N-1) and merges.txt ("#version" line, then one
// "left right" merge per line, in rank order).
BpeVocabulary load_hf_vocab(const std::filesystem::path& vocab_json, const std::filesystem::path& merges_txt);
// Writes dir/vocab.json and dir/merges.txt byte-for-byte as transformers' CLIPTokenizer.save_vocabulary does
// (json.dumps(indent=2, sort_keys=True, ensure_ascii=False) + "\n"; "#version: 0.2" + merges). Atomic.
void write_hf_vocab(const BpeVocabulary& vocab, const std::filesystem::path& dir);

// Checks that the vocabulary can encode any text: all 512 byte symbols, every merge result, and the two
// special tokens exist. Throws clipt::Error naming `source` and the missing token otherwise.
void validate_vocabulary(const BpeVocabulary& vocab, const std::string& source);

}  // namespace clipt::clip
