#include "models/clip/pre_tokenize.h"

#include "models/clip/unicode_text.h"

namespace clipt::clip {
namespace {

constexpr std::u32string_view kStartText = U"<|startoftext|>";
constexpr std::u32string_view kEndText = U"<|endoftext|>";

// The pattern is compiled with IGNORECASE; the text is already lowercase, so the only case-folding left
// to honour in the literals is 's' ~ 'ſ' (U+017F), whose simple case fold is 's'.
bool literal_at(std::u32string_view text, size_t pos, std::u32string_view literal) {
  if (text.size() - pos < literal.size()) return false;
  for (size_t k = 0; k < literal.size(); ++k) {
    const char32_t c = text[pos + k];
    if (c != literal[k] && !(literal[k] == U's' && c == 0x17F)) return false;
  }
  return true;
}

enum class CharClass { kLetter, kNumber, kSpace, kOther, kUnmatched };

CharClass classify(char32_t c) {
  if (is_letter(c)) return CharClass::kLetter;
  if (is_number(c)) return CharClass::kNumber;
  if (is_regex_space(c)) return CharClass::kSpace;
  // U+0345 (combining ypogegrammeni) case-folds to a letter, so under IGNORECASE it is not matched by
  // [^\s\p{L}\p{N}] either, and findall skips it like whitespace.
  if (c == 0x345) return CharClass::kUnmatched;
  return CharClass::kOther;
}

}  // namespace

std::vector<std::u32string_view> pre_tokenize(std::u32string_view text) {
  static constexpr std::u32string_view kContractions[] = {U"'s", U"'t", U"'re", U"'ve", U"'m", U"'ll", U"'d"};
  std::vector<std::u32string_view> pieces;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t len = 0;
    if (literal_at(text, pos, kStartText)) {
      len = kStartText.size();
    } else if (literal_at(text, pos, kEndText)) {
      len = kEndText.size();
    } else {
      for (std::u32string_view c : kContractions)
        if (literal_at(text, pos, c)) {
          len = c.size();
          break;
        }
    }
    if (len == 0) {
      const CharClass cls = classify(text[pos]);
      if (cls == CharClass::kLetter || cls == CharClass::kOther) {  // [\p{L}]+ and [^\s\p{L}\p{N}]+: runs
        while (pos + len < text.size() && classify(text[pos + len]) == cls) ++len;
      } else if (cls == CharClass::kNumber) {  // [\p{N}]: one digit at a time
        len = 1;
      } else {
        ++pos;  // whitespace (and U+0345): skipped, as re.findall skips what no branch matches
        continue;
      }
    }
    pieces.push_back(text.substr(pos, len));
    pos += len;
  }
  return pieces;
}

}  // namespace clipt::clip
