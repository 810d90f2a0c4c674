// The BPE trainer: CLIP's file conventions, parity with an independent reference (golden file written by
// tests/golden/world/make_bpe_golden.py from a naive Python trainer, OpenAI's SimpleTokenizer and
// transformers' CLIPTokenizer), and encode/decode round trips with a small reference encoder.
#include "models/clip/bpe_trainer.h"

#include <algorithm>
#include <climits>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "data/world/pretrain_stream.h"
#include "models/clip/tokenizer.h"
#include "tests/common/test_util.h"

namespace clipt::clip {
namespace {

namespace fs = std::filesystem;

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The UTF-8 code points of a symbol string, one string each.
std::vector<std::string> code_points(const std::string& s) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size();) {
    const unsigned char b = static_cast<unsigned char>(s[i]);
    const size_t n = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
    out.push_back(s.substr(i, n));
    i += n;
  }
  return out;
}

// A minimal CLIP-style BPE encoder read from the written files: vocab.json for ids, merges.txt for ranks;
// repeatedly merge the lowest-ranked adjacent pair (all its occurrences, left to right), as OpenAI's bpe().
class ReferenceEncoder {
 public:
  explicit ReferenceEncoder(const fs::path& dir) {
    const nlohmann::json vocab = nlohmann::json::parse(read_text(dir / "vocab.json"));
    for (const auto& [token, id] : vocab.items()) {
      ids_[token] = id.get<int64_t>();
      tokens_[id.get<int64_t>()] = token;
    }
    std::istringstream merges(read_text(dir / "merges.txt"));
    std::string line;
    std::getline(merges, line);  // "#version: 0.2"
    int rank = 0;
    while (std::getline(merges, line)) ranks_[line] = rank++;
  }
  std::vector<int64_t> encode(const std::string& text) const {
    std::vector<int64_t> out;
    for (const std::string& word : bpe_training_words(text)) {
      std::vector<std::string> syms;
      for (unsigned char b : word) syms.push_back(bytes_to_unicode()[b]);
      syms.back() += "</w>";
      for (;;) {
        int best = INT_MAX;
        size_t at = 0;
        for (size_t i = 0; i + 1 < syms.size(); ++i) {
          const auto it = ranks_.find(syms[i] + " " + syms[i + 1]);
          if (it != ranks_.end() && it->second < best) best = it->second, at = i;
        }
        if (best == INT_MAX) break;
        const std::string a = syms[at], b = syms[at + 1];
        std::vector<std::string> next;
        for (size_t i = 0; i < syms.size();) {
          if (i + 1 < syms.size() && syms[i] == a && syms[i + 1] == b) {
            next.push_back(a + b);
            i += 2;
          } else {
            next.push_back(syms[i++]);
          }
        }
        syms = next;
      }
      for (const auto& s : syms) out.push_back(ids_.at(s));
    }
    return out;
  }
  // Tokens joined, "</w>" read as a space, byte symbols mapped back to bytes.
  std::string decode(const std::vector<int64_t>& ids) const {
    std::map<std::string, char> byte_of;
    for (int b = 0; b < 256; ++b) byte_of[bytes_to_unicode()[size_t(b)]] = char(b);
    std::string symbols;
    for (int64_t id : ids) symbols += tokens_.at(id);
    std::string out;
    for (size_t i = 0; i < symbols.size();) {
      if (symbols.compare(i, 4, "</w>") == 0) {
        out += ' ';
        i += 4;
        continue;
      }
      const std::string cp = code_points(symbols.substr(i, 4))[0];
      out += byte_of.at(cp);
      i += cp.size();
    }
    if (!out.empty() && out.back() == ' ') out.pop_back();
    return out;
  }
  size_t size() const { return ids_.size(); }

 private:
  std::map<std::string, int64_t> ids_;
  std::map<int64_t, std::string> tokens_;
  std::map<std::string, int> ranks_;
};

// The structure CLIP's layout requires, checked on the files as written.
void check_layout(const fs::path& dir, const BpeVocabulary& vocab) {
  const nlohmann::json j = nlohmann::json::parse(read_text(dir / "vocab.json"));
  ASSERT_EQ(j.size(), vocab.tokens.size());
  std::vector<std::string> by_id(j.size());
  for (const auto& [token, id] : j.items()) {
    const int64_t i = id.get<int64_t>();
    ASSERT_TRUE(i >= 0 && i < int64_t(j.size()) && by_id[size_t(i)].empty()) << "ids must be contiguous: " << i;
    by_id[size_t(i)] = token;
  }
  // CLIP's order of the byte symbols: bytes_to_unicode().values(), printable bytes first.
  EXPECT_EQ(by_id[0], "!");
  EXPECT_EQ(by_id[93], "~");
  EXPECT_EQ(by_id[94], "\u00a1");        // ¡
  EXPECT_EQ(by_id[187], "\u00ff");       // ÿ
  EXPECT_EQ(by_id[188], "\u0100");       // byte 0
  EXPECT_EQ(by_id[188 + 32], "\u0120");  // byte 32 (space): Ġ
  for (size_t i = 0; i < 256; ++i) EXPECT_EQ(by_id[256 + i], by_id[i] + "</w>");
  const std::string merges = read_text(dir / "merges.txt");
  std::istringstream lines(merges);
  std::string line;
  std::getline(lines, line);
  EXPECT_EQ(line, "#version: 0.2");
  size_t r = 0;
  while (std::getline(lines, line)) {
    ASSERT_LT(r, vocab.merges.size());
    const size_t space = line.find(' ');
    ASSERT_NE(space, std::string::npos);
    EXPECT_EQ(line.substr(0, space), vocab.merges[r].first);
    EXPECT_EQ(line.substr(space + 1), vocab.merges[r].second);
    EXPECT_EQ(by_id[512 + r], line.substr(0, space) + line.substr(space + 1)) << "merge " << r;
    ++r;
  }
  EXPECT_EQ(r, vocab.merges.size());
  EXPECT_EQ(by_id.size(), 512 + r + 2);
  EXPECT_EQ(by_id[by_id.size() - 2], "<|startoftext|>");
  EXPECT_EQ(by_id[by_id.size() - 1], "<|endoftext|>");
}

TEST(BpeTrainer, PreTokenisesLikeClip) {
  EXPECT_EQ(bpe_training_words("It's 42 red,circles!!  <|endoftext|>"),
            (std::vector<std::string>{"it", "'s", "4", "2", "red", ",", "circles", "!!", "<|endoftext|>"}));
  EXPECT_EQ(bpe_training_words("  a&amp;b\tCAFÉ "), (std::vector<std::string>{"a", "&", "b", "café"}));
}

TEST(BpeTrainer, MatchesTheIndependentReference) {
  const nlohmann::json golden = nlohmann::json::parse(read_text(test::golden_dir() / "world" / "bpe_golden.json"));
  BpeTrainingOptions options;
  options.vocab_size = golden.at("vocab_size").get<int64_t>();
  options.min_pair_count = golden.at("min_pair_count").get<int64_t>();
  BpeTrainingStats stats;
  const BpeVocabulary vocab = train_bpe(golden.at("corpus").get<std::vector<std::string>>(), options, &stats);
  const auto expected = golden.at("merges").get<std::vector<std::pair<std::string, std::string>>>();
  ASSERT_EQ(vocab.merges.size(), expected.size());
  for (size_t r = 0; r < expected.size(); ++r) EXPECT_EQ(vocab.merges[r], expected[r]) << "merge " << r;
  EXPECT_EQ(int64_t(vocab.tokens.size()), golden.at("vocab_tokens").get<int64_t>());
  EXPECT_EQ(stats.merges, int64_t(expected.size()));

  const fs::path dir = test::scratch_dir("bpe");
  write_hf_vocab(vocab, dir);
  check_layout(dir, vocab);
  const ReferenceEncoder reference(dir);
  const Tokenizer tokenizer = Tokenizer::from_hf_dir(dir);  // the project's CLIP tokenizer loads the files
  for (const auto& t : golden.at("texts")) {
    const std::string text = t.at("text").get<std::string>();
    const auto ids = t.at("ids").get<std::vector<int64_t>>();
    EXPECT_EQ(reference.encode(text), ids) << text;
    EXPECT_EQ(tokenizer.encode(text), ids) << text;
  }
}

TEST(BpeTrainer, WorldCaptionsRoundTrip) {
  const world::PretrainStream stream(world::PretrainSpec{});
  std::vector<std::string> corpus;
  for (uint64_t i = 0; i < 3000; ++i) corpus.push_back(stream.caption_at(i));
  BpeTrainingOptions options;
  options.vocab_size = 4000;
  BpeTrainingStats stats;
  const BpeVocabulary vocab = train_bpe(corpus, options, &stats);
  EXPECT_TRUE(stats.stopped_early);  // the world's vocabulary is small: every word becomes one token
  EXPECT_GT(stats.merges, 200);
  EXPECT_EQ(stats.words, [&] {
    int64_t n = 0;
    for (const auto& c : corpus) n += int64_t(bpe_training_words(c).size());
    return n;
  }());

  const fs::path dir = test::scratch_dir("bpe");
  write_hf_vocab(vocab, dir);
  check_layout(dir, vocab);
  const ReferenceEncoder reference(dir);
  for (uint64_t i = 5000; i < 5200; ++i) {
    const std::string caption = stream.caption_at(i);
    const std::vector<int64_t> ids = reference.encode(caption);
    std::string words;
    for (const auto& w : bpe_training_words(caption)) words += (words.empty() ? "" : " ") + w;
    EXPECT_EQ(reference.decode(ids), words) << caption;
    // Frequent words are single tokens: no more tokens than pre-tokens.
    EXPECT_EQ(ids.size(), bpe_training_words(caption).size()) << caption;
  }
  // A word never seen still encodes (byte fallback) and round-trips.
  EXPECT_EQ(reference.decode(reference.encode("zebra Ünïcode 123")), "zebra ünïcode 1 2 3");
}

TEST(BpeTrainer, DeterministicAndOrderIndependent) {
  const world::PretrainStream stream(world::PretrainSpec{});
  std::vector<std::string> corpus;
  for (uint64_t i = 0; i < 500; ++i) corpus.push_back(stream.caption_at(i));
  BpeTrainingOptions options;
  options.vocab_size = 700;
  const BpeVocabulary a = train_bpe(corpus, options);
  std::reverse(corpus.begin(), corpus.end());
  const BpeVocabulary b = train_bpe(corpus, options);
  EXPECT_EQ(a.merges, b.merges);
  EXPECT_EQ(a.tokens, b.tokens);
  EXPECT_EQ(a.tokens.size(), size_t(700));
  options.vocab_size = 100;
  EXPECT_ERROR_CONTAINS(train_bpe(corpus, options), "vocab_size 100");
  // An empty corpus gives the base vocabulary only.
  EXPECT_EQ(train_bpe({}, BpeTrainingOptions{}).tokens.size(), size_t(514));
}

}  // namespace
}  // namespace clipt::clip
