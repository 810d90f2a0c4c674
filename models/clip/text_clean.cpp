#include "models/clip/text_clean.h"

#include <algorithm>
#include <cstring>

#include "models/clip/unicode_tables.h"
#include "models/clip/unicode_text.h"

namespace clipt::clip {
namespace {

using tables::NamedEntity;

// Windows-1252 for 0x80..0x9F; the five undefined bytes stay as they are ("sloppy" windows-1252). Both
// ftfy's fix_c1_controls and html.unescape's invalid numeric references use this table.
constexpr char32_t kWindows1252C1[32] = {0x20AC, 0x81,   0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
                                         0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8D,   0x017D, 0x8F,
                                         0x90,   0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
                                         0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D,   0x017E, 0x0178};

const char* find_entity(const NamedEntity* table, size_t n, std::string_view name) {
  const NamedEntity* end = table + n;
  const NamedEntity* it =
      std::lower_bound(table, end, name, [](const NamedEntity& e, std::string_view k) { return e.name < k; });
  return (it != end && it->name == name) ? it->utf8 : nullptr;
}
const char* find_html5(std::string_view name) {
  return find_entity(tables::kHtml5Entities, tables::kHtml5Entities_size, name);
}

bool is_ascii_digit(char32_t c) { return c >= '0' && c <= '9'; }
bool is_ascii_hex(char32_t c) { return is_ascii_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f'); }
bool is_ascii_alnum(char32_t c) { return is_ascii_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z'); }

// html.unescape's numeric reference rules (_replace_charref).
void append_numeric_reference(std::u32string& out, std::u32string_view digits, int base) {
  uint64_t num = 0;
  for (char32_t c : digits) {
    const uint64_t v = is_ascii_digit(c) ? c - '0' : (c | 0x20) - 'a' + 10;
    num = std::min<uint64_t>(num * uint64_t(base) + v, 0x7FFFFFFF);  // saturate: anything > 0x10FFFF is alike
  }
  if (num == 0x00) {
    out += U'\uFFFD';
  } else if (num == 0x0D) {
    out += U'\r';
  } else if (num >= 0x80 && num <= 0x9F) {
    out += kWindows1252C1[num - 0x80];
  } else if ((num >= 0xD800 && num <= 0xDFFF) || num > 0x10FFFF) {
    out += U'\uFFFD';
  } else if ((num >= 0x1 && num <= 0x8) || num == 0xB || (num >= 0xE && num <= 0x1F) || (num >= 0x7F && num <= 0x9F) ||
             (num >= 0xFDD0 && num <= 0xFDEF) || (num & 0xFFFE) == 0xFFFE) {
    // _invalid_codepoints: dropped
  } else {
    out += char32_t(num);
  }
}

void append_utf8_as_u32(std::u32string& out, const char* utf8) { out += utf8_to_u32(utf8, "entity table"); }

// The ASCII prefix of `name` (entity names are ASCII, so nothing past the first non-ASCII can match).
std::string ascii_prefix(std::u32string_view name) {
  std::string s;
  for (char32_t c : name) {
    if (c >= 0x80) break;
    s += char(c);
  }
  return s;
}

// ftfy.fixes.unescape_html: `&#?[0-9A-Za-z]{1,24};` replaced through ftfy's entity table, or through
// html.unescape for numeric references that it decodes completely.
std::u32string ftfy_unescape_html(std::u32string_view text) {
  std::u32string out;
  for (size_t i = 0; i < text.size();) {
    if (text[i] != U'&') {
      out += text[i++];
      continue;
    }
    const bool numeric = i + 1 < text.size() && text[i + 1] == U'#';
    size_t j = i + 1 + (numeric ? 1 : 0);
    size_t k = j;
    while (k < text.size() && k - j <= 24 && is_ascii_alnum(text[k])) ++k;
    if (k == j || k - j > 24 || k >= text.size() || text[k] != U';') {
      out += text[i++];
      continue;
    }
    const std::u32string_view match = text.substr(i, k + 1 - i);
    if (numeric) {
      const std::u32string decoded = html_unescape(match);
      if (decoded.find(U';') != std::u32string::npos)
        out += match;
      else
        out += decoded;
    } else {
      const std::string name = u32_to_utf8(text.substr(j, k + 1 - j));  // ASCII, with the ';'
      const char* value = find_html5(name);
      if (!value) value = find_entity(tables::kFtfyUpperEntities, tables::kFtfyUpperEntities_size, name);
      if (value)
        append_utf8_as_u32(out, value);
      else
        out += match;
    }
    i = k + 1;
  }
  return out;
}

char32_t fix_c1(char32_t c) { return (c >= 0x80 && c <= 0x9F) ? kWindows1252C1[c - 0x80] : c; }

const char32_t* latin_ligature(char32_t c) {
  switch (c) {
    case 0x132: return U"IJ";
    case 0x133: return U"ij";
    case 0x149: return U"\u02BCn";
    case 0x1F1: return U"DZ";
    case 0x1F2: return U"Dz";
    case 0x1F3: return U"dz";
    case 0x1C4: return U"D\u017D";
    case 0x1C5: return U"D\u017E";
    case 0x1C6: return U"d\u017E";
    case 0x1C7: return U"LJ";
    case 0x1C8: return U"Lj";
    case 0x1C9: return U"lj";
    case 0x1CA: return U"NJ";
    case 0x1CB: return U"Nj";
    case 0x1CC: return U"nj";
    case 0xFB00: return U"ff";
    case 0xFB01: return U"fi";
    case 0xFB02: return U"fl";
    case 0xFB03: return U"ffi";
    case 0xFB04: return U"ffl";
    case 0xFB05: return U"\u017Ft";
    case 0xFB06: return U"st";
    default: return nullptr;
  }
}

const char* width_form(char32_t c) {
  if (c != 0x3000 && (c < 0xFF01 || c > 0xFFEF)) return nullptr;
  const auto* begin = tables::kWidthMap;
  const auto* end = begin + tables::kWidthMap_size;
  const auto* it = std::lower_bound(begin, end, c, [](const auto& e, char32_t k) { return e.cp < k; });
  return (it != end && it->cp == c) ? it->utf8 : nullptr;
}

char32_t uncurl_quote(char32_t c) {
  if (c == 0x2BC || (c >= 0x2018 && c <= 0x201B)) return U'\'';
  if (c >= 0x201C && c <= 0x201F) return U'"';
  return c;
}

bool is_removed_control(char32_t c) {
  return c <= 0x08 || c == 0x0B || (c >= 0x0E && c <= 0x1F) || c == 0x7F || (c >= 0x206A && c <= 0x206F) ||
         c == 0xFEFF || (c >= 0xFFF9 && c <= 0xFFFC);
}

// The per-character fixers of ftfy's loop, applied in its order: fix_c1_controls, fix_latin_ligatures,
// fix_character_width, uncurl_quotes. Each runs over the whole text before the next, but since each maps
// characters independently and none produces input for an earlier one, one pass per fixer is enough.
std::u32string map_characters(std::u32string_view text) {
  std::u32string a;
  a.reserve(text.size());
  for (char32_t c : text) {
    c = fix_c1(c);
    if (const char32_t* lig = latin_ligature(c))
      a += lig;
    else
      a += c;
  }
  std::u32string b;
  b.reserve(a.size());
  for (char32_t c : a) {
    if (const char* wide = width_form(c))
      append_utf8_as_u32(b, wide);
    else
      b += c;
  }
  for (char32_t& c : b) c = uncurl_quote(c);
  return b;
}

// fix_line_breaks: \r\n, \r, U+2028, U+2029, U+0085 -> \n.
std::u32string fix_line_breaks(std::u32string_view text) {
  std::u32string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char32_t c = text[i];
    if (c == U'\r' && i + 1 < text.size() && text[i + 1] == U'\n') continue;
    out += (c == U'\r' || c == 0x2028 || c == 0x2029 || c == 0x85) ? U'\n' : c;
  }
  return out;
}

// remove_terminal_escapes: ESC '[' (digit | ';')* letter. (ftfy's \d also takes non-ASCII digits; an
// escape sequence with those is not a thing terminals emit.)
std::u32string remove_terminal_escapes(std::u32string_view text) {
  std::u32string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == 0x1B && i + 1 < text.size() && text[i + 1] == U'[') {
      size_t k = i + 2;
      while (k < text.size() && (is_ascii_digit(text[k]) || text[k] == U';')) ++k;
      if (k < text.size() && ((text[k] | 0x20) >= 'a' && (text[k] | 0x20) <= 'z')) {
        i = k;
        continue;
      }
    }
    out += text[i];
  }
  return out;
}

std::u32string fix_segment(std::u32string text, bool unescape) {
  // ftfy repeats its whole plan until the text stops changing (so "&amp;amp;" unescapes fully).
  for (size_t round = 0; round < text.size() + 16; ++round) {
    const std::u32string before = text;
    if (unescape) text = ftfy_unescape_html(text);
    text = map_characters(text);
    text = fix_line_breaks(text);
    text = remove_terminal_escapes(text);
    std::erase_if(text, is_removed_control);
    text = nfc(text);
    if (text == before) break;
  }
  return text;
}

std::u32string_view python_strip(std::u32string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && is_python_space(s[b])) ++b;
  while (e > b && is_python_space(s[e - 1])) --e;
  return s.substr(b, e - b);
}

}  // namespace

std::u32string html_unescape(std::u32string_view text) {
  if (text.find(U'&') == std::u32string_view::npos) return std::u32string(text);
  std::u32string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    if (text[i] != U'&') {
      out += text[i++];
      continue;
    }
    // &(#[0-9]+;? | #[xX][0-9a-fA-F]+;? | [^\t\n\f <&#;]{1,32};?)
    size_t j = i + 1;
    if (j < text.size() && text[j] == U'#') {
      size_t k = j + 1;
      int base = 10;
      if (k < text.size() && is_ascii_digit(text[k])) {
        while (k < text.size() && is_ascii_digit(text[k])) ++k;
      } else if (k + 1 < text.size() && (text[k] == U'x' || text[k] == U'X') && is_ascii_hex(text[k + 1])) {
        base = 16;
        ++k;
        while (k < text.size() && is_ascii_hex(text[k])) ++k;
      } else {
        out += text[i++];
        continue;
      }
      append_numeric_reference(out, text.substr(j + 1 + (base == 16), k - (j + 1 + (base == 16))), base);
      if (k < text.size() && text[k] == U';') ++k;
      i = k;
      continue;
    }
    size_t k = j;
    const auto name_char = [](char32_t c) {
      return c != U'\t' && c != U'\n' && c != U'\f' && c != U' ' && c != U'<' && c != U'&' && c != U'#' && c != U';';
    };
    while (k < text.size() && k - j < 32 && name_char(text[k])) ++k;
    if (k == j) {
      out += text[i++];
      continue;
    }
    if (k < text.size() && text[k] == U';') ++k;
    const std::u32string_view name = text.substr(j, k - j);
    const std::string ascii = ascii_prefix(name);
    const char* value = ascii.size() == name.size() ? find_html5(ascii) : nullptr;
    if (value) {
      append_utf8_as_u32(out, value);
    } else {
      // The longest known prefix (at least two characters), followed by the rest verbatim.
      bool found = false;
      for (size_t x = std::min(name.size() - 1, ascii.size()); x >= 2 && !found; --x) {
        if (const char* v = find_html5(std::string_view(ascii).substr(0, x))) {
          append_utf8_as_u32(out, v);
          out += name.substr(x);
          found = true;
        }
      }
      if (!found) {
        out += U'&';
        out += name;
      }
    }
    i = k;
  }
  return out;
}

std::u32string ftfy_fix_text(std::u32string_view text) {
  std::u32string out;
  out.reserve(text.size());
  bool unescape = true;  // ftfy's "auto": switched off for good by the first line that contains '<'
  for (size_t pos = 0; pos < text.size();) {
    const size_t newline = text.find(U'\n', pos);
    const size_t end = newline == std::u32string_view::npos ? text.size() : newline + 1;
    const std::u32string_view segment = text.substr(pos, end - pos);
    if (segment.find(U'<') != std::u32string_view::npos) unescape = false;
    out += fix_segment(std::u32string(segment), unescape);
    pos = end;
  }
  return out;
}

std::u32string clip_clean_text(std::u32string_view text) {
  // basic_clean
  const std::u32string fixed = ftfy_fix_text(text);
  const std::u32string unescaped = html_unescape(html_unescape(fixed));
  const std::u32string_view stripped = python_strip(unescaped);
  // whitespace_clean
  std::u32string collapsed;
  collapsed.reserve(stripped.size());
  for (size_t i = 0; i < stripped.size();) {
    if (is_regex_space(stripped[i])) {
      collapsed += U' ';
      while (i < stripped.size() && is_regex_space(stripped[i])) ++i;
    } else {
      collapsed += stripped[i++];
    }
  }
  return python_lower(python_strip(collapsed));
}

}  // namespace clipt::clip
