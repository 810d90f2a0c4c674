// CLIP's byte-level BPE tokenizer, exactly as OpenAI's simple_tokenizer.py (and transformers'
// CLIPTokenizer, which copies it): clean the text (text_clean.h), split it with CLIP's pattern
//   <|startoftext|>|<|endoftext|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+   (IGNORECASE)
// map each piece's UTF-8 bytes through the byte-to-unicode table, mark the word end with "</w>", and merge
// symbol pairs by rank. Golden parity with the reference on every benchmark class name is tested in
// tests/models/tokenizer_test.cpp.
#pragma once
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/core/tensor.h"
#include "models/clip/bpe_vocab.h"

namespace clipt::clip {

// What tokenize_batch does with a text whose tokens (with start and end) exceed the context length.
enum class Truncate {
  kError,         // raise clipt::Error naming the text and its length (OpenAI's default)
  kKeepEndToken,  // keep the first context_length tokens and overwrite the last with the end token
                  // (OpenAI's truncate=True)
};

class Tokenizer {
 public:
  static constexpr int64_t kContextLength = 77;

  // vocab.json + merges.txt of a Hugging Face CLIP directory.
  static Tokenizer from_hf_dir(const std::filesystem::path& dir);
  // OpenAI's bpe_simple_vocab_16e6.txt.gz.
  static Tokenizer from_bpe_gz(const std::filesystem::path& path);
  static Tokenizer from_files(const std::filesystem::path& vocab_json, const std::filesystem::path& merges_txt);
  // A .gz file is read as OpenAI's merges; a directory as a Hugging Face one.
  static Tokenizer from_path(const std::filesystem::path& path);
  explicit Tokenizer(BpeVocabulary vocab, const std::string& source = "vocabulary");

  // Token ids of `text` (UTF-8), without start/end tokens. Invalid UTF-8 is an error.
  std::vector<int64_t> encode(std::string_view text) const;
  // start + encode(text) + end; no padding, no truncation.
  std::vector<int64_t> tokenize(std::string_view text) const;
  // i64 [N, context_length]: start + ids + end per row, zero-padded (as clip.tokenize).
  Tensor tokenize_batch(const std::vector<std::string>& texts, int64_t context_length = kContextLength,
                        Truncate policy = Truncate::kError) const;
  // Text of `ids` as OpenAI's decode: bytes joined, invalid UTF-8 replaced, "</w>" -> " ". Special tokens
  // are kept as text ("<|startoftext|>").
  std::string decode(const std::vector<int64_t>& ids) const;

  int64_t sot_id() const { return sot_id_; }
  int64_t eot_id() const { return eot_id_; }
  int64_t vocab_size() const { return int64_t(vocab_.tokens.size()); }
  const BpeVocabulary& vocabulary() const { return vocab_; }
  // vocab.json + merges.txt in the Hugging Face layout.
  void write_hf_files(const std::filesystem::path& dir) const { write_hf_vocab(vocab_, dir); }

 private:
  // BPE of one pre-token (already mapped to byte symbols), as ids; cached.
  void bpe(const std::string& piece, std::vector<int64_t>& out) const;

  BpeVocabulary vocab_;
  std::unordered_map<std::string, int64_t> ids_;          // token -> id
  std::unordered_map<std::string, int32_t> ranks_;        // "left right" -> merge rank
  std::unordered_map<std::string, uint8_t> symbol_byte_;  // byte symbol -> byte (for decode)
  int64_t sot_id_ = -1, eot_id_ = -1;

  // The cache holds every piece seen so far, as OpenAI's does; a Tokenizer is safe to share across
  // threads. Kept behind a pointer so a Tokenizer stays movable.
  struct Cache {
    std::mutex mutex;
    std::unordered_map<std::string, std::vector<int64_t>> ids;
  };
  std::unique_ptr<Cache> cache_ = std::make_unique<Cache>();
};

}  // namespace clipt::clip
