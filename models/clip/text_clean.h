// Text clean-up in front of CLIP's BPE, as OpenAI's simple_tokenizer.py does it:
//
//   text = whitespace_clean(basic_clean(text)).lower()
//   basic_clean(t)      = html.unescape(html.unescape(ftfy.fix_text(t))).strip()
//   whitespace_clean(t) = re.sub(r'\s+', ' ', t).strip()
//
// ftfy.fix_text is reproduced except for its mojibake detection (fix_encoding), a heuristic model of
// mis-decoded text that cannot be replicated faithfully: text that ftfy would "repair" from mojibake
// (e.g. "Ã©" meant as "é") is left as it is here. Every other ftfy step of its default configuration is
// reproduced: HTML entities (with ftfy's "auto" rule: off once a line contains '<'), C1 controls read as
// Windows-1252, Latin ligatures, fullwidth/halfwidth forms, curly quotes, line breaks, terminal escapes
// (ASCII digits only), control characters, NFC — repeated until nothing changes, line by line as ftfy
// does. Ordinary text (no mojibake) therefore comes out exactly as the reference produces it.
#pragma once
#include <string>
#include <string_view>

namespace clipt::clip {

// Python's html.unescape (HTML5 named and numeric character references, with its legacy rules).
std::u32string html_unescape(std::u32string_view text);
// ftfy.fix_text with its default configuration, minus mojibake repair (see above).
std::u32string ftfy_fix_text(std::u32string_view text);
// The full pipeline above; the result is what CLIP's pre-tokenising pattern runs on.
std::u32string clip_clean_text(std::u32string_view text);

}  // namespace clipt::clip
