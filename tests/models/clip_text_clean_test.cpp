// Unicode helpers and text clean-up of the CLIP tokenizer, on hand-worked examples (the golden parity of
// the whole pipeline is in tokenizer_test.cpp).
#include "models/clip/text_clean.h"
#include "models/clip/unicode_text.h"
#include "tests/common/test_util.h"

namespace clipt::clip {
namespace {

std::string lower(const std::string& s) { return u32_to_utf8(python_lower(utf8_to_u32(s))); }
std::string nfc8(const std::string& s) { return u32_to_utf8(nfc(utf8_to_u32(s))); }
std::string unescape(const std::string& s) { return u32_to_utf8(html_unescape(utf8_to_u32(s))); }
std::string ftfy(const std::string& s) { return u32_to_utf8(ftfy_fix_text(utf8_to_u32(s))); }
std::string clean(const std::string& s) { return u32_to_utf8(clip_clean_text(utf8_to_u32(s))); }

TEST(ClipUnicode, Utf8RoundTripAndErrors) {
  const std::string s = "aé中😀";
  const std::u32string u = utf8_to_u32(s);
  EXPECT_EQ(u, (std::u32string{U'a', 0xE9, 0x4E2D, 0x1F600}));
  EXPECT_EQ(u32_to_utf8(u), s);
  EXPECT_ERROR_CONTAINS(utf8_to_u32("ok\xC0\xAF", "caption"), "caption is not valid UTF-8: bad byte 0xC0 at offset 2");
  EXPECT_ERROR_CONTAINS(utf8_to_u32("\xF4\x90\x80\x80"), "offset 0");  // > U+10FFFF
  EXPECT_ERROR_CONTAINS(utf8_to_u32("\xE2\x82"), "offset 0");          // truncated
  // Replacement like Python's errors="replace": one U+FFFD per maximal ill-formed subpart.
  EXPECT_EQ(utf8_to_u32_replace("a\xE2\x82"
                                "b"),
            (std::u32string{U'a', 0xFFFD, U'b'}));
  EXPECT_EQ(utf8_to_u32_replace("\xED\xA0\x80"), (std::u32string{0xFFFD, 0xFFFD, 0xFFFD}));
  EXPECT_EQ(utf8_to_u32_replace("\xFF"
                                "a"),
            (std::u32string{0xFFFD, U'a'}));
}

TEST(ClipUnicode, LettersNumbersSpaces) {
  for (char32_t c :
       {U'a', U'Z', char32_t(0xE9), char32_t(0xDF), char32_t(0x3A9), char32_t(0x436), char32_t(0x5E9), char32_t(0x627),
        char32_t(0x928), char32_t(0x4E2D), char32_t(0x30AB), char32_t(0xAC00), char32_t(0x2C6)})
    EXPECT_TRUE(is_letter(c)) << std::hex << uint32_t(c);
  for (char32_t c : {U'1', U'_', U' ', U'\'', char32_t(0x94D) /* virama, Mn */, char32_t(0x301), char32_t(0x1F600)})
    EXPECT_FALSE(is_letter(c)) << std::hex << uint32_t(c);
  for (char32_t c : {U'0', U'9', char32_t(0x663) /* ٣ */, char32_t(0xBD) /* ½ */, char32_t(0x2460) /* ① */,
                     char32_t(0x216B) /* Ⅻ */, char32_t(0xB2) /* ² */})
    EXPECT_TRUE(is_number(c)) << std::hex << uint32_t(c);
  EXPECT_FALSE(is_number(U'x'));
  EXPECT_TRUE(is_regex_space(U'\t') && is_regex_space(0xA0) && is_regex_space(0x3000) && is_regex_space(0x2028));
  EXPECT_FALSE(is_regex_space(0x1C) || is_regex_space(0x200B));
  EXPECT_TRUE(is_python_space(0x1C));  // str.isspace() also takes the information separators
}

TEST(ClipUnicode, PythonLower) {
  EXPECT_EQ(lower("HELLO World"), "hello world");
  EXPECT_EQ(lower("É Ä Ö Ü Ç Ñ Å Æ Ø Þ"), "é ä ö ü ç ñ å æ ø þ");
  EXPECT_EQ(lower("ΑΘΉΝΑ МОСКВА ЁЛКА ЇЖАК"), "αθήνα москва ёлка їжак");
  EXPECT_EQ(lower("ĀĂĄĆ ŁŃŒŠŸŽ ǅ"), "āăąć łńœšÿž ǆ");
  EXPECT_EQ(lower("Ա Ⴀ Ꭰ Ⅻ Ａ 𐐀"), "ա ⴀ ꭰ ⅻ ａ 𐐨");
  EXPECT_EQ(lower("ẞ"), "ß");
  EXPECT_EQ(lower("İ"), "i\xCC\x87");  // i + U+0307
  // Final sigma: after a cased letter and not before one (case-ignorable characters are skipped).
  EXPECT_EQ(lower("ΟΔΥΣΣΕΥΣ"), "οδυσσευς");
  EXPECT_EQ(lower("Σ"), "σ");
  EXPECT_EQ(lower("ΑΣ. ΑΣ1 ΑΣΑ"), "ας. ας1 ασα");
  EXPECT_EQ(lower("ΑΣ'Α"), "ασ'α");  // the apostrophe is case-ignorable: a letter still follows
  EXPECT_EQ(lower("1Σ"), "1σ");
  // U+0345 is cased and case-ignorable at once: skipped when looking for the letters around Σ.
  EXPECT_EQ(lower("\xCD\x85Σ"), "\xCD\x85σ");
  EXPECT_EQ(lower("Α\xCD\x85Σ"), "α\xCD\x85ς");
}

TEST(ClipUnicode, Nfc) {
  EXPECT_EQ(nfc8("cafe\xCC\x81"), "café");
  EXPECT_EQ(nfc8("A\xCC\x8A"), "Å");
  EXPECT_EQ(nfc8("\xE2\x84\xAB"), "Å");                           // U+212B ANGSTROM SIGN: singleton decomposition
  EXPECT_EQ(nfc8("\xE1\x84\x80\xE1\x85\xA1"), "가");              // Hangul L + V
  EXPECT_EQ(nfc8("\xE1\x84\x80\xE1\x85\xA1\xE1\x86\xA8"), "각");  // L + V + T
  // Canonical ordering: U+0302 (class 230) after U+0323 (class 220), then both compose.
  EXPECT_EQ(nfc8("e\xCC\x82\xCC\xA3"), "\xE1\xBB\x87");  // ệ U+1EC7
  EXPECT_EQ(nfc8("a\xCC\x81\xCC\x81"), "á\xCC\x81");     // the second acute is blocked
  EXPECT_EQ(nfc8("\xCC\x81"
                 "a"),
            "\xCC\x81"
            "a");  // a leading combining mark stays
  EXPECT_EQ(nfc8("plain ascii é"), "plain ascii é");
}

TEST(ClipTextClean, HtmlUnescapeLikePython) {
  EXPECT_EQ(unescape("&amp; &lt;&gt; &quot;"), "& <> \"");
  EXPECT_EQ(unescape("&amp &ampfoo &notit; &copy2"), "& &foo ¬it; ©2");  // legacy names without ';'
  EXPECT_EQ(unescape("&#65;&#x42;&#X43;&#68"), "ABCD");
  EXPECT_EQ(unescape("&#0;|&#128;|&#150;|&#xD800;|&#99999999;|&#1;|&#13;"),
            "\xEF\xBF\xBD|€|–|\xEF\xBF\xBD|\xEF\xBF\xBD||\r");
  EXPECT_EQ(unescape("&unknown; &; &#; &#x; & amp; &"), "&unknown; &; &#; &#x; & amp; &");
  EXPECT_EQ(unescape("&NotNestedGreaterGreater;"), "\xE2\xAA\xA2\xCC\xB8");  // a two-code-point entity
}

TEST(ClipTextClean, FtfyWithoutMojibakeRepair) {
  EXPECT_EQ(ftfy("ﬁne ﬂour ĳ"), "fine flour ij");
  EXPECT_EQ(ftfy("ＬＯＵＤ　ＮＯＩＳＥＳ"), "LOUD NOISES");
  EXPECT_EQ(ftfy("ｶﾞ"), "ガ");  // widened, then NFC composes the voiced mark
  EXPECT_EQ(ftfy("it’s “x” ‘y’"), "it's \"x\" 'y'");
  EXPECT_EQ(ftfy("&amp;amp;amp; &EACUTE;"), "& É");   // repeated until stable; ftfy's upper-case entities
  EXPECT_EQ(ftfy("a < b &amp; c"), "a < b &amp; c");  // "auto": a line with '<' keeps its entities...
  EXPECT_EQ(ftfy("x &amp; y\n<p>\nz &amp; w"), "x & y\n<p>\nz &amp; w");  // ...and so do all later lines
  EXPECT_EQ(ftfy("\x1b[31mred\x1b[0m"), "red");
  EXPECT_EQ(ftfy("c1\xC2\x85 \xC2\x81"), "c1… \xC2\x81");  // C1 as Windows-1252; 0x81 is undefined there
  EXPECT_EQ(ftfy("a\r\nb\rc\xE2\x80\xA8"
                 "d"),
            "a\nb\nc\nd");
  EXPECT_EQ(ftfy("\xEF\xBB\xBF"
                 "bom\x07\x7f"),
            "bom");
  EXPECT_EQ(ftfy("cafe\xCC\x81"), "café");
}

TEST(ClipTextClean, FullPipeline) {
  EXPECT_EQ(clean("  Hello\t\tWORLD \n\n "), "hello world");
  EXPECT_EQ(clean("A&amp;amp;B"), "a&b");
  EXPECT_EQ(clean("x\xE3\x80\x80y\xC2\xA0z"), "x y z");
  EXPECT_EQ(clean(""), "");
}

}  // namespace
}  // namespace clipt::clip
