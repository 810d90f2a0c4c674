#include "models/clip/unicode_text.h"

#include <algorithm>

#include "engine/core/error.h"
#include "models/clip/unicode_tables.h"

namespace clipt::clip {
namespace {

using tables::CodeRange;

bool in_ranges(const CodeRange* ranges, size_t n, char32_t cp) {
  const CodeRange* end = ranges + n;
  const CodeRange* it = std::upper_bound(ranges, end, cp, [](char32_t c, const CodeRange& r) { return c < r.first; });
  return it != ranges && cp <= (it - 1)->last;
}

// Length of a well-formed UTF-8 sequence starting at s[i] (Unicode Table 3-7), or the length of its
// maximal ill-formed subpart negated (>= 1 byte) when it is not well formed.
int utf8_sequence(std::string_view s, size_t i, char32_t& cp) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = byte(i);
  if (b0 < 0x80) {
    cp = b0;
    return 1;
  }
  int need;
  unsigned char lo = 0x80, hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 1;
    cp = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 2;
    cp = b0 & 0x0F;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 3;
    cp = b0 & 0x07;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return -1;
  }
  for (int k = 1; k <= need; ++k) {
    if (i + k >= s.size()) return -k;
    const unsigned char b = byte(i + k);
    if (b < lo || b > hi) return -k;
    cp = (cp << 6) | (b & 0x3F);
    lo = 0x80;
    hi = 0xBF;
  }
  return need + 1;
}

int combining_class(char32_t cp) {
  if (cp < 0x300) return 0;
  const auto* begin = tables::kCombining;
  const auto* end = begin + tables::kCombining_size;
  const auto* it = std::upper_bound(begin, end, cp, [](char32_t c, const auto& r) { return c < r.first; });
  return (it != begin && cp <= (it - 1)->last) ? (it - 1)->ccc : 0;
}

// Hangul syllables decompose and compose algorithmically (Unicode 3.12).
constexpr char32_t kSBase = 0xAC00, kLBase = 0x1100, kVBase = 0x1161, kTBase = 0x11A7;
constexpr char32_t kLCount = 19, kVCount = 21, kTCount = 28, kNCount = kVCount * kTCount, kSCount = kLCount * kNCount;

void decompose_into(char32_t cp, std::u32string& out) {
  if (cp >= kSBase && cp < kSBase + kSCount) {
    const char32_t s = cp - kSBase;
    out += kLBase + s / kNCount;
    out += kVBase + (s % kNCount) / kTCount;
    if (s % kTCount) out += kTBase + s % kTCount;
    return;
  }
  if (cp >= 0xC0) {
    const auto* begin = tables::kDecompositions;
    const auto* end = begin + tables::kDecompositions_size;
    const auto* it = std::lower_bound(begin, end, cp, [](const auto& d, char32_t c) { return d.cp < c; });
    if (it != end && it->cp == cp) {
      decompose_into(it->first, out);
      if (it->second) decompose_into(it->second, out);
      return;
    }
  }
  out += cp;
}

// The primary composite of (first, second), or 0.
char32_t compose_pair(char32_t first, char32_t second) {
  if (first >= kLBase && first < kLBase + kLCount && second >= kVBase && second < kVBase + kVCount)
    return kSBase + ((first - kLBase) * kVCount + (second - kVBase)) * kTCount;
  if (first >= kSBase && first < kSBase + kSCount && (first - kSBase) % kTCount == 0 && second > kTBase &&
      second < kTBase + kTCount)
    return first + (second - kTBase);
  const auto* begin = tables::kCompositions;
  const auto* end = begin + tables::kCompositions_size;
  const auto* it = std::lower_bound(begin, end, std::pair{first, second}, [](const auto& c, const auto& key) {
    return c.first != key.first ? c.first < key.first : c.second < key.second;
  });
  return (it != end && it->first == first && it->second == second) ? it->composite : 0;
}

char32_t simple_lower(char32_t cp) {
  if (cp < 0x80) return (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
  const auto* begin = tables::kLower;
  const auto* end = begin + tables::kLower_size;
  const auto* it = std::upper_bound(begin, end, cp, [](char32_t c, const auto& r) { return c < r.first; });
  if (it == begin) return cp;
  --it;
  if (cp > it->last || (cp - it->first) % it->step != 0) return cp;
  return char32_t(int64_t(cp) + it->delta);
}

bool is_cased(char32_t cp) { return in_ranges(tables::kCased, tables::kCased_size, cp); }
bool is_case_ignorable(char32_t cp) { return in_ranges(tables::kCaseIgnorable, tables::kCaseIgnorable_size, cp); }

// CPython's handle_capital_sigma: Σ is final when preceded by a cased letter and not followed by one,
// skipping case-ignorable characters on both sides.
bool is_final_sigma(std::u32string_view text, size_t i) {
  size_t j = i;
  while (j > 0 && is_case_ignorable(text[j - 1])) --j;
  if (j == 0 || !is_cased(text[j - 1])) return false;
  size_t k = i + 1;
  while (k < text.size() && is_case_ignorable(text[k])) ++k;
  return k == text.size() || !is_cased(text[k]);
}

}  // namespace

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xC0 | (cp >> 6));
    out += char(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += char(0xE0 | (cp >> 12));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  } else {
    out += char(0xF0 | (cp >> 18));
    out += char(0x80 | ((cp >> 12) & 0x3F));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  }
}

std::u32string utf8_to_u32(std::string_view utf8, std::string_view what) {
  std::u32string out;
  out.reserve(utf8.size());
  for (size_t i = 0; i < utf8.size();) {
    char32_t cp;
    const int n = utf8_sequence(utf8, i, cp);
    if (n < 0) fail("{} is not valid UTF-8: bad byte 0x{:02X} at offset {}", what, uint8_t(utf8[i]), i);
    out += cp;
    i += size_t(n);
  }
  return out;
}

std::u32string utf8_to_u32_replace(std::string_view utf8) {
  std::u32string out;
  out.reserve(utf8.size());
  for (size_t i = 0; i < utf8.size();) {
    char32_t cp;
    const int n = utf8_sequence(utf8, i, cp);
    if (n < 0) {
      out += U'\uFFFD';
      i += size_t(-n);
    } else {
      out += cp;
      i += size_t(n);
    }
  }
  return out;
}

std::string u32_to_utf8(std::u32string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char32_t cp : text) append_utf8(out, cp);
  return out;
}

bool is_letter(char32_t cp) {
  if (cp < 0x80) return (cp | 0x20) >= 'a' && (cp | 0x20) <= 'z';
  return in_ranges(tables::kLetters, tables::kLetters_size, cp);
}
bool is_number(char32_t cp) {
  if (cp < 0x80) return cp >= '0' && cp <= '9';
  return in_ranges(tables::kNumbers, tables::kNumbers_size, cp);
}
bool is_regex_space(char32_t cp) { return in_ranges(tables::kRegexSpaces, tables::kRegexSpaces_size, cp); }
bool is_python_space(char32_t cp) { return in_ranges(tables::kPythonSpaces, tables::kPythonSpaces_size, cp); }

std::u32string python_lower(std::u32string_view text) {
  std::u32string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char32_t cp = text[i];
    if (cp == 0x130) {  // the one multi-code-point lowercase mapping: İ -> i + combining dot above
      out += U'i';
      out += U'\u0307';
    } else if (cp == 0x3A3) {
      out += is_final_sigma(text, i) ? U'\u03C2' : U'\u03C3';
    } else {
      out += simple_lower(cp);
    }
  }
  return out;
}

std::u32string nfc(std::u32string_view text) {
  // Fast path: nothing at or above U+0300 (where the first combining marks live) is already NFC.
  if (std::all_of(text.begin(), text.end(), [](char32_t c) { return c < 0x300; })) return std::u32string(text);

  std::u32string d;
  d.reserve(text.size() + 8);
  for (char32_t cp : text) decompose_into(cp, d);
  // Canonical ordering: stable sort each run of non-starters by combining class.
  for (size_t i = 0; i < d.size();) {
    if (combining_class(d[i]) == 0) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < d.size() && combining_class(d[j]) != 0) ++j;
    std::stable_sort(d.begin() + long(i), d.begin() + long(j),
                     [](char32_t a, char32_t b) { return combining_class(a) < combining_class(b); });
    i = j;
  }
  // Canonical composition (UAX #15): a character joins the last starter unless blocked.
  if (d.empty()) return d;
  size_t starter = 0, out = 1;
  bool have_starter = combining_class(d[0]) == 0;
  int last_class = have_starter ? 0 : 256;
  for (size_t i = 1; i < d.size(); ++i) {
    const char32_t cp = d[i];
    const int cls = combining_class(cp);
    const char32_t composite = have_starter ? compose_pair(d[starter], cp) : 0;
    if (composite && (last_class < cls || last_class == 0)) {
      d[starter] = composite;
      continue;
    }
    if (cls == 0) {
      starter = out;
      have_starter = true;
    }
    last_class = cls;
    d[out++] = cp;
  }
  d.resize(out);
  return d;
}

}  // namespace clipt::clip
