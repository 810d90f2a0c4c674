#include "models/clip/bpe_trainer.h"

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "engine/core/error.h"
#include "models/clip/pre_tokenize.h"
#include "models/clip/text_clean.h"
#include "models/clip/unicode_text.h"

namespace clipt::clip {

namespace {

constexpr const char* kWordEnd = "</w>";

// Symbols of the training state are interned: id = position in the final vocabulary.
struct SymbolTable {
  std::vector<std::string> names;
  std::unordered_map<std::string, int32_t> ids;
  int32_t add(const std::string& s) {
    const auto [it, inserted] = ids.emplace(s, int32_t(names.size()));
    if (inserted) names.push_back(s);
    return it->second;
  }
};

using PairKey = uint64_t;
PairKey key_of(int32_t a, int32_t b) { return (uint64_t(uint32_t(a)) << 32) | uint32_t(b); }
int32_t left_of(PairKey k) { return int32_t(k >> 32); }
int32_t right_of(PairKey k) { return int32_t(k & 0xFFFFFFFFu); }

}  // namespace

std::vector<std::string> bpe_training_words(std::string_view text) {
  const std::u32string clean = clip_clean_text(utf8_to_u32_replace(text));
  std::vector<std::string> pieces;
  for (std::u32string_view piece : pre_tokenize(clean)) pieces.push_back(u32_to_utf8(piece));
  return pieces;
}

BpeVocabulary train_bpe(const std::vector<std::string>& corpus, const BpeTrainingOptions& options,
                        BpeTrainingStats* stats) {
  constexpr int64_t kBaseTokens = 512, kSpecialTokens = 2;
  CLIPT_CHECK(options.vocab_size >= kBaseTokens + kSpecialTokens,
              "train_bpe: vocab_size {} is below the {} byte symbols and special tokens", options.vocab_size,
              kBaseTokens + kSpecialTokens);
  CLIPT_CHECK(options.min_pair_count >= 1, "train_bpe: min_pair_count {} must be ≥ 1", options.min_pair_count);

  // Base alphabet in CLIP's order: bytes_to_unicode().values() lists printable bytes first, then the
  // others; that is the order of the symbols' code points.
  std::vector<std::string> base(bytes_to_unicode().begin(), bytes_to_unicode().end());
  std::sort(base.begin(), base.end(),
            [](const std::string& a, const std::string& b) { return utf8_to_u32(a)[0] < utf8_to_u32(b)[0]; });
  SymbolTable symbols;
  for (const std::string& s : base) symbols.add(s);
  for (const std::string& s : base) symbols.add(s + kWordEnd);

  // Word frequencies.
  BpeTrainingStats st;
  std::map<std::string, int64_t> word_counts;  // ordered: the training state is independent of hash order
  for (const std::string& text : corpus)
    for (const std::string& w : bpe_training_words(text)) {
      if (w == "<|startoftext|>" || w == "<|endoftext|>") continue;
      ++word_counts[w];
      ++st.words;
    }
  st.distinct_words = int64_t(word_counts.size());

  std::vector<std::vector<int32_t>> words;
  std::vector<int64_t> counts;
  for (const auto& [w, n] : word_counts) {
    std::vector<int32_t> syms;
    for (size_t i = 0; i < w.size(); ++i) {
      std::string s = bytes_to_unicode()[uint8_t(w[i])];
      if (i + 1 == w.size()) s += kWordEnd;
      syms.push_back(symbols.ids.at(s));
    }
    words.push_back(std::move(syms));
    counts.push_back(n);
  }

  // Pair statistics, kept up to date incrementally: counts, the words each pair occurs in, and an ordered
  // set for picking the best pair (count descending, then left, then right symbol in byte order).
  std::unordered_map<PairKey, int64_t> pair_counts;
  std::unordered_map<PairKey, std::unordered_set<int32_t>> pair_words;
  auto better = [&](const std::pair<int64_t, PairKey>& x, const std::pair<int64_t, PairKey>& y) {
    if (x.first != y.first) return x.first > y.first;
    const std::string& xl = symbols.names[size_t(left_of(x.second))];
    const std::string& yl = symbols.names[size_t(left_of(y.second))];
    if (xl != yl) return xl < yl;
    return symbols.names[size_t(right_of(x.second))] < symbols.names[size_t(right_of(y.second))];
  };
  std::set<std::pair<int64_t, PairKey>, decltype(better)> ranking(better);

  auto adjust = [&](PairKey k, int64_t delta) {
    int64_t& c = pair_counts[k];
    if (c > 0) ranking.erase({c, k});
    c += delta;
    if (c > 0) ranking.insert({c, k});
  };
  auto account = [&](int32_t w, int64_t sign) {
    const auto& syms = words[size_t(w)];
    for (size_t i = 0; i + 1 < syms.size(); ++i) {
      const PairKey k = key_of(syms[i], syms[i + 1]);
      adjust(k, sign * counts[size_t(w)]);
      if (sign > 0) pair_words[k].insert(w);
    }
  };
  for (int32_t w = 0; w < int32_t(words.size()); ++w) account(w, +1);

  BpeVocabulary vocab;
  const int64_t max_merges = options.vocab_size - kBaseTokens - kSpecialTokens;
  while (int64_t(vocab.merges.size()) < max_merges) {
    // The best pair whose concatenation is new (see the header on skipped pairs).
    PairKey best = 0;
    int64_t best_count = 0;
    for (const auto& [c, k] : ranking) {
      if (c < options.min_pair_count) break;
      if (!symbols.ids.count(symbols.names[size_t(left_of(k))] + symbols.names[size_t(right_of(k))])) {
        best = k;
        best_count = c;
        break;
      }
    }
    if (best_count == 0) {
      st.stopped_early = true;
      break;
    }
    const int32_t a = left_of(best), b = right_of(best);
    const int32_t merged = symbols.add(symbols.names[size_t(a)] + symbols.names[size_t(b)]);
    vocab.merges.emplace_back(symbols.names[size_t(a)], symbols.names[size_t(b)]);

    // Re-count only the words containing the pair. Copy the word list: account() edits pair_words.
    std::vector<int32_t> affected(pair_words[best].begin(), pair_words[best].end());
    std::sort(affected.begin(), affected.end());
    for (int32_t w : affected) {
      auto& syms = words[size_t(w)];
      bool present = false;
      for (size_t i = 0; i + 1 < syms.size() && !present; ++i) present = syms[i] == a && syms[i + 1] == b;
      if (!present) continue;  // stale entry: the word lost the pair to an earlier merge
      account(w, -1);
      std::vector<int32_t> next;
      next.reserve(syms.size());
      for (size_t i = 0; i < syms.size();) {
        if (i + 1 < syms.size() && syms[i] == a && syms[i + 1] == b) {
          next.push_back(merged);
          i += 2;
        } else {
          next.push_back(syms[i++]);
        }
      }
      syms = std::move(next);
      account(w, +1);
    }
  }

  vocab.tokens = symbols.names;
  vocab.tokens.push_back("<|startoftext|>");
  vocab.tokens.push_back("<|endoftext|>");
  st.merges = int64_t(vocab.merges.size());
  validate_vocabulary(vocab, "train_bpe");
  if (stats) *stats = st;
  return vocab;
}

}  // namespace clipt::clip
