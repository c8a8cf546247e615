// SPDX-License-Identifier: GPL-2.0-or-later
#include "rules/context.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>

#include "catalogue.hpp"
#include "collect/collector.hpp"
#include "collect/sysctl_conf.hpp"
#include "model/context.hpp"
#include "rules/audit.hpp"
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

const Finding* find_finding(const Evaluation& e, const std::string& id) {
  for (const auto& f : e.findings) {
    if (f.rule_id == id) return &f;
  }
  return nullptr;
}

/// The evaluation's notes and reasons, for a failing assertion's message.
std::string explain(const Evaluation& e) {
  std::string out;
  for (const auto& n : e.notes) out += "note: " + n + "\n";
  for (const auto& n : e.not_evaluated)
    out += "not evaluated " + n.rule_id + ": " + n.reason + "\n";
  for (const auto& f : e.findings) out += "finding " + f.rule_id + "\n";
  return out;
}

bool is_not_evaluated(const Evaluation& e, const std::string& id) {
  for (const auto& n : e.not_evaluated) {
    if (n.rule_id == id) return true;
  }
  return false;
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
  const auto c = model::detect_context(s);
  EXPECT_FALSE(c.restricted());
  auto e = eval_with_sysctl_and_thp();
  apply_context(e, c);
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
  const auto c = model::detect_context(s);
  EXPECT_TRUE(c.in_container);
  EXPECT_EQ(c.container, "docker");
  EXPECT_EQ(c.reasons.size(), 2u);
  auto e = eval_with_sysctl_and_thp();
  apply_context(e, c);
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
  EXPECT_TRUE(model::detect_context(s).in_container);
  s.processes.value->front().cgroup = "/init.scope";
  EXPECT_FALSE(model::detect_context(s).in_container);
}

TEST(Context, LimitedCgroupUnderPressureGetsMemoryHighAdvice) {
  model::Sample s;
  auto parent = group("/pg.slice", 4 * kGiB);
  auto self = group("/pg.slice/db.service", kMax, kGiB * 38 / 10);
  parent.current = kGiB * 3;  // 75 %: below R-CG-1's 90 %, but memory.max was hit
  parent.events = {{"low", 0}, {"high", 0}, {"max", 17}, {"oom", 0}, {"oom_kill", 0}};
  s.cgroups.value = model::Cgroups{
      "v2", "fs/cgroup", "/pg.slice/db.service", {group("/", std::nullopt), parent, self}};
  const auto c = model::detect_context(s);
  EXPECT_TRUE(c.cgroup_limited);
  EXPECT_FALSE(c.in_container);
  EXPECT_EQ(c.memory_max, 4 * kGiB);
  EXPECT_EQ(c.limit_from, "/pg.slice");
  EXPECT_EQ(c.memory_current, kGiB * 38 / 10);

  // The advice is the catalogue's rule CTX-CGROUP-HIGH (rules/cgroups.toml), run by audit().
  const auto e = audit(test::catalogue(), model::make_snapshot(s, std::nullopt), Config{});
  const auto* f = find_finding(e, "CTX-CGROUP-HIGH");
  ASSERT_NE(f, nullptr) << explain(e);
  EXPECT_EQ(f->severity, Severity::info);  // max events, no OOM kill
  ASSERT_EQ(f->recommendations.size(), 1u);
  const auto& r = f->recommendations[0];
  EXPECT_EQ(r.kind, RecommendationKind::cgroup);
  EXPECT_EQ(r.key, "memory.high");
  EXPECT_EQ(r.target, "/pg.slice");
  EXPECT_FALSE(r.host_level);
  // floor(0.9 * 4 GiB) = 3865470566, rounded down to 4 KiB.
  EXPECT_EQ(r.proposed, std::to_string(3865468928ull));
  EXPECT_EQ(e.context.limit_from, "/pg.slice");
  EXPECT_FALSE(e.notes.empty());

  // An OOM kill makes it a warning.
  s.cgroups.value->groups[1].events["oom_kill"] = 1;
  const auto e2 = audit(test::catalogue(), model::make_snapshot(s, std::nullopt), Config{});
  f = find_finding(e2, "CTX-CGROUP-HIGH");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->severity, Severity::warning);

  // When R-CG-1 already advises memory.high for the same cgroup (it is the one nearest its
  // memory.max and has no memory.high), the context rule stays quiet: one piece of advice.
  s.cgroups.value->groups[1].current = kGiB * 39 / 10;
  const auto e3 = audit(test::catalogue(), model::make_snapshot(s, std::nullopt), Config{});
  ASSERT_NE(find_finding(e3, "R-CG-1"), nullptr);
  EXPECT_EQ(find_finding(e3, "CTX-CGROUP-HIGH"), nullptr);
}

TEST(Context, LimitedCgroupWithoutPressureOrWithMemoryHighGetsNoAdvice) {
  model::Sample s;
  s.cgroups.value = model::Cgroups{"v2", "fs/cgroup", "/a", {group("/a", 8 * kGiB, 1 * kGiB)}};
  s.cgroups.value->groups[0].events = {{"high", 0}, {"max", 0}, {"oom", 0}, {"oom_kill", 0}};
  auto c = model::detect_context(s);
  EXPECT_TRUE(c.cgroup_limited);
  const auto e = audit(test::catalogue(), model::make_snapshot(s, std::nullopt), Config{});
  EXPECT_EQ(find_finding(e, "CTX-CGROUP-HIGH"), nullptr);
  EXPECT_FALSE(is_not_evaluated(e, "CTX-CGROUP-HIGH"));
  // It still says that host advice is host-wide.
  EXPECT_EQ(std::count_if(e.notes.begin(), e.notes.end(),
                          [](const std::string& n) { return n.find("vmtune runs in") == 0; }),
            1)
      << explain(e);
  s.cgroups.value->groups[0].current = kGiB * 79 / 10;
  s.cgroups.value->groups[0].high = 7 * kGiB;
  c = model::detect_context(s);
  EXPECT_EQ(c.memory_high, 7 * kGiB);
  const auto e2 = audit(test::catalogue(), model::make_snapshot(s, std::nullopt), Config{});
  EXPECT_EQ(find_finding(e2, "CTX-CGROUP-HIGH"), nullptr);
}

TEST(Context, LiveMachine) {
  collect::CollectOptions opt;
  opt.smaps = collect::SmapsRollup::none;
  const auto s = collect::collect_sample(core::RootFs(), opt);
  ASSERT_TRUE(s.sysctl_conf.ok());
  const auto c = model::detect_context(s);
  // This VM: no container manager in /run, /proc/sys writable, pid 1 in the root cgroup.
  if (s.sysctl_conf.value->container.empty() &&
      !s.sysctl_conf.value->proc_sys_read_only.value_or(false)) {
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
