// SPDX-License-Identifier: GPL-2.0-or-later
#include "rules/loader.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "core/temp_dir.hpp"
#include "rules/metrics.hpp"

namespace vmtune::rules {
namespace {

const char* const kGood = R"(# a comment
[[rule]]
id = "T-1"
title = "swappiness high"
severity = "warning"
profiles = ["database"]
when = "sysctl.vm.swappiness > limit"
rationale = """
  Because.
"""
references = ["https://docs.kernel.org/admin-guide/sysctl/vm.html"]
[rule.constants]
limit = 10
big = "64MiB"
twice = "big * 2"
[rule.let]
used = "meminfo.SwapTotal - meminfo.SwapFree"
[[rule.severity_if]]
when = "used > big"
severity = "critical"
[[rule.evidence]]
name = "swap used"
expr = "used"
unit = "bytes"
[[rule.recommend]]
kind = "sysctl"
key = "vm.swappiness"
value = 1
[[rule.recommend]]
kind = "cgroup"
key = "memory.high"
target = "'/system.slice'"
value = "twice"
only_if = "used > 0"
)";

std::string with(const std::string& from, const std::string& to) {
  std::string s = kGood;
  const auto at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

std::string fail(const std::string& text) {
  auto r = parse_rule_file(text, "rules/t.toml");
  EXPECT_FALSE(r.ok());
  return r.ok() ? std::string() : r.error().to_string();
}

TEST(Loader, ParsesEveryField) {
  auto r = parse_rule_file(kGood, "rules/t.toml");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_EQ(r->size(), 1u);
  const Rule& rule = r->front();
  EXPECT_EQ(rule.id, "T-1");
  EXPECT_EQ(rule.file, "rules/t.toml");
  EXPECT_EQ(rule.line, 3);
  EXPECT_EQ(rule.severity, Severity::warning);
  EXPECT_EQ(rule.rationale, "Because.");
  EXPECT_EQ(rule.profiles, std::vector<std::string>{"database"});
  EXPECT_EQ(std::get<double>(rule.constants.at("big")), 64.0 * 1024 * 1024);
  EXPECT_EQ(std::get<double>(rule.constants.at("twice")), 128.0 * 1024 * 1024);
  EXPECT_EQ(rule.lets.count("used"), 1u);
  ASSERT_EQ(rule.severity_if.size(), 1u);
  EXPECT_EQ(rule.severity_if[0].severity, Severity::critical);
  ASSERT_EQ(rule.evidence.size(), 1u);
  EXPECT_EQ(rule.evidence[0].unit, "bytes");
  ASSERT_EQ(rule.recommend.size(), 2u);
  EXPECT_EQ(rule.recommend[0].kind, RecommendationKind::sysctl);
  EXPECT_EQ(rule.recommend[0].value.text(), "1");
  EXPECT_EQ(rule.recommend[1].kind, RecommendationKind::cgroup);
  EXPECT_TRUE(rule.recommend[1].only_if.has_value());
  EXPECT_TRUE(rule.recommend[1].target.has_value());
}

TEST(Loader, TomlSyntaxErrorHasLineAndColumn) {
  EXPECT_EQ(fail(with("title = \"swappiness high\"", "title = \"swappiness high")),
            "rules/t.toml:4:25: TOML syntax error: Error while parsing string: unescaped control "
            "characters other than TAB (U+0009) are explicitly prohibited");
}

TEST(Loader, ExpressionErrorIsPlacedInsideTheFile) {
  // Single-line string: column of the opening quote + 1 + offset.
  EXPECT_EQ(fail(with("sysctl.vm.swappiness > limit", "sysctl.vm.swappiness > limitt")),
            "rules/t.toml:7:32: field \"when\": unknown name 'limitt': expected a constant, a "
            "derived metric (" +
                [] {
                  std::string k;
                  for (const auto& d : derived_metrics()) k += (k.empty() ? "" : ", ") + d;
                  return k;
                }() +
                ") or <section>.<key>");
  // Multi-line string: line and column of the offending character, not of the string.
  const std::string multi = with("when = \"sysctl.vm.swappiness > limit\"",
                                 "when = \"\"\"\nsysctl.vm.swappiness > limit\n  and meminfoo.X > 1\n\"\"\"");
  EXPECT_EQ(fail(multi).substr(0, 40), "rules/t.toml:9:7: field \"when\": unknown ");
  // Literal string in a table array.
  EXPECT_EQ(fail(with("expr = \"used\"", "expr = 'used +'")),
            "rules/t.toml:23:15: field \"evidence.expr\": expected an expression, got end of expression");
}

TEST(Loader, UnknownFieldsAndBadValuesAreRejectedWithPosition) {
  EXPECT_EQ(fail(with("severity = \"warning\"", "severty = \"warning\"")).substr(0, 47),
            "rules/t.toml:5:1: field \"severty\": unknown fiel");
  EXPECT_EQ(fail(with("severity = \"warning\"", "severity = \"major\"")),
            "rules/t.toml:5:12: field \"severity\": expected info, warning or critical");
  EXPECT_EQ(fail(with("kind = \"sysctl\"", "kind = \"sysfs\"")),
            "rules/t.toml:26:8: field \"kind\": expected sysctl, thp, hugetlb, postgresql, "
            "kernel_cmdline or cgroup");
  EXPECT_EQ(fail(with("key = \"vm.swappiness\"", "key = \"swappiness\"")),
            "rules/t.toml:27:7: field \"key\": expected a sysctl name such as vm.swappiness");
  EXPECT_EQ(fail(with("profiles = [\"database\"]", "profiles = [\"oltp\"]")),
            "rules/t.toml:6:13: field \"profiles\": unknown profile 'oltp': expected database, "
            "general or latency");
  EXPECT_EQ(fail(with("when = \"used > big\"", "when = \"used + big\"")),
            "rules/t.toml:19:9: field \"severity_if.when\": expected a boolean condition, got a number");
  EXPECT_EQ(fail(with("title = \"swappiness high\"\n", "")),
            "rules/t.toml:2:1: field \"title\": missing required field");
  EXPECT_EQ(fail(std::string(kGood) + "[other]\nx = 1\n"),
            "rules/t.toml:35:2: field \"other\": unknown top-level key: expected [[rule]] tables only");
  EXPECT_EQ(fail(with("target = \"'/system.slice'\"\n", "")),
            "rules/t.toml:29:1: field \"target\": missing required field: a cgroup recommendation "
            "names its cgroup");
  EXPECT_EQ(fail(with("limit = 10", "limit = [10]")),
            "rules/t.toml:13:9: field \"limit\": expected a number, a boolean or an expression "
            "string for a constant");
  EXPECT_EQ(fail(with("twice = \"big * 2\"", "twice = \"meminfo.MemTotal\"")),
            "rules/t.toml:15:10: field \"twice\": unknown name 'meminfo.MemTotal': a constant may "
            "only use literals and earlier constants");
}

TEST(Loader, EmptyAndGarbageFiles) {
  auto empty = parse_rule_file("", "rules/empty.toml");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
  auto garbage = parse_rule_file(std::string("\x01\x02\xff[[", 5), "rules/g.toml");
  ASSERT_FALSE(garbage.ok());
  EXPECT_EQ(garbage.error().path, "rules/g.toml");
  EXPECT_EQ(garbage.error().line, 1);
  EXPECT_GT(garbage.error().column, 0);
  // Truncated in the middle of a rule: the missing fields are reported.
  const std::string cut = std::string(kGood).substr(0, std::string(kGood).find("when"));
  EXPECT_EQ(fail(cut).substr(0, 28), "rules/t.toml:2:1: field \"rat");
}

TEST(Loader, DirectoriesDuplicateIdsAndMissingDirs) {
  auto tmp = core::TempDir::create("vmtune-rules-");
  ASSERT_TRUE(tmp.ok());
  const auto a = tmp->path() / "a";
  const auto b = tmp->path() / "b";
  std::filesystem::create_directories(a);
  std::filesystem::create_directories(b);
  std::ofstream(a / "one.toml") << kGood;
  std::ofstream(a / "ignored.txt") << "not toml";
  std::ofstream(b / "two.toml") << "\n\n" << kGood;
  auto ok = load_rule_dirs({RuleDir{a}, RuleDir{tmp->path() / "absent", true}});
  ASSERT_TRUE(ok.ok()) << ok.error().to_string();
  EXPECT_EQ(ok->size(), 1u);
  auto dup = load_rule_dirs({RuleDir{a}, RuleDir{b}});
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().to_string(),
            (b / "two.toml").string() + ":5:6: field \"id\": duplicate rule id 'T-1' (first defined at " +
                (a / "one.toml").string() + ":3)");
  auto missing = load_rule_dirs({RuleDir{tmp->path() / "absent"}});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, core::ErrorKind::missing);
  // A broken file in a directory names that file.
  std::ofstream(b / "two.toml") << "[[rule]]\nid = \"T-2\"\nwhen = \"1 +\"\n";
  auto broken = load_rule_dirs({RuleDir{b}});
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.error().path, (b / "two.toml").string());
}

}  // namespace
}  // namespace vmtune::rules
