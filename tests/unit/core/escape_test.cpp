// SPDX-License-Identifier: GPL-2.0-or-later
#include "core/escape.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "utf8_check.hpp"

namespace vmtune::core {
namespace {

TEST(Escape, KeepsPlainTextAndUtf8) {
  EXPECT_EQ(escape_text("postgres: checkpointer"), "postgres: checkpointer");
  EXPECT_EQ(escape_text("café ñ 日本"), "café ñ 日本");
}

TEST(Escape, NeutralisesTerminalControl) {
  // An ESC sequence that would clear the screen and set the title.
  EXPECT_EQ(escape_text("a\x1b[2Jb\x1b]0;pwned\x07"), "a\\x1b[2Jb\\x1b]0;pwned\\x07");
  EXPECT_EQ(escape_text("line1\nline2\r\t"), "line1\\x0aline2\\x0d\\x09");
  EXPECT_EQ(escape_text(std::string("nul\0x", 5)), "nul\\x00x");
  EXPECT_EQ(escape_text("\x7f"), "\\x7f");
  EXPECT_EQ(escape_text("back\\slash"), "back\\\\slash");
}

TEST(Escape, InvalidUtf8AndDangerousCodepoints) {
  EXPECT_EQ(escape_text("\xff\xfe"), "\\xff\\xfe");
  EXPECT_EQ(escape_text("\xc3"), "\\xc3");  // truncated sequence
  EXPECT_EQ(escape_text("\xe2\x80\xae"
                        "evil"),
            "\\u{202e}evil");  // RTL override
  EXPECT_EQ(escape_text("\xc2\x9b"
                        "31m"),
            "\\u{9b}31m");                                    // C1 CSI
  EXPECT_EQ(escape_text("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // surrogate
}

TEST(Escape, MarkdownAlsoEscapesTableAndEmphasis) {
  EXPECT_EQ(escape_markdown("a|b `c` *d* _e_ <f>"), "a\\|b \\`c\\` \\*d\\* \\_e\\_ \\<f\\>");
  // An entity would bring back what escape_text removed (&#x202e; is a bidi override).
  EXPECT_EQ(escape_markdown("&#x202e;~x~"), "\\&#x202e;\\~x\\~");
  // Backslashes are doubled once more, so the rendered text reads as escape_text's output.
  EXPECT_EQ(escape_markdown("\x1b"), "\\\\x1b");
  EXPECT_EQ(escape_markdown("a\\b"), "a\\\\\\\\b");
}

bool valid_utf8_without_controls(const std::string& str) {
  return test::valid_utf8(str, /*allow_controls=*/false);
}

TEST(Unescape, EveryByteRoundTrips) {
  for (int b = 0; b < 256; ++b) {
    const std::string raw(1, static_cast<char>(b));
    const auto esc = escape_text(raw);
    EXPECT_TRUE(valid_utf8_without_controls(esc)) << b;
    EXPECT_EQ(unescape_text(esc), raw) << b;
  }
}

TEST(Unescape, EveryPairOfBytesRoundTrips) {
  // Pairs cover every two-byte sequence: valid and invalid UTF-8 lead/continuation mixes,
  // a backslash before each byte, and each byte before a backslash.
  std::string raw(2, '\0');
  for (int a = 0; a < 256; ++a) {
    for (int b = 0; b < 256; ++b) {
      raw[0] = static_cast<char>(a);
      raw[1] = static_cast<char>(b);
      const auto esc = escape_text(raw);
      ASSERT_TRUE(valid_utf8_without_controls(esc)) << a << " " << b;
      ASSERT_EQ(unescape_text(esc), raw) << a << " " << b;
    }
  }
}

TEST(Unescape, HostileStringsRoundTrip) {
  const std::string cases[] = {
      std::string("\xff\x1b[31mevil\nname"),
      std::string("a\0b\0", 4),
      "\\x41",        // looks like an escape already: the backslash is doubled
      "\\\\u{202e}",  // two backslashes and a fake code point escape
      "\xe2\x80\xae"
      "evil",  // RTL override: \u{202e}
      "\xf0\x9f\x98\x80 smile",
      "\xf4\x90\x80\x80",                  // above U+10FFFF: four \xNN
      "\xc0\xaf",                          // overlong '/'
      "\xed\xa0\x80",                      // surrogate
      "\xc2\x85\xe2\x80\xa8\xe2\x81\xa6",  // NEL, LINE SEPARATOR, LRI
      "trailing\\",
  };
  for (const auto& raw : cases) {
    const auto esc = escape_text(raw);
    EXPECT_TRUE(valid_utf8_without_controls(esc)) << esc;
    EXPECT_EQ(esc.find('\x1b'), std::string::npos);
    EXPECT_EQ(unescape_text(esc), raw) << esc;
  }
  EXPECT_EQ(escape_text("\\x41"), "\\\\x41");
  EXPECT_EQ(escape_text("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");
}

TEST(Unescape, RandomStringsRoundTrip) {
  std::mt19937 rng(20250808);
  std::uniform_int_distribution<int> len(0, 40);
  // Bias towards the interesting bytes: backslash, 'x', 'u', '{', '}', hex digits, ESC, NUL,
  // UTF-8 leads and continuations.
  const std::string alphabet = std::string("\\xu{}0a9fF\x1b\x00\xc2\xe2\xf0\x80\xbf\xff ", 19);
  std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
  std::uniform_int_distribution<int> any(0, 255);
  for (int n = 0; n < 20000; ++n) {
    std::string raw;
    const int l = len(rng);
    for (int i = 0; i < l; ++i) {
      raw += (i % 3 == 0) ? static_cast<char>(any(rng)) : alphabet[pick(rng)];
    }
    const auto esc = escape_text(raw);
    ASSERT_TRUE(valid_utf8_without_controls(esc));
    ASSERT_EQ(unescape_text(esc), raw);
  }
}

TEST(Unescape, TextEscapeTextCouldNotHaveWrittenIsKept) {
  EXPECT_EQ(unescape_text("C:\\temp\\"), "C:\\temp\\");  // "\\t" is no escape of ours
  EXPECT_EQ(unescape_text("\\"), "\\");
  EXPECT_EQ(unescape_text("\\x4"), "\\x4");
  EXPECT_EQ(unescape_text("\\xzz"), "\\xzz");
  EXPECT_EQ(unescape_text("\\u{110000}"), "\\u{110000}");
  EXPECT_EQ(unescape_text("\\u{d800}"), "\\u{d800}");
  EXPECT_EQ(unescape_text("\\u{}"), "\\u{}");
  EXPECT_EQ(unescape_text("\\u{1234567}"), "\\u{1234567}");
  EXPECT_EQ(unescape_text("\\u{41"), "\\u{41");
  EXPECT_EQ(unescape_text("\\XFF"), "\\XFF");
  EXPECT_EQ(unescape_text("\\xFF"), "\xff");  // upper-case hex digits read too
  EXPECT_EQ(unescape_text("\\u{202E}"), "\xe2\x80\xae");
  EXPECT_EQ(unescape_text("plain"), "plain");
}

TEST(EscapeLines, KeepsLineBreaksOnly) {
  EXPECT_EQ(escape_lines("one\ntwo\x1b\r\n\tthree\xff\n"), "one\ntwo\\x1b\\x0d\n\\x09three\\xff\n");
  EXPECT_EQ(unescape_text(escape_lines("a\n\\b\xff")), "a\n\\b\xff");
  EXPECT_EQ(escape_lines(""), "");
}

}  // namespace
}  // namespace vmtune::core
