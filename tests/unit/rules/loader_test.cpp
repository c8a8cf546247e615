// SPDX-License-Identifier: GPL-2.0-or-later
#include "rules/loader.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "bounded.hpp"
#include "core/temp_dir.hpp"
#include "rules/engine.hpp"
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
  EXPECT_EQ(rule.symptoms, std::vector<std::string>{"memory_pressure"}) << "the default";
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

TEST(Loader, SymptomsAreKeptInFileOrder) {
  auto r = parse_rule_file(
      with("profiles = [\"database\"]", "symptoms = [\"writeback\", \"direct_reclaim\"]"),
      "rules/t.toml");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->front().symptoms, (std::vector<std::string>{"writeback", "direct_reclaim"}));
}

TEST(Loader, TomlSyntaxErrorHasLineAndColumn) {
  EXPECT_EQ(fail(with("title = \"swappiness high\"", "title = \"swappiness high")),
            "rules/t.toml:4:25: TOML syntax error: Error while parsing string: unescaped control "
            "characters other than TAB (U+0009) are explicitly prohibited");
}

TEST(Loader, ExpressionErrorIsPlacedInsideTheFile) {
  // Single-line string: column of the opening quote + 1 + offset.
  EXPECT_EQ(
      fail(with("sysctl.vm.swappiness > limit", "sysctl.vm.swappiness > limitt")),
      "rules/t.toml:7:32: field \"when\": unknown name 'limitt': expected a constant, a "
      "derived metric (" +
          [] {
            std::string k;
            for (const auto& d : derived_metrics()) k += (k.empty() ? "" : ", ") + d;
            return k;
          }() +
          ") or <section>.<key>");
  // Multi-line string: line and column of the offending character, not of the string.
  const std::string multi =
      with("when = \"sysctl.vm.swappiness > limit\"",
           "when = \"\"\"\nsysctl.vm.swappiness > limit\n  and meminfoo.X > 1\n\"\"\"");
  EXPECT_EQ(fail(multi).substr(0, 40), "rules/t.toml:9:7: field \"when\": unknown ");
  // Literal string in a table array.
  EXPECT_EQ(
      fail(with("expr = \"used\"", "expr = 'used +'")),
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
  EXPECT_EQ(fail(with("profiles = [\"database\"]",
                      "profiles = [\"database\"]\nsymptoms = [\"swap\", \"latency\"]")),
            "rules/t.toml:7:21: field \"symptoms\": unknown symptom 'latency': expected one of "
            "memory_pressure, direct_reclaim, compaction, writeback, refaults, swap, oom");
  EXPECT_EQ(fail(with("profiles = [\"database\"]", "profiles = [\"database\"]\nsymptoms = 3")),
            "rules/t.toml:7:12: field \"symptoms\": expected an array of strings");
  EXPECT_EQ(
      fail(with("when = \"used > big\"", "when = \"used + big\"")),
      "rules/t.toml:19:9: field \"severity_if.when\": expected a boolean condition, got a number");
  EXPECT_EQ(fail(with("title = \"swappiness high\"\n", "")),
            "rules/t.toml:2:1: field \"title\": missing required field");
  EXPECT_EQ(
      fail(std::string(kGood) + "[other]\nx = 1\n"),
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
            (b / "two.toml").string() +
                ":5:6: field \"id\": duplicate rule id 'T-1' (first defined at " +
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

std::string repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

// Expressions that crashed vmtune with SIGSEGV are refused while the file loads, at the line and
// column of the token that crosses the limit.
TEST(Loader, ExpressionLimitsAreLoadErrorsAtFileLineColumn) {
  EXPECT_EQ(
      fail(with("sysctl.vm.swappiness > limit", repeat("(", 5000) + "1 > 0" + repeat(")", 5000))),
      "rules/t.toml:7:72: field \"when\": expression nested too deeply: more than 64 levels "
      "of parentheses, function calls, 'not', unary '-' and lets");
  EXPECT_EQ(fail(with("sysctl.vm.swappiness > limit", "1" + repeat(" + 1", 20000) + " > 0")),
            "rules/t.toml:7:2009: field \"when\": expression too large: more than 1000 operands "
            "and operators; split it into [rule.let] bindings");
  // Lets that use each other: the 65th level is an error where it is written.
  std::string lets = "used = \"meminfo.SwapTotal - meminfo.SwapFree\"\na0 = \"meminfo.MemTotal\"\n";
  for (int k = 1; k <= 64; ++k) {
    lets += "a" + std::to_string(k) + " = \"a" + std::to_string(k - 1) + " + 1\"\n";
  }
  EXPECT_EQ(fail(with("used = \"meminfo.SwapTotal - meminfo.SwapFree\"\n", lets)),
            "rules/t.toml:82:8: field \"let.a64\": expression nested too deeply: using 'a63' (64 "
            "levels) here makes 65 levels, more than 64");
}

TEST(Loader, CatalogueExpressionsAreWellWithinTheLimits) {
  auto rules = load_rule_dirs({RuleDir{std::filesystem::path(VMTUNE_SOURCE_DIR) / "rules"}});
  ASSERT_TRUE(rules.ok()) << rules.error().to_string();
  int depth = 0;
  int size = 0;
  std::string deepest;
  std::string largest;
  auto see = [&](const Expr& e) {
    if (e.depth() > depth) deepest = e.text();
    if (e.size() > size) largest = e.text();
    depth = std::max(depth, e.depth());
    size = std::max(size, e.size());
  };
  for (const auto& r : *rules) {
    see(r.when);
    for (const auto& [name, e] : r.lets) see(e);
    for (const auto& e : r.requires_) see(e);
    for (const auto& s : r.severity_if) see(s.when);
    for (const auto& e : r.evidence) see(e.expr);
    for (const auto& rc : r.recommend) {
      see(rc.value);
      if (rc.only_if) see(*rc.only_if);
      if (rc.target) see(*rc.target);
      if (rc.current) see(*rc.current);
    }
  }
  // The figures quoted in expr.hpp; the limits leave 7x and 38x room.
  EXPECT_EQ(depth, 9) << deepest;
  EXPECT_EQ(size, 26) << largest;
  EXPECT_LE(depth * 7, kMaxExprDepth);
  EXPECT_LE(size * 38, kMaxExprSize);
}

TEST(Loader, NonRegularEntriesInARulesDirAreSkippedWithANoteNeverOpened) {
  auto tmp = core::TempDir::create("vmtune-rules-");
  ASSERT_TRUE(tmp.ok());
  const auto d = tmp->path();
  std::ofstream(d / "one.toml") << kGood;
  ASSERT_TRUE(test::make_fifo(d / "evil.toml"));
  std::filesystem::create_directory(d / "dir.toml");
  std::filesystem::create_symlink(d / "nowhere", d / "dangling.toml");
  std::filesystem::create_symlink("evil.toml", d / "fifo-link.toml");

  std::vector<std::string> notes;
  auto loaded =
      test::call_bounded([&] { return load_rule_dirs({RuleDir{d}}, &notes); }, d / "evil.toml");
  ASSERT_TRUE(loaded.has_value());
  ASSERT_TRUE(loaded->ok()) << loaded->error().to_string();
  ASSERT_EQ((*loaded)->size(), 1u);
  EXPECT_EQ((**loaded)[0].id, "T-1");
  const std::vector<std::string> expected = {
      (d / "dangling.toml").string() + ": skipped: a dangling symbolic link, not a regular file",
      (d / "dir.toml").string() + ": skipped: a directory, not a regular file",
      (d / "evil.toml").string() + ": skipped: a FIFO, not a regular file",
      (d / "fifo-link.toml").string() + ": skipped: a FIFO, not a regular file"};
  EXPECT_EQ(notes, expected);

  // The engine keeps the notes and lists them first in every evaluation.
  auto engine = test::call_bounded([&] { return Engine::load({RuleDir{d}}); }, d / "evil.toml");
  ASSERT_TRUE(engine.has_value());
  ASSERT_TRUE(engine->ok()) << engine->error().to_string();
  EXPECT_EQ((*engine)->load_notes(), expected);
  const auto ev =
      (*engine)->evaluate(model::make_snapshot(model::Sample{}, std::nullopt), Config{});
  ASSERT_GE(ev.notes.size(), expected.size());
  EXPECT_EQ(std::vector<std::string>(ev.notes.begin(), ev.notes.begin() + 4), expected);
}

TEST(Loader, AFifoNamedDirectlyIsRefusedWithoutBlocking) {
  auto tmp = core::TempDir::create("vmtune-rules-");
  ASSERT_TRUE(tmp.ok());
  const auto fifo = tmp->path() / "evil.toml";
  ASSERT_TRUE(test::make_fifo(fifo));
  auto file = test::call_bounded([&] { return load_rule_file(fifo); }, fifo);
  ASSERT_TRUE(file.has_value());
  ASSERT_FALSE(file->ok());
  EXPECT_EQ(file->error().kind, core::ErrorKind::invalid_argument);
  EXPECT_EQ(file->error().to_string(), fifo.string() + ": refused: a FIFO, not a regular file");
  // The same FIFO given as a rules directory (--rules).
  auto dir = test::call_bounded([&] { return load_rule_dirs({RuleDir{fifo}}); }, fifo);
  ASSERT_TRUE(dir.has_value());
  ASSERT_FALSE(dir->ok());
  EXPECT_EQ(dir->error().kind, core::ErrorKind::invalid_argument);
  EXPECT_EQ(dir->error().to_string(), fifo.string() + ": refused: a FIFO, not a rule directory");
}

TEST(Loader, SymlinksAreSkippedInADirThatDoesNotFollowThem) {
  auto tmp = core::TempDir::create("vmtune-rules-");
  ASSERT_TRUE(tmp.ok());
  const auto real = tmp->path() / "real";
  const auto d = tmp->path() / "d";
  std::filesystem::create_directories(real);
  std::filesystem::create_directories(d);
  std::ofstream(real / "one.toml") << kGood;
  std::filesystem::create_symlink(real / "one.toml", d / "one.toml");
  auto followed = load_rule_dirs({RuleDir{d}});
  ASSERT_TRUE(followed.ok()) << followed.error().to_string();
  EXPECT_EQ(followed->size(), 1u);
  std::vector<std::string> notes;
  auto kept_out = load_rule_dirs({RuleDir{d, false, false}}, &notes);
  ASSERT_TRUE(kept_out.ok()) << kept_out.error().to_string();
  EXPECT_TRUE(kept_out->empty());
  EXPECT_EQ(notes, std::vector<std::string>{(d / "one.toml").string() +
                                            ": skipped: a symbolic link, not a regular file"});
  auto direct = load_rule_file(d / "one.toml", false);
  ASSERT_FALSE(direct.ok());
  EXPECT_EQ(direct.error().to_string(), (d / "one.toml").string() + ": refused: a symbolic link");
}

TEST(Loader, AHugeRuleFileIsRefusedBeforeItIsRead) {
  auto tmp = core::TempDir::create("vmtune-rules-");
  ASSERT_TRUE(tmp.ok());
  const auto big = tmp->path() / "big.toml";
  std::ofstream(big) << kGood;
  std::filesystem::resize_file(big, std::uintmax_t{4} << 30);  // sparse: costs no disk
  auto r = load_rule_file(big);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, core::ErrorKind::io_error);
  EXPECT_EQ(r.error().to_string(), big.string() + ": file larger than 1048576 bytes");
  // In a rules directory it is an error too, not a silent skip: the rule set would be incomplete.
  auto dir = load_rule_dirs({RuleDir{tmp->path()}});
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.error().to_string(), big.string() + ": file larger than 1048576 bytes");
  // At the limit the file is read (and its NUL padding is not TOML).
  std::filesystem::resize_file(big, kMaxRuleFileBytes);
  auto padded = load_rule_file(big);
  ASSERT_FALSE(padded.ok());
  EXPECT_NE(padded.error().message.find("TOML syntax error"), std::string::npos);
}

}  // namespace
}  // namespace vmtune::rules
