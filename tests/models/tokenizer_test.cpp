// CLIP tokenizer: golden parity with OpenAI's SimpleTokenizer (tests/golden/tokenizer_ids.json, made by
// tests/golden/make_tokenizer_fixture.py), context-length policies, decode, vocabulary files.
#include "models/clip/tokenizer.h"

#include <zlib.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/common/test_util.h"

namespace clipt::clip {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

fs::path vocab_gz() { return test::shared_data_dir() / "bpe_simple_vocab_16e6.txt.gz"; }

const Tokenizer* clip_tokenizer() {
  static const std::unique_ptr<Tokenizer> tok =
      fs::exists(vocab_gz()) ? std::make_unique<Tokenizer>(Tokenizer::from_bpe_gz(vocab_gz())) : nullptr;
  return tok.get();
}

const json& fixture() {
  static const json doc = [] {
    std::ifstream in(test::golden_dir() / "tokenizer_ids.json");
    return json::parse(in);
  }();
  return doc;
}

#define REQUIRE_CLIP_VOCAB()                                                                       \
  if (!clip_tokenizer()) GTEST_SKIP() << "CLIP vocabulary " << vocab_gz() << " missing: skipping"; \
  const Tokenizer& tok = *clip_tokenizer()

std::string write_text(const fs::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
  return path.string();
}

void write_gz(const fs::path& path, const std::string& text) {
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  gzwrite(f, text.data(), unsigned(text.size()));
  gzclose(f);
}

TEST(ClipTokenizer, SpecialTokensAndSize) {
  REQUIRE_CLIP_VOCAB();
  EXPECT_EQ(tok.sot_id(), 49406);
  EXPECT_EQ(tok.eot_id(), 49407);
  EXPECT_EQ(tok.vocab_size(), 49408);
  // OpenAI's order: the printable bytes first ("!" = 0, "~" = 93, "¡" = 94, ...), then the rest (Ā = byte 0).
  EXPECT_EQ(tok.vocabulary().tokens[0], "!");
  EXPECT_EQ(tok.vocabulary().tokens[93], "~");
  EXPECT_EQ(tok.vocabulary().tokens[94], "¡");
  EXPECT_EQ(tok.vocabulary().tokens[188], "Ā");
  EXPECT_EQ(tok.vocabulary().tokens[256], "!</w>");
  EXPECT_EQ(tok.vocabulary().tokens[512], "in");  // the first merge, "i n"
  EXPECT_EQ(fixture()["sot"].get<int64_t>(), tok.sot_id());
  EXPECT_EQ(fixture()["eot"].get<int64_t>(), tok.eot_id());
  // Hand-checked against the vocabulary: "a</w>" = 320, "photo</w>" = 1125, "."+"</w>" = 269.
  EXPECT_EQ(tok.tokenize("a photo."), (std::vector<int64_t>{49406, 320, 1125, 269, 49407}));
}

TEST(ClipTokenizer, MatchesOpenAIOnEveryFixtureText) {
  REQUIRE_CLIP_VOCAB();
  const json& entries = fixture()["encode"];
  ASSERT_GT(entries.size(), 4000u);
  size_t mismatches = 0;
  for (const json& e : entries) {
    const std::string text = e[0].get<std::string>();
    const auto expected = e[1].get<std::vector<int64_t>>();
    const auto actual = tok.encode(text);
    if (actual != expected && ++mismatches <= 10)
      ADD_FAILURE() << "text \"" << text << "\"\n  expected " << ::testing::PrintToString(expected) << "\n  actual   "
                    << ::testing::PrintToString(actual);
  }
  EXPECT_EQ(mismatches, 0u) << "of " << entries.size() << " texts";
}

TEST(ClipTokenizer, DecodeMatchesOpenAI) {
  REQUIRE_CLIP_VOCAB();
  for (const json& e : fixture()["decode"]) {
    const std::string text = e[0].get<std::string>();
    EXPECT_EQ(tok.decode(tok.tokenize(text)), e[1].get<std::string>()) << "text \"" << text << "\"";
  }
  // Round trip of ordinary text: words come back separated by the "</w>" spaces.
  EXPECT_EQ(tok.decode(tok.encode("A photo of a Golden Retriever.")), "a photo of a golden retriever . ");
  // A token that ends inside a UTF-8 sequence decodes to U+FFFD, as Python's errors="replace".
  const auto& tokens = tok.vocabulary().tokens;
  const int64_t lead_byte = std::find(tokens.begin(), tokens.end(), bytes_to_unicode()[0xC3]) - tokens.begin();
  EXPECT_EQ(tok.decode({lead_byte}), "\xEF\xBF\xBD");  // 0xC3 alone: a truncated sequence
  EXPECT_EQ(tok.decode(tok.encode("é")), "é ");
  EXPECT_ERROR_CONTAINS(tok.decode({49408}), "outside the vocabulary");
}

TEST(ClipTokenizer, TruncationKeepsTheEndTokenLikeOpenAI) {
  REQUIRE_CLIP_VOCAB();
  const json& rows = fixture()["truncated"];
  ASSERT_FALSE(rows.empty());
  for (const json& r : rows) {
    const std::string text = r[0].get<std::string>();
    const Tensor batch = tok.tokenize_batch({text}, 77, Truncate::kKeepEndToken);
    EXPECT_EQ(batch.shape(), (Shape{1, 77}));
    EXPECT_EQ(batch.to_vector<int64_t>(), r[1].get<std::vector<int64_t>>()) << "text \"" << text << "\"";
  }
}

TEST(ClipTokenizer, OverlongTextIsAnErrorByDefault) {
  REQUIRE_CLIP_VOCAB();
  const std::string text = fixture()["truncated"][0][0].get<std::string>();
  const size_t n = tok.tokenize(text).size();
  ASSERT_GT(n, 77u);
  EXPECT_ERROR_CONTAINS(tok.tokenize_batch({"short", text}), text.substr(0, 30));
  EXPECT_ERROR_CONTAINS(tok.tokenize_batch({text}), std::to_string(n) + " tokens long");
  // tokenize() itself never truncates.
  EXPECT_GT(tok.tokenize(text).size(), 77u);
}

TEST(ClipTokenizer, BatchIsZeroPaddedInt64) {
  REQUIRE_CLIP_VOCAB();
  const Tensor batch = tok.tokenize_batch({"a photo.", "", "a"});
  ASSERT_EQ(batch.dtype(), DType::I64);
  ASSERT_EQ(batch.shape(), (Shape{3, 77}));
  const auto v = batch.to_vector<int64_t>();
  const std::vector<int64_t> row0{49406, 320, 1125, 269, 49407};
  EXPECT_TRUE(std::equal(row0.begin(), row0.end(), v.begin()));
  EXPECT_TRUE(std::all_of(v.begin() + 5, v.begin() + 77, [](int64_t x) { return x == 0; }));
  EXPECT_EQ(v[77], 49406);
  EXPECT_EQ(v[78], 49407);  // empty text: start, end, padding
  EXPECT_EQ(v[79], 0);
  // A text of exactly the context length fits without truncation.
  std::string exact = "a";
  for (int i = 0; i < 74; ++i) exact += " a";
  EXPECT_EQ(tok.tokenize(exact).size(), 77u);
  EXPECT_EQ(tok.tokenize_batch({exact}).to_vector<int64_t>().back(), 49407);
  EXPECT_ERROR_CONTAINS(tok.tokenize_batch({"a"}, 1), "context length 1");
}

TEST(ClipTokenizer, HuggingFaceFilesRoundTrip) {
  REQUIRE_CLIP_VOCAB();
  const fs::path dir = test::scratch_dir("hf");
  tok.write_hf_files(dir);
  const std::string merges = [&] {
    std::ifstream in(dir / "merges.txt");
    std::string first;
    std::getline(in, first);
    return first;
  }();
  EXPECT_EQ(merges, "#version: 0.2");
  const Tokenizer hf = Tokenizer::from_hf_dir(dir);
  EXPECT_EQ(hf.vocabulary().tokens, tok.vocabulary().tokens);
  EXPECT_EQ(hf.vocabulary().merges, tok.vocabulary().merges);
  for (const json& e : fixture()["encode"]) {
    const std::string text = e[0].get<std::string>();
    ASSERT_EQ(hf.encode(text), tok.encode(text)) << text;
  }
  // Writing again gives the same bytes (deterministic layout).
  const fs::path again = test::scratch_dir("hf2");
  hf.write_hf_files(again);
  for (const char* name : {"vocab.json", "merges.txt"}) {
    std::ifstream a(dir / name, std::ios::binary), b(again / name, std::ios::binary);
    EXPECT_TRUE(std::equal(std::istreambuf_iterator<char>(a), {}, std::istreambuf_iterator<char>(b), {})) << name;
  }
  EXPECT_EQ(Tokenizer::from_path(dir).vocab_size(), 49408);
  EXPECT_EQ(Tokenizer::from_path(vocab_gz()).vocab_size(), 49408);
}

// A hand-made vocabulary: the BPE result is worked out by hand, independent of any reference.
TEST(ClipTokenizer, TinyVocabularyHandComputed) {
  BpeVocabulary v;
  for (const std::string& s : bytes_to_unicode()) v.tokens.push_back(s);
  for (const std::string& s : bytes_to_unicode()) v.tokens.push_back(s + "</w>");
  v.merges = {{"l", "l"}, {"h", "e"}, {"he", "ll"}, {"hell", "o</w>"}, {"l", "o</w>"}};
  for (const auto& [a, b] : v.merges) v.tokens.push_back(a + b);  // ids 512..516
  v.tokens.push_back("<|endoftext|>");                            // 517 (order differs from CLIP's)
  v.tokens.push_back("<|startoftext|>");                          // 518
  const Tokenizer tok(v, "tiny");
  EXPECT_EQ(tok.sot_id(), 518);
  EXPECT_EQ(tok.eot_id(), 517);
  EXPECT_EQ(tok.vocab_size(), 519);
  // "hello": h e l l o</w> -> (rank 0) h e ll o</w> -> (1) he ll o</w> -> (2) hell o</w> -> (3) hello</w>.
  EXPECT_EQ(tok.encode("hello"), (std::vector<int64_t>{515}));
  // "lo": l o</w> -> (4) lo</w>.
  EXPECT_EQ(tok.encode("lo"), (std::vector<int64_t>{516}));
  // "hex!": h e x</w> -> he x</w> (no rank for the pair left); "!" is its own piece. This vocabulary lists
  // the byte symbols in byte order, so "x</w>" is 256 + 'x'.
  EXPECT_EQ(tok.encode("hex!"), (std::vector<int64_t>{513, 256 + 'x', 256 + '!'}));
  EXPECT_EQ(tok.tokenize("lo"), (std::vector<int64_t>{518, 516, 517}));
  // A duplicate token makes the vocabulary ambiguous.
  v.tokens.push_back("ll");
  EXPECT_ERROR_CONTAINS(Tokenizer(v, "dup"), "duplicate");
}

TEST(ClipTokenizer, InvalidUtf8InputIsAnError) {
  REQUIRE_CLIP_VOCAB();
  EXPECT_ERROR_CONTAINS(tok.encode("abc\xC3("), "not valid UTF-8");
  EXPECT_ERROR_CONTAINS(tok.encode("\xED\xA0\x80"), "offset 0");  // a UTF-16 surrogate
}

TEST(ClipTokenizerFiles, BadFilesNameTheFile) {
  const fs::path dir = test::scratch_dir("bad");
  const std::string merges_ok = write_text(dir / "merges.txt", "#version: 0.2\na b\n");
  const std::string not_json = write_text(dir / "vocab_bad.json", "this is not json");
  EXPECT_ERROR_CONTAINS(Tokenizer::from_files(not_json, merges_ok), "vocab_bad.json is not valid JSON");
  const std::string array_json = write_text(dir / "vocab_array.json", "[1, 2]");
  EXPECT_ERROR_CONTAINS(Tokenizer::from_files(array_json, merges_ok), "vocab_array.json");
  const std::string gap_json = write_text(dir / "vocab_gap.json", R"({"a": 0, "b": 5})");
  EXPECT_ERROR_CONTAINS(Tokenizer::from_files(gap_json, merges_ok), "ids must be 0..1");
  const std::string small_json = write_text(dir / "vocab_small.json", R"({"a": 0, "b": 1})");
  const std::string no_header = write_text(dir / "merges_noheader.txt", "a b\nc d\n");
  EXPECT_ERROR_CONTAINS(Tokenizer::from_files(small_json, no_header), "merges_noheader.txt is not a BPE merges file");
  const std::string bad_merge = write_text(dir / "merges_bad.txt", "#version: 0.2\na b c\n");
  EXPECT_ERROR_CONTAINS(Tokenizer::from_files(small_json, bad_merge), "merges_bad.txt line 2");
  // Well-formed files whose vocabulary cannot encode text (no byte symbols).
  EXPECT_ERROR_CONTAINS(Tokenizer::from_files(small_json, merges_ok), "byte symbol");
  EXPECT_ERROR_CONTAINS(Tokenizer::from_files(dir / "missing.json", merges_ok), "missing.json");
  EXPECT_ERROR_CONTAINS(Tokenizer::from_hf_dir(dir / "nowhere"), "no vocab.json");

  const std::string plain = write_text(dir / "plain.txt.gz", "#version: 0.2\na b\n");
  EXPECT_ERROR_CONTAINS(Tokenizer::from_bpe_gz(plain), "plain.txt.gz is not a gzip file");
  write_gz(dir / "short.txt.gz", "\"bpe_simple_vocab_16e6.txt#version: 0.2\ni n\nt h\n");
  EXPECT_ERROR_CONTAINS(Tokenizer::from_bpe_gz(dir / "short.txt.gz"), "short.txt.gz is not CLIP's BPE merges file");
  write_gz(dir / "noheader.txt.gz", "i n\nt h\n");
  EXPECT_ERROR_CONTAINS(Tokenizer::from_bpe_gz(dir / "noheader.txt.gz"), "#version");
  // A gzip stream cut short.
  {
    std::ifstream in(vocab_gz(), std::ios::binary);
    if (in) {
      std::string bytes((std::istreambuf_iterator<char>(in)), {});
      write_text(dir / "cut.txt.gz", bytes.substr(0, bytes.size() / 2));
      EXPECT_ERROR_CONTAINS(Tokenizer::from_bpe_gz(dir / "cut.txt.gz"), "cut.txt.gz");
    }
  }
  EXPECT_ERROR_CONTAINS(Tokenizer::from_path(merges_ok), "unknown vocabulary format");
  EXPECT_ERROR_CONTAINS(Tokenizer::from_path(dir / "absent.gz"), "does not exist");
}

}  // namespace
}  // namespace clipt::clip
