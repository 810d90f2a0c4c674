#include "models/clip/tokenizer.h"

#include <algorithm>
#include <limits>

#include "engine/core/error.h"
#include "models/clip/pre_tokenize.h"
#include "models/clip/text_clean.h"
#include "models/clip/unicode_text.h"

namespace clipt::clip {
namespace {

namespace fs = std::filesystem;

// The UTF-8 symbols of a byte-symbol string, one per code point.
std::vector<std::string> split_symbols(const std::string& s) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size();) {
    const unsigned char b = static_cast<unsigned char>(s[i]);
    const size_t n = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
    out.emplace_back(s.substr(i, n));
    i += n;
  }
  return out;
}

}  // namespace

Tokenizer::Tokenizer(BpeVocabulary vocab, const std::string& source) : vocab_(std::move(vocab)) {
  validate_vocabulary(vocab_, source);
  ids_.reserve(vocab_.tokens.size());
  for (size_t i = 0; i < vocab_.tokens.size(); ++i) ids_.emplace(vocab_.tokens[i], int64_t(i));
  ranks_.reserve(vocab_.merges.size());
  for (size_t r = 0; r < vocab_.merges.size(); ++r)
    ranks_.emplace(vocab_.merges[r].first + " " + vocab_.merges[r].second, int32_t(r));
  for (int b = 0; b < 256; ++b) symbol_byte_.emplace(bytes_to_unicode()[size_t(b)], uint8_t(b));
  sot_id_ = ids_.at("<|startoftext|>");
  eot_id_ = ids_.at("<|endoftext|>");
  // OpenAI seeds its cache with the special tokens, which therefore never go through BPE.
  cache_->ids.emplace("<|startoftext|>", std::vector<int64_t>{sot_id_});
  cache_->ids.emplace("<|endoftext|>", std::vector<int64_t>{eot_id_});
}

Tokenizer Tokenizer::from_bpe_gz(const fs::path& path) { return Tokenizer(load_openai_bpe_gz(path), path.string()); }

Tokenizer Tokenizer::from_files(const fs::path& vocab_json, const fs::path& merges_txt) {
  return Tokenizer(load_hf_vocab(vocab_json, merges_txt), vocab_json.string());
}

Tokenizer Tokenizer::from_hf_dir(const fs::path& dir) {
  for (const char* name : {"vocab.json", "merges.txt"})
    CLIPT_CHECK(fs::is_regular_file(dir / name), "{}: no {} (expected a Hugging Face CLIP directory)", dir.string(),
                name);
  return from_files(dir / "vocab.json", dir / "merges.txt");
}

Tokenizer Tokenizer::from_path(const fs::path& path) {
  if (fs::is_directory(path)) return from_hf_dir(path);
  CLIPT_CHECK(fs::exists(path), "vocabulary {} does not exist", path.string());
  CLIPT_CHECK(path.extension() == ".gz",
              "{}: unknown vocabulary format (expected CLIP's .txt.gz or a directory with vocab.json + merges.txt)",
              path.string());
  return from_bpe_gz(path);
}

void Tokenizer::bpe(const std::string& piece, std::vector<int64_t>& out) const {
  {
    std::lock_guard<std::mutex> lock(cache_->mutex);
    const auto it = cache_->ids.find(piece);
    if (it != cache_->ids.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  std::vector<std::string> word = split_symbols(piece);
  word.back() += "</w>";
  // Merge the lowest-ranked adjacent pair everywhere it occurs (left to right, non-overlapping), until no
  // adjacent pair has a rank.
  while (word.size() > 1) {
    int32_t best = std::numeric_limits<int32_t>::max();
    size_t best_at = 0;
    for (size_t i = 0; i + 1 < word.size(); ++i) {
      const auto it = ranks_.find(word[i] + " " + word[i + 1]);
      if (it != ranks_.end() && it->second < best) {
        best = it->second;
        best_at = i;
      }
    }
    if (best == std::numeric_limits<int32_t>::max()) break;
    const std::string first = word[best_at], second = word[best_at + 1];
    std::vector<std::string> merged;
    merged.reserve(word.size());
    for (size_t i = 0; i < word.size();) {
      if (i + 1 < word.size() && word[i] == first && word[i + 1] == second) {
        merged.push_back(first + second);
        i += 2;
      } else {
        merged.push_back(word[i++]);
      }
    }
    word = std::move(merged);
  }
  std::vector<int64_t> ids;
  ids.reserve(word.size());
  for (const std::string& symbol : word) {
    const auto it = ids_.find(symbol);
    // validate_vocabulary guarantees every byte symbol and merge result is a token.
    CLIPT_CHECK(it != ids_.end(), "tokenizer: BPE symbol \"{}\" is not in the vocabulary", symbol);
    ids.push_back(it->second);
  }
  out.insert(out.end(), ids.begin(), ids.end());
  std::lock_guard<std::mutex> lock(cache_->mutex);
  cache_->ids.emplace(piece, std::move(ids));
}

std::vector<int64_t> Tokenizer::encode(std::string_view text) const {
  const std::u32string cleaned = clip_clean_text(utf8_to_u32(text, "tokenizer input"));
  std::vector<int64_t> ids;
  const auto& byte_symbols = bytes_to_unicode();
  for (std::u32string_view piece : pre_tokenize(cleaned)) {
    std::string symbols;
    for (unsigned char b : u32_to_utf8(piece)) symbols += byte_symbols[b];
    bpe(symbols, ids);
  }
  return ids;
}

std::vector<int64_t> Tokenizer::tokenize(std::string_view text) const {
  std::vector<int64_t> ids{sot_id_};
  const std::vector<int64_t> body = encode(text);
  ids.insert(ids.end(), body.begin(), body.end());
  ids.push_back(eot_id_);
  return ids;
}

Tensor Tokenizer::tokenize_batch(const std::vector<std::string>& texts, int64_t context_length, Truncate policy) const {
  CLIPT_CHECK(context_length >= 2, "tokenize_batch: context length {} leaves no room for start and end tokens",
              context_length);
  std::vector<int64_t> rows(texts.size() * size_t(context_length), 0);
  for (size_t i = 0; i < texts.size(); ++i) {
    std::vector<int64_t> ids = tokenize(texts[i]);
    if (int64_t(ids.size()) > context_length) {
      CLIPT_CHECK(policy == Truncate::kKeepEndToken,
                  "text \"{}\" is {} tokens long (with start and end tokens), more than the context length {}",
                  texts[i], ids.size(), context_length);
      ids.resize(size_t(context_length));
      ids.back() = eot_id_;
    }
    std::copy(ids.begin(), ids.end(), rows.begin() + long(i * size_t(context_length)));
  }
  return Tensor::from_vector(rows, {int64_t(texts.size()), context_length});
}

std::string Tokenizer::decode(const std::vector<int64_t>& ids) const {
  std::string bytes;
  for (int64_t id : ids) {
    CLIPT_CHECK(id >= 0 && id < vocab_size(), "decode: token id {} is outside the vocabulary (size {})", id,
                vocab_size());
    const std::string& token = vocab_.tokens[size_t(id)];
    for (const std::string& symbol : split_symbols(token)) {
      const auto it = symbol_byte_.find(symbol);
      CLIPT_CHECK(it != symbol_byte_.end(), "decode: token {} (\"{}\") has a symbol outside the byte alphabet", id,
                  token);
      bytes += char(it->second);
    }
  }
  std::string text = u32_to_utf8(utf8_to_u32_replace(bytes));
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    if (text.compare(i, 4, "</w>") == 0) {
      out += ' ';
      i += 4;
    } else {
      out += text[i++];
    }
  }
  return out;
}

}  // namespace clipt::clip
