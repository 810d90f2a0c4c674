#include "models/clip/bpe_vocab.h"

#include <unistd.h>
#include <zlib.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "engine/core/error.h"
#include "engine/io/atomic_file.h"
#include "models/clip/unicode_text.h"

namespace clipt::clip {
namespace {

namespace fs = std::filesystem;

constexpr const char* kStartToken = "<|startoftext|>";
constexpr const char* kEndToken = "<|endoftext|>";
constexpr const char* kWordEnd = "</w>";
// OpenAI's SimpleTokenizer keeps merges[1 : 49152 - 256 - 2 + 1] of the file: 48,894 merges, so that
// 256 + 256 + 48,894 + 2 = 49,408 tokens.
constexpr size_t kOpenAiMerges = 49152 - 256 - 2;

std::string read_file(const fs::path& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  CLIPT_CHECK(in.good(), "cannot open {} {}", what, path.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  CLIPT_CHECK(!in.bad(), "cannot read {} {}", what, path.string());
  return ss.str();
}

std::string gunzip(const std::string& bytes, const fs::path& path) {
  CLIPT_CHECK(bytes.size() >= 2 && uint8_t(bytes[0]) == 0x1F && uint8_t(bytes[1]) == 0x8B,
              "{} is not a gzip file (expected CLIP's bpe_simple_vocab_16e6.txt.gz)", path.string());
  z_stream zs{};
  CLIPT_CHECK(inflateInit2(&zs, 16 + MAX_WBITS) == Z_OK, "zlib: cannot initialise inflate for {}", path.string());
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  zs.avail_in = uInt(bytes.size());
  std::string out;
  char buffer[1 << 16];
  int rc;
  do {
    zs.next_out = reinterpret_cast<Bytef*>(buffer);
    zs.avail_out = sizeof(buffer);
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      const std::string msg = zs.msg ? zs.msg : "unknown error";
      inflateEnd(&zs);
      fail("{}: corrupt or truncated gzip data ({})", path.string(), msg);
    }
    out.append(buffer, sizeof(buffer) - zs.avail_out);
  } while (rc != Z_STREAM_END);
  inflateEnd(&zs);
  return out;
}

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t pos = 0;
  while (pos <= text.size()) {
    const size_t nl = text.find('\n', pos);
    const size_t end = nl == std::string_view::npos ? text.size() : nl;
    lines.push_back(text.substr(pos, end - pos));
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }
  return lines;
}

// "left right": exactly two non-empty symbols separated by one space.
std::pair<std::string, std::string> parse_merge(std::string_view line, const fs::path& path, size_t line_no) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  const size_t space = line.find(' ');
  CLIPT_CHECK(space != std::string_view::npos && space > 0 && space + 1 < line.size() &&
                  line.find(' ', space + 1) == std::string_view::npos,
              "{} line {}: expected a BPE merge \"left right\", got \"{}\"", path.string(), line_no, line);
  utf8_to_u32(line, fmt::format("{} line {}", path.string(), line_no));
  return {std::string(line.substr(0, space)), std::string(line.substr(space + 1))};
}

// Python's json.dumps string escaping with ensure_ascii=False: only '"', '\\' and control characters.
void append_json_string(std::string& out, const std::string& s) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20)
          out += fmt::format("\\u{:04x}", c);
        else
          out += char(c);
    }
  }
  out += '"';
}

}  // namespace

const std::array<std::string, 256>& bytes_to_unicode() {
  static const std::array<std::string, 256> table = [] {
    std::array<std::string, 256> t;
    int next = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      std::string s;
      append_utf8(s, printable ? char32_t(b) : char32_t(next++));
      t[size_t(b)] = s;
    }
    return t;
  }();
  return table;
}

const std::array<uint8_t, 256>& openai_byte_order() {
  static const std::array<uint8_t, 256> order = [] {
    std::array<uint8_t, 256> o{};
    size_t n = 0;
    for (int pass = 0; pass < 2; ++pass)
      for (int b = 0; b < 256; ++b) {
        const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        if (printable == (pass == 0)) o[n++] = uint8_t(b);
      }
    return o;
  }();
  return order;
}

void validate_vocabulary(const BpeVocabulary& vocab, const std::string& source) {
  std::unordered_set<std::string_view> known(vocab.tokens.begin(), vocab.tokens.end());
  CLIPT_CHECK(known.size() == vocab.tokens.size(), "{}: the vocabulary has duplicate tokens", source);
  for (const std::string& sym : bytes_to_unicode()) {
    CLIPT_CHECK(known.count(sym) && known.count(sym + kWordEnd), "{}: byte symbol \"{}\" (or \"{}{}\") missing", source,
                sym, sym, kWordEnd);
  }
  for (size_t r = 0; r < vocab.merges.size(); ++r) {
    const auto& [a, b] = vocab.merges[r];
    CLIPT_CHECK(known.count(a + b), "{}: merge {} (\"{} {}\") produces \"{}\", which is not in the vocabulary", source,
                r, a, b, a + b);
  }
  CLIPT_CHECK(known.count(kStartToken) && known.count(kEndToken), "{}: the vocabulary lacks {} or {}", source,
              kStartToken, kEndToken);
}

BpeVocabulary load_openai_bpe_gz(const fs::path& path) {
  const std::string text = gunzip(read_file(path, "BPE vocabulary"), path);
  const std::vector<std::string_view> lines = split_lines(text);
  CLIPT_CHECK(!lines.empty() && lines[0].find("#version") != std::string_view::npos,
              "{} is not CLIP's BPE merges file: the first line should be a \"#version\" header", path.string());
  CLIPT_CHECK(lines.size() > kOpenAiMerges, "{} is not CLIP's BPE merges file: {} merges, need at least {}",
              path.string(), lines.size() - 1, kOpenAiMerges);
  BpeVocabulary vocab;
  vocab.merges.reserve(kOpenAiMerges);
  for (size_t i = 1; i <= kOpenAiMerges; ++i) vocab.merges.push_back(parse_merge(lines[i], path, i + 1));
  vocab.tokens.reserve(2 * 256 + kOpenAiMerges + 2);
  const auto& symbols = bytes_to_unicode();
  for (uint8_t b : openai_byte_order()) vocab.tokens.push_back(symbols[b]);
  for (uint8_t b : openai_byte_order()) vocab.tokens.push_back(symbols[b] + kWordEnd);
  for (const auto& [a, b] : vocab.merges) vocab.tokens.push_back(a + b);
  vocab.tokens.push_back(kStartToken);
  vocab.tokens.push_back(kEndToken);
  validate_vocabulary(vocab, path.string());
  return vocab;
}

BpeVocabulary load_hf_vocab(const fs::path& vocab_json, const fs::path& merges_txt) {
  BpeVocabulary vocab;
  {
    const std::string text = read_file(vocab_json, "vocabulary");
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) { fail("{} is not valid JSON: {}", vocab_json.string(), e.what()); }
    CLIPT_CHECK(j.is_object() && !j.empty(), "{}: expected a JSON object mapping tokens to ids", vocab_json.string());
    vocab.tokens.resize(j.size());
    std::vector<bool> seen(j.size(), false);
    for (const auto& [token, id] : j.items()) {
      CLIPT_CHECK(id.is_number_integer(), "{}: id of token \"{}\" is not an integer", vocab_json.string(), token);
      const int64_t i = id.get<int64_t>();
      CLIPT_CHECK(i >= 0 && i < int64_t(j.size()) && !seen[size_t(i)],
                  "{}: token \"{}\" has id {}; ids must be 0..{} without repeats", vocab_json.string(), token, i,
                  j.size() - 1);
      seen[size_t(i)] = true;
      vocab.tokens[size_t(i)] = token;
    }
  }
  {
    const std::string text = read_file(merges_txt, "BPE merges");
    const std::vector<std::string_view> lines = split_lines(text);
    CLIPT_CHECK(!lines.empty() && lines[0].starts_with("#version"),
                "{} is not a BPE merges file: the first line should be \"#version: 0.2\"", merges_txt.string());
    for (size_t i = 1; i < lines.size(); ++i) {
      if (lines[i].empty() || lines[i] == "\r") continue;
      vocab.merges.push_back(parse_merge(lines[i], merges_txt, i + 1));
    }
  }
  validate_vocabulary(vocab, vocab_json.string() + " + " + merges_txt.string());
  return vocab;
}

void write_hf_vocab(const BpeVocabulary& vocab, const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  CLIPT_CHECK(fs::is_directory(dir), "cannot create directory {}", dir.string());
  // sort_keys=True sorts by code point, which is the byte order of UTF-8.
  std::map<std::string_view, size_t> sorted;
  for (size_t i = 0; i < vocab.tokens.size(); ++i) sorted.emplace(vocab.tokens[i], i);
  std::string json = "{\n";
  size_t n = 0;
  for (const auto& [token, id] : sorted) {
    json += "  ";
    append_json_string(json, std::string(token));
    json += ": " + std::to_string(id);
    json += ++n < sorted.size() ? ",\n" : "\n";
  }
  json += "}\n";
  std::string merges = "#version: 0.2\n";
  for (const auto& [a, b] : vocab.merges) merges += a + " " + b + "\n";
  io::write_file_atomic(dir / "vocab.json", json);
  io::write_file_atomic(dir / "merges.txt", merges);
}

}  // namespace clipt::clip
