// SPDX-License-Identifier: GPL-2.0-or-later
#include "rules/engine.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "rules/config.hpp"

namespace vmtune::rules {
namespace {

model::Sample base_sample() {
  model::Sample s;
  s.meminfo.state = model::SourceState::ok;
  s.meminfo.value = model::MemInfo{
      {{"MemTotal", 32ull << 30}, {"SwapTotal", 4ull << 30}, {"SwapFree", 3ull << 30}}};
  s.sysctl.state = model::SourceState::ok;
  s.sysctl.value = model::Sysctl{{{"vm.swappiness", "60"}, {"vm.dirty_bytes", "0"}}};
  s.psi.state = model::SourceState::missing;
  s.psi.error = core::make_error(core::ErrorKind::missing, "/proc/pressure/memory",
                                 "No such file or directory");
  return s;
}

Engine engine_of(const std::string& toml) {
  auto rules = parse_rule_file(toml, "t.toml");
  EXPECT_TRUE(rules.ok()) << (rules.ok() ? "" : rules.error().to_string());
  return Engine(rules.ok() ? *rules : std::vector<Rule>{});
}

std::string rule(const std::string& id, const std::string& severity, const std::string& when,
                 const std::string& extra = "") {
  return "[[rule]]\nid = \"" + id + "\"\ntitle = \"" + id + " title\"\nseverity = \"" + severity +
         "\"\nwhen = \"" + when + "\"\nrationale = \"r\"\nreferences = [\"https://x\"]\n" + extra;
}

std::string rec(const std::string& key, const std::string& value) {
  return "[[rule.recommend]]\nkind = \"sysctl\"\nkey = \"" + key + "\"\nvalue = " + value + "\n";
}

TEST(Engine, FiresQuietAndNotEvaluatedWithReasons) {
  const auto e = engine_of(
      rule("A", "warning", "sysctl.vm.swappiness > 10", rec("vm.swappiness", "1")) +
      rule("B", "info", "sysctl.vm.swappiness < 10") + rule("C", "critical", "psi.some.avg10 > 5") +
      rule("D", "info", "true", "requires = [\"rate(vmstat.pgscan_direct)\"]\n"));
  const auto snap = model::make_snapshot(base_sample(), std::nullopt);
  const auto ev = e.evaluate(snap, Config{});
  ASSERT_EQ(ev.findings.size(), 1u);
  EXPECT_EQ(ev.findings[0].rule_id, "A");
  EXPECT_EQ(ev.findings[0].title, "A title");
  EXPECT_EQ(ev.findings[0].rule_file, "t.toml");
  ASSERT_EQ(ev.findings[0].recommendations.size(), 1u);
  const auto& r = ev.findings[0].recommendations[0];
  EXPECT_EQ(r.key, "vm.swappiness");
  EXPECT_EQ(r.current, "60");
  EXPECT_EQ(r.proposed, "1");
  EXPECT_TRUE(r.host_level);
  ASSERT_EQ(ev.not_evaluated.size(), 2u);
  EXPECT_EQ(ev.not_evaluated[0].rule_id, "C");
  EXPECT_EQ(ev.not_evaluated[0].reason, "needs /proc/pressure/memory: missing");
  EXPECT_EQ(ev.not_evaluated[1].rule_id, "D");
  EXPECT_EQ(ev.not_evaluated[1].reason, "needs vmstat: not collected");
}

// 40 levels of lets that each use the one before twice: evaluated at every use, a40 costs 2^40
// evaluations of a0 and this test would not finish (26 levels took 8 s). Each let is evaluated
// once per sample, shared by every expression of the rule.
TEST(Engine, LetChainsAreEvaluatedOncePerSample) {
  std::string lets = "[rule.let]\na0 = \"meminfo.MemTotal\"\n";
  for (int k = 1; k <= 40; ++k) {
    const std::string prev = "a" + std::to_string(k - 1);
    lets += "a" + std::to_string(k) + " = \"" + prev + " + " + prev + "\"\n";
  }
  const auto e =
      engine_of(rule("LETS", "warning", "a40 > a39 and a39 > 0", lets) +
                "[[rule.severity_if]]\nwhen = \"a40 == 2 * a39\"\nseverity = \"critical\"\n"
                "[[rule.evidence]]\nname = \"a40\"\nexpr = \"a40\"\nunit = \"bytes\"\n"
                "[[rule.evidence]]\nname = \"ratio\"\nexpr = \"a40 / a0\"\n");
  const auto ev = e.evaluate(model::make_snapshot(base_sample(), std::nullopt), Config{});
  ASSERT_EQ(ev.findings.size(), 1u);
  const auto& f = ev.findings[0];
  EXPECT_EQ(f.rule_id, "LETS");
  EXPECT_EQ(f.severity, Severity::critical);
  ASSERT_EQ(f.evidence.size(), 2u);
  ASSERT_TRUE(f.evidence[0].number.has_value());
  EXPECT_EQ(*f.evidence[0].number, std::ldexp(32.0 * (1ull << 30), 40));  // 2^75 bytes
  EXPECT_EQ(f.evidence[1].text, "1099511627776");                         // 2^40
}

// A condition whose type is known only at run time (a sysctl is a number or a string) passes the
// load-time check; a non-boolean value at run time makes the rule not evaluated, never a crash.
TEST(Engine, AConditionThatIsNotABooleanAtRunTimeIsNotEvaluated) {
  const auto e = engine_of(
      rule("W", "warning", "sysctl.vm.swappiness") +
      rule("S", "info", "true",
           "[[rule.severity_if]]\nwhen = \"sysctl.vm.dirty_bytes\"\nseverity = \"critical\"\n" +
               std::string("[[rule.recommend]]\nkind = \"sysctl\"\nkey = \"vm.swappiness\"\n"
                           "value = 1\nonly_if = \"sysctl.vm.swappiness\"\n")));
  const auto ev = e.evaluate(model::make_snapshot(base_sample(), std::nullopt), Config{});
  ASSERT_EQ(ev.not_evaluated.size(), 1u);
  EXPECT_EQ(ev.not_evaluated[0].rule_id, "W");
  EXPECT_EQ(ev.not_evaluated[0].reason, "sysctl.vm.swappiness is '60', not a boolean");
  ASSERT_EQ(ev.findings.size(), 1u);
  EXPECT_EQ(ev.findings[0].rule_id, "S");
  EXPECT_EQ(ev.findings[0].severity, Severity::info);
  EXPECT_TRUE(ev.findings[0].recommendations.empty());
  EXPECT_NE(std::find(ev.notes.begin(), ev.notes.end(),
                      "S: recommendation for vm.swappiness not made: sysctl.vm.swappiness is '60', "
                      "not a boolean"),
            ev.notes.end());
}

TEST(Engine, SeverityEscalationAndOrdering) {
  const auto e = engine_of(
      rule("LOW", "info", "true") +
      rule("ESC", "info", "true",
           "[[rule.severity_if]]\nwhen = \"meminfo.MemTotal > 16GiB\"\nseverity = \"critical\"\n"
           "[[rule.severity_if]]\nwhen = \"psi.some.avg10 > 1\"\nseverity = \"warning\"\n") +
      rule("MID", "warning", "true"));
  const auto ev = e.evaluate(model::make_snapshot(base_sample(), std::nullopt), Config{});
  ASSERT_EQ(ev.findings.size(), 3u);
  EXPECT_EQ(ev.findings[0].rule_id, "ESC");
  EXPECT_EQ(ev.findings[0].severity, Severity::critical);
  EXPECT_EQ(ev.findings[1].rule_id, "MID");
  EXPECT_EQ(ev.findings[2].rule_id, "LOW");
}

TEST(Engine, EvidenceShowsValuesAndUnavailableReasons) {
  const auto e = engine_of(
      rule("A", "info", "true",
           "[[rule.evidence]]\nname = \"used\"\nexpr = \"swap_used_bytes\"\nunit = \"bytes\"\n"
           "[[rule.evidence]]\nname = \"psi\"\nexpr = \"psi.some.avg10\"\n"));
  const auto ev = e.evaluate(model::make_snapshot(base_sample(), std::nullopt), Config{});
  ASSERT_EQ(ev.findings.size(), 1u);
  const auto& evd = ev.findings[0].evidence;
  ASSERT_EQ(evd.size(), 2u);
  EXPECT_EQ(evd[0].number, 1073741824.0);
  EXPECT_EQ(evd[0].text, "1073741824");
  EXPECT_EQ(evd[0].unit, "bytes");
  EXPECT_EQ(evd[0].expression, "swap_used_bytes");
  EXPECT_FALSE(evd[1].number.has_value());
  EXPECT_EQ(evd[1].text, "unavailable: needs /proc/pressure/memory: missing");
}

TEST(Engine, ConflictingProposalsResolveToTheMoreSevereThenTheEarlierRule) {
  const auto e = engine_of(rule("W", "warning", "true", rec("vm.swappiness", "10")) +
                           rule("C", "critical", "true", rec("vm.swappiness", "1")) +
                           rule("W2", "warning", "true", rec("vm.dirty_bytes", "100")) +
                           rule("W3", "warning", "true", rec("vm.dirty_bytes", "200")));
  const auto ev = e.evaluate(model::make_snapshot(base_sample(), std::nullopt), Config{});
  ASSERT_EQ(ev.findings.size(), 4u);
  for (const auto& f : ev.findings) {
    ASSERT_EQ(f.recommendations.size(), 1u) << f.rule_id;
    const auto& r = f.recommendations[0];
    if (r.key == "vm.swappiness") {
      EXPECT_EQ(r.proposed, "1") << f.rule_id;
    } else {
      EXPECT_EQ(r.proposed, "100") << f.rule_id;
    }
  }
  const auto& w = ev.findings[1];  // C first (critical), then W, W2, W3
  EXPECT_EQ(w.rule_id, "W");
  EXPECT_EQ(w.recommendations[0].note,
            "Conflict: this rule proposed 10; C proposes 1 and wins (the critical finding wins "
            "over warning).");
  ASSERT_EQ(ev.notes.size(), 2u);
  EXPECT_EQ(ev.notes[0],
            "vm.swappiness: W proposed 10, C proposed 1; using 1 (the critical finding wins over "
            "warning)");
  EXPECT_EQ(ev.notes[1],
            "vm.dirty_bytes: W3 proposed 200, W2 proposed 100; using 100 (equal severity, the rule "
            "loaded first wins)");
}

TEST(Engine, AlreadyAppliedRecommendationsAreDroppedAndTheFindingSuppressed) {
  auto s = base_sample();
  s.sysctl.value->values["vm.swappiness"] = "1.0";
  const auto e = engine_of(
      rule("A", "warning", "true", rec("vm.swappiness", "1")) +
      rule("B", "warning", "true", rec("vm.swappiness", "1") + rec("vm.dirty_bytes", "268435456")) +
      rule("S", "warning", "true", "always_report = true\n" + rec("vm.swappiness", "1")));
  const auto ev = e.evaluate(model::make_snapshot(s, std::nullopt), Config{});
  ASSERT_EQ(ev.findings.size(), 2u);
  EXPECT_EQ(ev.findings[0].rule_id, "B");
  ASSERT_EQ(ev.findings[0].recommendations.size(), 1u);
  EXPECT_EQ(ev.findings[0].recommendations[0].key, "vm.dirty_bytes");
  EXPECT_EQ(ev.findings[1].rule_id, "S");
  EXPECT_TRUE(ev.findings[1].recommendations.empty());
  ASSERT_EQ(ev.notes.size(), 1u);
  EXPECT_EQ(ev.notes[0], "A: already at the proposed value (vm.swappiness = 1.0); not reported");
}

TEST(Engine, OnlyIfTargetsAndMissingValues) {
  const auto e =
      engine_of(rule("A", "info", "true",
                     rec("vm.swappiness", "1") + "only_if = \"meminfo.SwapTotal == 0\"\n" +
                         rec("vm.dirty_bytes", "\"psi.some.avg10 * 2\"") +
                         "[[rule.recommend]]\nkind = \"cgroup\"\nkey = \"memory.high\"\n"
                         "target = \"'/db.slice'\"\nvalue = \"floor_to(0.9 * 1GiB, 4096)\"\n"));
  const auto ev = e.evaluate(model::make_snapshot(base_sample(), std::nullopt), Config{});
  ASSERT_EQ(ev.findings.size(), 1u);
  ASSERT_EQ(ev.findings[0].recommendations.size(), 1u);
  const auto& r = ev.findings[0].recommendations[0];
  EXPECT_EQ(r.kind, RecommendationKind::cgroup);
  EXPECT_EQ(r.target, "/db.slice");
  EXPECT_EQ(r.proposed, "966365184");
  EXPECT_FALSE(r.host_level);
  EXPECT_TRUE(r.current.empty());
  ASSERT_EQ(ev.notes.size(), 1u);
  EXPECT_EQ(ev.notes[0],
            "A: recommendation for vm.dirty_bytes not made: needs /proc/pressure/memory: missing");
}

TEST(Engine, ProfilesSkipAndConfigMetrics) {
  const auto e = engine_of(
      rule("DB", "info", "config.profile == 'database'", "profiles = [\"database\"]\n") +
      rule("ANY", "info", "config.db_reserved_bytes == 16GiB") + rule("SKIP", "info", "true"));
  Config cfg;
  cfg.profile = "general";
  cfg.skip = {"SKIP", "NOPE"};
  cfg.db_reserved_bytes = 16ull << 30;
  auto snap = model::make_snapshot(base_sample(), std::nullopt);
  auto ev = e.evaluate(snap, cfg);
  ASSERT_EQ(ev.findings.size(), 1u);
  EXPECT_EQ(ev.findings[0].rule_id, "ANY");
  EXPECT_EQ(ev.notes, (std::vector<std::string>{"configuration skips unknown rule id NOPE",
                                                "skipped by configuration: SKIP",
                                                "not applicable to the general profile: DB"}));
  // auto: database when a PostgreSQL instance is present.
  Config autocfg;
  EXPECT_EQ(resolve_profile(autocfg, snap), "general");
  snap.current.postgres.state = model::SourceState::ok;
  snap.current.postgres.value = model::PostgresFacts{};
  snap.current.postgres.value->instances.emplace_back();
  EXPECT_EQ(resolve_profile(autocfg, snap), "database");
  ev = e.evaluate(snap, autocfg);
  ASSERT_EQ(ev.not_evaluated.size(), 1u);
  EXPECT_EQ(ev.not_evaluated[0].reason, "db_reserved is not set in vmtune.toml");
  EXPECT_EQ(ev.findings.size(), 2u);
}

TEST(Engine, RatesComeFromTwoSamples) {
  auto a = base_sample();
  a.monotonic_s = 100;
  a.vmstat.state = model::SourceState::ok;
  a.vmstat.value = model::VmStat{{{"pswpin", 1000},
                                  {"allocstall_normal", 10},
                                  {"allocstall_movable", 0},
                                  {"pgscan_direct", 100},
                                  {"pgscan_kswapd", 900}}};
  auto b = a;
  b.monotonic_s = 110;
  b.vmstat.value->counters = {{"pswpin", 3000},
                              {"allocstall_normal", 40},
                              {"allocstall_movable", 10},
                              {"pgscan_direct", 600},
                              {"pgscan_kswapd", 1400}};
  const auto e = engine_of(rule("R", "info", "swap_in_rate > 100",
                                "[[rule.evidence]]\nname = \"a\"\nexpr = \"direct_reclaim_rate\"\n"
                                "[[rule.evidence]]\nname = \"b\"\nexpr = \"direct_scan_share\"\n"));
  const auto ev = e.evaluate(model::make_snapshot(b, a), Config{});
  ASSERT_EQ(ev.findings.size(), 1u);
  EXPECT_EQ(ev.findings[0].evidence[0].number, 4.0);
  EXPECT_EQ(ev.findings[0].evidence[1].number, 0.5);
  // One sample only: not evaluated, with the reason.
  const auto one = e.evaluate(model::make_snapshot(b, std::nullopt), Config{});
  ASSERT_EQ(one.not_evaluated.size(), 1u);
  EXPECT_EQ(one.not_evaluated[0].reason,
            "needs two samples a window apart (rates; counters only with --window 0)");
}

TEST(Engine, SameSetting) {
  EXPECT_TRUE(same_setting("60", "60.0"));
  EXPECT_TRUE(same_setting(" never", "never"));
  EXPECT_FALSE(same_setting("madvise", "never"));
  EXPECT_FALSE(same_setting("1", "10"));
  EXPECT_TRUE(same_setting("268435456", "2.68435456e8"));
}

TEST(Config, ParsesAndRejectsWithPosition) {
  auto c = parse_config("profile = \"database\"\ndb_reserved = \"16GiB\"\nskip = [\"R-VFS-1\"]\n",
                        "/etc/vmtune/vmtune.toml");
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->profile, "database");
  EXPECT_EQ(c->db_reserved_bytes, 16ull << 30);
  EXPECT_EQ(c->skip, std::set<std::string>{"R-VFS-1"});
  EXPECT_EQ(parse_config("db_reserved = 1024", "x")->db_reserved_bytes, 1024u);
  EXPECT_EQ(parse_config("", "x")->profile, "auto");
  EXPECT_EQ(parse_config("profile = \"oltp\"", "/etc/vmtune/vmtune.toml").error().to_string(),
            "/etc/vmtune/vmtune.toml:1:11: field \"profile\": expected auto, database, general or "
            "latency, got 'oltp'");
  EXPECT_EQ(parse_config("\nprofle = 1", "v.toml").error().to_string(),
            "v.toml:2:1: field \"profle\": unknown key: expected profile, db_reserved or skip");
  EXPECT_EQ(
      parse_config("db_reserved = \"12 parsecs\"", "v.toml").error().to_string(),
      "v.toml:1:15: field \"db_reserved\": expected bytes or <n>KiB|MiB|GiB|TiB, got '12 parsecs'");
  EXPECT_EQ(parse_config("skip = [1]", "v.toml").error().line, 1);
  auto bad = parse_config("profile = ", "v.toml");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().line, 1);
  EXPECT_EQ(load_config("/nonexistent/vmtune.toml", "/etc/vmtune/vmtune.toml").error().kind,
            core::ErrorKind::missing);
}

}  // namespace
}  // namespace vmtune::rules
