// SPDX-License-Identifier: GPL-2.0-or-later
#include "core/escape.hpp"

#include <gtest/gtest.h>

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
  EXPECT_EQ(escape_text("\xc3"), "\\xc3");              // truncated sequence
  EXPECT_EQ(escape_text("\xe2\x80\xae" "evil"), "\\u{202e}evil");  // RTL override
  EXPECT_EQ(escape_text("\xc2\x9b" "31m"), "\\u{9b}31m");  // C1 CSI
  EXPECT_EQ(escape_text("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // surrogate
}

TEST(Escape, MarkdownAlsoEscapesTableAndEmphasis) {
  EXPECT_EQ(escape_markdown("a|b `c` *d* _e_ <f>"), "a\\|b \\`c\\` \\*d\\* \\_e\\_ \\<f\\>");
}

}  // namespace
}  // namespace vmtune::core
