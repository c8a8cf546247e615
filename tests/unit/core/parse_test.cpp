// SPDX-License-Identifier: GPL-2.0-or-later
#include "core/parse.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

namespace vmtune::core {
namespace {

TEST(Parse, SplitLinesNumbersFromOneAndToleratesMissingNewline) {
  const auto lines = split_lines("a\nb c\n\nlast");
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0].number, 1);
  EXPECT_EQ(lines[1].text, "b c");
  EXPECT_EQ(lines[2].text, "");
  EXPECT_EQ(lines[3].number, 4);
  EXPECT_EQ(lines[3].text, "last");
  EXPECT_TRUE(split_lines("").empty());
}

TEST(Parse, SplitWhitespaceHandlesTabsAndRuns) {
  const auto parts = split_ws("  Node 0, zone\t  Normal   1 2\r");
  EXPECT_EQ(parts, (std::vector<std::string_view>{"Node", "0,", "zone", "Normal", "1", "2"}));
}

TEST(Parse, NumbersRejectJunkAndOverflow) {
  EXPECT_EQ(parse_u64("18446744073709551615"), 18446744073709551615ull);
  EXPECT_FALSE(parse_u64("18446744073709551616"));
  EXPECT_FALSE(parse_u64("12x"));
  EXPECT_FALSE(parse_u64("-1"));
  EXPECT_FALSE(parse_u64(""));
  EXPECT_EQ(parse_i64(" -1 "), -1);
  EXPECT_EQ(parse_double("3.85"), 3.85);
  EXPECT_FALSE(parse_double("3.85.1"));
}

TEST(Parse, KeyValueKbConvertsAndReportsBadLines) {
  std::vector<Error> bad;
  const auto kv = parse_kv_kb("A:  2 kB\nB: 7\nC: 1 MB\nD:\n", "/proc/x", &bad);
  ASSERT_EQ(kv.size(), 2u);
  EXPECT_EQ(kv[0].key, "A");
  EXPECT_EQ(kv[0].value, 2048u);
  EXPECT_TRUE(kv[0].had_kb_unit);
  EXPECT_EQ(kv[1].value, 7u);
  ASSERT_EQ(bad.size(), 2u);
  EXPECT_EQ(bad[0].to_string(),
            "/proc/x:3: field \"C\": expected \"<n>\" or \"<n> kB\": unknown unit");
  EXPECT_EQ(bad[1].line, 4);
}

// A file of a million damaged lines costs no more than its reading: the first
// kMaxErrorsPerFile are reported one by one, the rest in one closing entry.
TEST(Parse, DamagedLinesAreReportedWithinABound) {
  std::string text;
  for (int i = 0; i < 100000; ++i)
    text += "k" + std::to_string(i) + ": x kB\nj" + std::to_string(i) + ": 1 kB\n";
  std::vector<Error> bad;
  const auto kv = parse_kv_kb(text, "/proc/meminfo", &bad, false);
  EXPECT_EQ(kv.size(), 100000u);  // the good keys survive
  ASSERT_EQ(bad.size(), kMaxErrorsPerFile + 1);
  EXPECT_EQ(bad.back().to_string(), "/proc/meminfo: and 99980 more damaged lines");
}

TEST(Parse, KeyValueKbOverflowIsReported) {
  std::vector<Error> bad;
  const auto kv = parse_kv_kb("Huge: 18446744073709551615 kB\n", "/proc/x", &bad);
  EXPECT_TRUE(kv.empty());
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_NE(bad[0].message.find("overflows"), std::string::npos);
}

TEST(Parse, KeySpaceU64) {
  std::vector<Error> bad;
  const auto kv = parse_key_space_u64("nr_free_pages 10\nbroken\nx 1 2\n", "/proc/vmstat", &bad);
  ASSERT_EQ(kv.size(), 1u);
  EXPECT_EQ(kv[0].second, 10u);
  ASSERT_EQ(bad.size(), 2u);
  EXPECT_EQ(bad[0].line, 2);
  EXPECT_EQ(bad[1].field, "x");
}

TEST(Parse, BracketedChoice) {
  EXPECT_EQ(bracketed_choice("always [madvise] never\n"), "madvise");
  using Ids = std::vector<unsigned>;
  EXPECT_EQ(parse_id_list("0-1\n", 4095), (Ids{0, 1}));
  EXPECT_EQ(parse_id_list("4,0-2,2", 4095), (Ids{0, 1, 2, 4}));
  EXPECT_EQ(parse_id_list("7", 4095), (Ids{7}));
  for (const char* bad : {"", "1-0", "0,", ",0", "0-", "a", "0-1 rm", "4096", "0-99999999999"}) {
    EXPECT_FALSE(parse_id_list(bad, 4095)) << bad;
  }
  EXPECT_EQ(bracketed_choice("always defer defer+madvise [madvise] never"), "madvise");
  EXPECT_EQ(bracketed_choice("[always] inherit madvise never"), "always");
  EXPECT_EQ(bracketed_choice("always madvise never"), "");
  EXPECT_EQ(bracketed_choice("[unterminated"), "");
}

// Every failure is classified, and the class is what messages say (never the text itself).
TEST(Parse, NumberProblemsAreClassified) {
  const auto u = [](std::string_view t) {
    NumberProblem why{};
    EXPECT_FALSE(parse_u64(t, &why)) << t;
    return std::string(to_string(why));
  };
  EXPECT_EQ(u(""), "empty");
  EXPECT_EQ(u(" \t\n"), "empty");
  EXPECT_EQ(u("abc"), "not a number");
  EXPECT_EQ(u("+5"), "not a number");
  EXPECT_EQ(u("12x"), "trailing characters after the number");
  EXPECT_EQ(u("1 2"), "trailing characters after the number");
  EXPECT_EQ(u("18446744073709551616"), "out of range");
  EXPECT_EQ(u("-1"), "negative");
  NumberProblem why{};
  EXPECT_FALSE(parse_i64("9223372036854775808", &why));
  EXPECT_EQ(why, NumberProblem::out_of_range);
  EXPECT_EQ(parse_i64("-9223372036854775808"), std::numeric_limits<std::int64_t>::min());
  for (const char* t : {"nan", "inf", "-inf", "infinity"}) {
    EXPECT_FALSE(parse_double(t, &why)) << t;
    EXPECT_EQ(why, NumberProblem::not_finite) << t;
  }
  EXPECT_FALSE(parse_double("1e999", &why));
  EXPECT_EQ(why, NumberProblem::out_of_range);
  EXPECT_EQ(parse_double(" 0.25 "), 0.25);
}

TEST(Parse, FieldErrorNamesFileLineFieldAndFormat) {
  const auto e = field_error("/proc/meminfo", 3, "MemTotal", "\"<n> kB\"", "the unit is missing");
  EXPECT_EQ(e.kind, ErrorKind::parse_error);
  EXPECT_EQ(e.to_string(),
            "/proc/meminfo:3: field \"MemTotal\": expected \"<n> kB\": the unit is missing");
  const auto by_line = field_error("/proc/swaps", Line{4, "secret row"}, "Size", "a size", "x");
  EXPECT_EQ(by_line.to_string(), "/proc/swaps:4: field \"Size\": expected a size: x");
}

// A file with nothing usable: blank text says so, other text gets the parser's own words.
TEST(Parse, NothingParsedTellsEmptyFromUnrecognised) {
  const auto empty = nothing_parsed("/proc/vmstat", " \n\t\n", "no \"name value\" line found");
  EXPECT_EQ(empty.kind, ErrorKind::parse_error);
  EXPECT_EQ(empty.to_string(), "/proc/vmstat: file is empty");
  EXPECT_EQ(nothing_parsed("/proc/vmstat", "garbage", "no \"name value\" line found").to_string(),
            "/proc/vmstat: no \"name value\" line found");
}

KbUnit test_units(std::string_view key) noexcept {
  return key == "Count" ? KbUnit::none : KbUnit::required;
}

// The strict form: a field's unit is fixed by the format; a key with any bad line is dropped.
TEST(Parse, KeyValueUnitsAreEnforcedPerField) {
  std::vector<Error> bad;
  const auto kv = parse_kv_units("A: 2 kB\nB: 7\nCount: 3\nCount2: 3 kB\nA: 5 kB junk\nC: 4 kB\n",
                                 "/proc/x", &bad, &test_units);
  ASSERT_EQ(kv.size(), 3u);
  EXPECT_EQ(kv[0].key, "Count");
  EXPECT_EQ(kv[0].value, 3u);
  EXPECT_EQ(kv[1].key, "Count2");
  EXPECT_EQ(kv[2].key, "C");
  EXPECT_EQ(kv[2].value, 4096u);
  std::vector<std::string> msgs;
  for (const auto& e : bad) msgs.push_back(e.to_string());
  EXPECT_EQ(msgs, (std::vector<std::string>{
                      "/proc/x:2: field \"B\": expected \"<n> kB\": the unit is missing",
                      "/proc/x:5: field \"A\": expected \"<n> kB\": trailing characters after the "
                      "number",
                  }));
}

}  // namespace
}  // namespace vmtune::core
