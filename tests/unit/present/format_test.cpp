// SPDX-License-Identifier: GPL-2.0-or-later
#include "present/format.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace vmtune::present {
namespace {

TEST(Format, CommandLineEscapesEachArgumentThenJoins) {
  EXPECT_EQ(command_line({}), "");
  EXPECT_EQ(command_line({"sleep", "60"}), "sleep 60");
  EXPECT_EQ(command_line({"\xff\x1b[31mevil\nname", "", "a b"}),
            "\\xff\\x1b[31mevil\\x0aname  a b");
  EXPECT_EQ(command_line({"back\\slash"}), "back\\\\slash");
}

TEST(Format, TruncateCutsAtACharacterBoundary) {
  EXPECT_EQ(truncate_text("abcdef", 10), "abcdef");
  EXPECT_EQ(truncate_text("abcdef", 6), "abcdef");
  EXPECT_EQ(truncate_text("abcdef", 4), "abc…");
  EXPECT_EQ(truncate_text("abcdef", 1), "…");
  EXPECT_EQ(truncate_text("abcdef", 0), "");
  // "日本語です": three bytes per character; a cut never splits one.
  EXPECT_EQ(truncate_text("日本語です", 3), "日本…");
  EXPECT_EQ(truncate_text("aé", 2), "aé");
  EXPECT_EQ(truncate_text("aéb", 2), "a…");
}

}  // namespace
}  // namespace vmtune::present
