// Unicode helpers for the CLIP tokenizer: UTF-8 <-> code points, the character classes of the `regex`
// module that CLIP's pre-tokenising pattern uses, Python's str.lower() (with its final-sigma rule) and
// NFC normalisation. Everything is table-driven (unicode_tables.cpp, generated from the libraries the
// reference tokenizer runs on), so results do not depend on the C++ locale.
#pragma once
#include <string>
#include <string_view>

namespace clipt::clip {

// Strict decoding: invalid UTF-8 (bad lead/continuation bytes, overlongs, surrogates, > U+10FFFF,
// truncated sequences) throws clipt::Error naming `what` and the byte offset.
std::u32string utf8_to_u32(std::string_view utf8, std::string_view what = "text");
// Lenient decoding like Python's bytes.decode("utf-8", errors="replace"): each maximal invalid subpart
// becomes one U+FFFD.
std::u32string utf8_to_u32_replace(std::string_view utf8);
std::string u32_to_utf8(std::u32string_view text);
void append_utf8(std::string& out, char32_t cp);

bool is_letter(char32_t cp);        // regex \p{L}
bool is_number(char32_t cp);        // regex \p{N}
bool is_regex_space(char32_t cp);   // regex \s (what whitespace_clean collapses)
bool is_python_space(char32_t cp);  // str.isspace() (what str.strip() removes)

// Python's str.lower(): full lowercase mapping (U+0130 becomes "i̇") and the Final_Sigma context rule.
std::u32string python_lower(std::u32string_view text);
// Unicode Normalization Form C (canonical decomposition, canonical ordering, canonical composition).
std::u32string nfc(std::u32string_view text);

}  // namespace clipt::clip
