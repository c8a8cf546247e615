// SPDX-License-Identifier: GPL-2.0-or-later
#include "rules/context.hpp"

#include <gtest/gtest.h>

#include <limits>

#include "collect/collector.hpp"
#include "collect/sysctl_conf.hpp"
#include "test_support.hpp"

namespace vmtune::rules {
namespace {

constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
constexpr std::uint64_t kGiB = 1ull << 30;

model::Cgroup group(std::string path, std::optional<std::uint64_t> max,
                    std::optional<std::uint64_t> current = std::nullopt) {
  model::Cgroup g;
  g.path = std::move(path);
  g.max = max;
  g.high = kMax;
  g.current = current;
  return g;
}

Evaluation eval_with_sysctl_and_thp() {
  Evaluation e;
  Finding f;
  f.rule_id = "R-SWAP-1";
  f.severity = Severity::warning;
  Recommendation r;
  r.key = "vm.swappiness";
  r.proposed = "10";
  Recommendation t;
  t.kind = RecommendationKind::thp;
  t.key = "enabled";
  Recommendation pg;
  pg.kind = RecommendationKind::postgresql;
  pg.key = "huge_pages";
  f.recommendations = {r, t, pg};
  e.findings.push_back(f);
  return e;
}

TEST(Context, PlainHostIsNotRestrictedAndAdviceIsUnchanged) {
  model::Sample s;
  s.cgroups.value = model::Cgroups{"v2", "fs/cgroup", "/", {group("/", std::nullopt)}};
  const auto c = detect_context(s);
  EXPECT_FALSE(c.restricted());
  auto e = eval_with_sysctl_and_thp();
  apply_context(e, c, model::make_snapshot(s, std::nullopt));
  ASSERT_EQ(e.findings.size(), 1u);
  EXPECT_TRUE(e.findings[0].recommendations[0].host_level);
  EXPECT_TRUE(e.findings[0].recommendations[0].note.empty());
  EXPECT_FALSE(e.findings[0].recommendations[2].host_level);  // postgresql.conf is local
  EXPECT_TRUE(e.notes.empty());
}

TEST(Context, ContainerMarkersMarkHostAdvice) {
  model::Sample s;
  model::SysctlConf conf;
  conf.container = "docker";
  conf.proc_sys_read_only = true;
  s.sysctl_conf.value = conf;
  const auto c = detect_context(s);
  EXPECT_TRUE(c.in_container);
  EXPECT_EQ(c.container, "docker");
  EXPECT_EQ(c.reasons.size(), 2u);
  auto e = eval_with_sysctl_and_thp();
  apply_context(e, c, model::make_snapshot(s, std::nullopt));
  const auto& r = e.findings[0].recommendations;
  EXPECT_TRUE(r[0].host_level);
  EXPECT_NE(r[0].note.find("read-only inside this container"), std::string::npos);
  EXPECT_NE(r[1].note.find("host-wide"), std::string::npos);  // THP too
  EXPECT_TRUE(r[2].note.empty());
  ASSERT_EQ(e.notes.size(), 1u);
  EXPECT_NE(e.notes[0].find("inside a container (docker)"), std::string::npos);
}

TEST(Context, PidOneInANonRootCgroupMeansContainer) {
  model::Sample s;
  model::Process init;
  init.pid = 1;
  init.cgroup = "/system.slice/docker-abc.scope";
  s.processes.value = std::vector<model::Process>{init};
  EXPECT_TRUE(detect_context(s).in_container);
  s.processes.value->front().cgroup = "/init.scope";
  EXPECT_FALSE(detect_context(s).in_container);
}

TEST(Context, LimitedCgroupUnderPressureGetsMemoryHighAdvice) {
  model::Sample s;
  auto parent = group("/pg.slice", 4 * kGiB);
  auto self = group("/pg.slice/db.service", kMax, kGiB * 38 / 10);
  parent.current = kGiB * 39 / 10;
  parent.events = {{"low", 0}, {"high", 0}, {"max", 17}, {"oom", 0}, {"oom_kill", 0}};
  s.cgroups.value =
      model::Cgroups{"v2", "fs/cgroup", "/pg.slice/db.service", {group("/", std::nullopt), parent, self}};
  const auto c = detect_context(s);
  EXPECT_TRUE(c.cgroup_limited);
  EXPECT_FALSE(c.in_container);
  EXPECT_EQ(c.memory_max, 4 * kGiB);
  EXPECT_EQ(c.limit_from, "/pg.slice");
  EXPECT_EQ(c.memory_current, kGiB * 38 / 10);

  Evaluation e;
  Finding crit;
  crit.rule_id = "R-X";
  crit.severity = Severity::critical;
  Finding info;
  info.rule_id = "R-Y";
  info.severity = Severity::info;
  e.findings = {crit, info};
  apply_context(e, c, model::make_snapshot(s, std::nullopt));
  ASSERT_EQ(e.findings.size(), 3u);
  const auto& f = e.findings[2];  // after the rules' findings of the same severity
  EXPECT_EQ(f.rule_id, "CTX-CGROUP-HIGH");
  EXPECT_EQ(f.severity, Severity::info);  // max events, no OOM kill
  ASSERT_EQ(f.recommendations.size(), 1u);
  const auto& r = f.recommendations[0];
  EXPECT_EQ(r.kind, RecommendationKind::cgroup);
  EXPECT_EQ(r.key, "memory.high");
  EXPECT_EQ(r.target, "/pg.slice");
  EXPECT_FALSE(r.host_level);
  // floor(0.9 * 4 GiB) = 3865470566, rounded down to 4 KiB.
  EXPECT_EQ(r.proposed, std::to_string(3865468928ull));
  EXPECT_EQ(suggested_memory_high(4 * kGiB) % 4096, 0u);

  // An OOM kill makes it a warning; a rule that already advises memory.high suppresses it.
  s.cgroups.value->groups[1].events["oom_kill"] = 1;
  Evaluation e2;
  apply_context(e2, c, model::make_snapshot(s, std::nullopt));
  ASSERT_EQ(e2.findings.size(), 1u);
  EXPECT_EQ(e2.findings[0].severity, Severity::warning);
  Evaluation e3;
  Finding rule;
  Recommendation mh;
  mh.kind = RecommendationKind::cgroup;
  mh.key = "memory.high";
  mh.target = "/pg.slice";
  rule.recommendations = {mh};
  e3.findings = {rule};
  apply_context(e3, c, model::make_snapshot(s, std::nullopt));
  EXPECT_EQ(e3.findings.size(), 1u);
}

TEST(Context, LimitedCgroupWithoutPressureOrWithMemoryHighGetsNoAdvice) {
  model::Sample s;
  s.cgroups.value = model::Cgroups{"v2", "fs/cgroup", "/a", {group("/a", 8 * kGiB, 1 * kGiB)}};
  auto c = detect_context(s);
  EXPECT_TRUE(c.cgroup_limited);
  Evaluation e;
  apply_context(e, c, model::make_snapshot(s, std::nullopt));
  EXPECT_TRUE(e.findings.empty());
  EXPECT_EQ(e.notes.size(), 1u);  // still says host advice is host-wide
  s.cgroups.value->groups[0].current = kGiB * 79 / 10;
  s.cgroups.value->groups[0].high = 7 * kGiB;
  c = detect_context(s);
  EXPECT_EQ(c.memory_high, 7 * kGiB);
  Evaluation e2;
  apply_context(e2, c, model::make_snapshot(s, std::nullopt));
  EXPECT_TRUE(e2.findings.empty());
}

TEST(Context, LiveMachine) {
  collect::CollectOptions opt;
  opt.smaps_rollup = false;
  const auto s = collect::collect_sample(core::RootFs(), opt);
  ASSERT_TRUE(s.sysctl_conf.ok());
  const auto c = detect_context(s);
  // This VM: no container manager in /run, /proc/sys writable, pid 1 in the root cgroup.
  if (s.sysctl_conf.value->container.empty() && !s.sysctl_conf.value->proc_sys_read_only.value_or(false)) {
    bool pid1_root = true;
    if (s.processes.value) {
      for (const auto& p : *s.processes.value) {
        if (p.pid == 1 && !p.cgroup.empty() && p.cgroup != "/" && p.cgroup != "/init.scope") {
          pid1_root = false;
        }
      }
    }
    EXPECT_EQ(c.in_container, !pid1_root);
  } else {
    EXPECT_TRUE(c.in_container);
  }
  if (s.cgroups.value) {
    EXPECT_EQ(c.cgroup, s.cgroups.value->self_path);
  }
}

}  // namespace
}  // namespace vmtune::rules
