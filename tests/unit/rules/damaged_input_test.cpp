// SPDX-License-Identifier: GPL-2.0-or-later
// Damaged input never gives a finding. Each test copies a project tree (tests/data/live-debian12
// or a scenario tree) into a temporary directory, damages it the way a cut read or a full disk
// does (a meminfo line cut before its unit, a sysctl reading `abc`, an empty file), reads it the
// way `vmtune audit --root` does (sampler::Sampler, as the scenario tests), evaluates
// the real catalogue in rules/, and asserts that every rule needing a damaged field is listed as
// not evaluated with the collector's reason (file, line, field) and does not fire.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "catalogue.hpp"
#include "core/temp_dir.hpp"
#include "rules/audit.hpp"
#include "rules/engine.hpp"
#include "rules/metrics.hpp"
#include "sampler/sampler.hpp"
#include "test_support.hpp"

namespace vmtune::rules {
namespace {

namespace fs = std::filesystem;

using test::catalogue;

/// One reading of `dir`, as `vmtune audit --root dir` takes it.
model::Snapshot read_tree(const fs::path& dir) {
  sampler::Origin origin;
  origin.root = dir.string();
  auto input = sampler::Sampler::open(origin);
  EXPECT_TRUE(input.ok()) << dir << ": " << (input.ok() ? "" : input.error().to_string());
  if (!input.ok()) return {};
  const auto window = input->window(0, sampler::Options{});
  EXPECT_EQ(window.samples.size(), 1u);
  return window.snapshot();
}

Evaluation evaluate(const model::Snapshot& snap) {
  return rules::audit(catalogue(), snap, Config{});
}

std::optional<std::string> not_evaluated(const Evaluation& ev, const std::string& id) {
  for (const auto& n : ev.not_evaluated) {
    if (n.rule_id == id) return n.reason;
  }
  return std::nullopt;
}

bool fired(const Evaluation& ev, const std::string& id) {
  return std::any_of(ev.findings.begin(), ev.findings.end(),
                     [&](const Finding& f) { return f.rule_id == id; });
}

std::string describe(const Evaluation& ev) {
  std::string s;
  for (const auto& f : ev.findings) {
    s += "  fired " + f.rule_id + "\n";
    for (const auto& r : f.recommendations) s += "    " + r.key + " -> " + r.proposed + "\n";
  }
  for (const auto& n : ev.not_evaluated)
    s += "  not evaluated " + n.rule_id + ": " + n.reason + "\n";
  return s;
}

bool has_entry(const model::Sample& s, const std::string& source, const std::string& path, int line,
               const std::string& field) {
  return std::any_of(s.unavailable.begin(), s.unavailable.end(), [&](const model::Unavailable& u) {
    return u.source == source && u.path == path && u.line == line && u.field == field;
  });
}

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary | std::ios::trunc) << text;
}

/// A private copy of a project tree.
struct TreeCopy {
  core::TempDir tmp;
  fs::path root;
};

std::optional<TreeCopy> copy_tree(const fs::path& from) {
  auto tmp = core::TempDir::create("vmtune-damaged-");
  EXPECT_TRUE(tmp.ok());
  if (!tmp.ok()) return std::nullopt;
  const auto root = tmp->path() / "tree";
  fs::copy(from, root, fs::copy_options::recursive);
  return TreeCopy{std::move(*tmp), root};
}

/// Moves the MemTotal line to the end of meminfo and cuts it before its unit, the way a read
/// cut short leaves it: "MemTotal:  2468" with no newline. Returns that line's number.
int cut_memtotal_last(const fs::path& meminfo) {
  std::ifstream in(meminfo);
  std::string line;
  std::string rest;
  int lines = 0;
  while (std::getline(in, line)) {
    if (line.rfind("MemTotal:", 0) == 0) continue;
    rest += line + "\n";
    ++lines;
  }
  write(meminfo, rest + "MemTotal:  2468");
  return lines + 1;
}

const fs::path kLive = test::test_data() / "live-debian12";
const fs::path kScenarios = test::test_data() / "scenarios";

// The undamaged tree: the rules the damage tests look at are evaluated (and quiet), so "not
// evaluated" below is the damage's doing.
TEST(DamagedInput, BaselineLiveTreeEvaluatesTheRules) {
  const auto snap = read_tree(kLive);
  const auto ev = evaluate(snap);
  SCOPED_TRACE(describe(ev));
  for (const char* id : {"R-WM-1", "R-WM-2", "R-NUMA-1"}) {
    EXPECT_FALSE(not_evaluated(ev, id)) << id;
    EXPECT_FALSE(fired(ev, id)) << id;
  }
}

// The three reported cases together on a copy of the live capture.
TEST(DamagedInput, LiveTreeWithCutMeminfoAbcSwappinessAndEmptyZoneReclaim) {
  auto t = copy_tree(kLive);
  ASSERT_TRUE(t);
  const int line = cut_memtotal_last(t->root / "proc/meminfo");
  write(t->root / "proc/sys/vm/swappiness", "abc\n");
  write(t->root / "proc/sys/vm/zone_reclaim_mode", "");
  write(t->root / "sys/devices/system/node/node0/meminfo", "");

  const auto snap = read_tree(t->root);
  const auto& s = snap.current;
  ASSERT_TRUE(s.meminfo.ok());
  EXPECT_EQ(s.meminfo.value->fields.count("MemTotal"), 0u);
  EXPECT_TRUE(has_entry(s, "meminfo", "/proc/meminfo", line, "MemTotal"));
  EXPECT_EQ(s.sysctl.value->values.count("vm.swappiness"), 0u);
  EXPECT_TRUE(has_entry(s, "sysctl", "/proc/sys/vm/swappiness", 1, "vm.swappiness"));
  EXPECT_EQ(s.sysctl.value->values.count("vm.zone_reclaim_mode"), 0u);
  EXPECT_TRUE(has_entry(s, "sysctl", "/proc/sys/vm/zone_reclaim_mode", 1, "vm.zone_reclaim_mode"));
  EXPECT_TRUE(has_entry(s, "numa", "/sys/devices/system/node/node0/meminfo", 0, ""));

  const auto ev = evaluate(snap);
  SCOPED_TRACE(describe(ev));
  const std::string memtotal = "needs /proc/meminfo:" + std::to_string(line) +
                               ": field \"MemTotal\": expected \"<n> kB\": the unit is missing";
  EXPECT_EQ(not_evaluated(ev, "R-WM-1"), memtotal);
  EXPECT_EQ(not_evaluated(ev, "R-NUMA-1"),
            "needs /proc/sys/vm/zone_reclaim_mode:1: field \"vm.zone_reclaim_mode\": expected an "
            "integer: empty");
  EXPECT_FALSE(fired(ev, "R-WM-1"));
  EXPECT_FALSE(fired(ev, "R-NUMA-1"));
  // No recommendation anywhere is computed from the cut value (min_free_kbytes = 128).
  for (const auto& f : ev.findings) {
    for (const auto& r : f.recommendations) {
      EXPECT_NE(r.key, "vm.min_free_kbytes") << f.rule_id << " proposes " << r.proposed;
      EXPECT_NE(r.key, "vm.zone_reclaim_mode") << f.rule_id;
    }
    for (const auto& e : f.evidence) {
      // Evidence that needs a damaged field says so instead of showing a value.
      if (e.expression == "meminfo.MemTotal") {
        EXPECT_EQ(e.text, "unavailable: " + memtotal);
      }
    }
  }
}

// The reported R-WM-1 case on its own: before strict parsing, 2,468 bytes of MemTotal made it
// fire and propose vm.min_free_kbytes = 128.
TEST(DamagedInput, CutMemTotalNeverProposesMinFreeKbytes128) {
  auto t = copy_tree(kScenarios / "R-WM-1-quiet");
  ASSERT_TRUE(t);
  const int line = cut_memtotal_last(t->root / "proc/meminfo");
  const auto ev = evaluate(read_tree(t->root));
  SCOPED_TRACE(describe(ev));
  EXPECT_TRUE(ev.findings.empty());
  EXPECT_EQ(not_evaluated(ev, "R-WM-1"),
            "needs /proc/meminfo:" + std::to_string(line) +
                ": field \"MemTotal\": expected \"<n> kB\": the unit is missing");
}

// `abc` != 0 is not true: the rule is not evaluated.
TEST(DamagedInput, AbcSysctlIsNotANonZeroValue) {
  auto t = copy_tree(kScenarios / "R-NUMA-1-quiet");
  ASSERT_TRUE(t);
  write(t->root / "proc/sys/vm/zone_reclaim_mode", "abc\n");
  const auto ev = evaluate(read_tree(t->root));
  SCOPED_TRACE(describe(ev));
  EXPECT_FALSE(fired(ev, "R-NUMA-1"));
  EXPECT_EQ(not_evaluated(ev, "R-NUMA-1"),
            "needs /proc/sys/vm/zone_reclaim_mode:1: field \"vm.zone_reclaim_mode\": expected an "
            "integer (or integers separated by blanks): not a number");
}

// The same for a rule that fires on the real value: swappiness 0 with swap present.
TEST(DamagedInput, AbcSwappinessMakesTheSwapRuleNotEvaluated) {
  auto t = copy_tree(kScenarios / "R-SWAP-2-fires");
  ASSERT_TRUE(t);
  write(t->root / "proc/sys/vm/swappiness", "abc");
  const auto ev = evaluate(read_tree(t->root));
  SCOPED_TRACE(describe(ev));
  EXPECT_FALSE(fired(ev, "R-SWAP-2"));
  EXPECT_EQ(not_evaluated(ev, "R-SWAP-2"),
            "needs /proc/sys/vm/swappiness:1: field \"vm.swappiness\": expected an integer (or "
            "integers separated by blanks): not a number");
}

// A snapshot extracted onto a full disk reads every file as empty: nothing may fire, and every
// rule that needs a file says why it was not evaluated.
TEST(DamagedInput, EveryFileEmptyGivesNoFinding) {
  auto t = copy_tree(kLive);
  ASSERT_TRUE(t);
  std::size_t emptied = 0;
  for (const auto& e : fs::recursive_directory_iterator(t->root)) {
    if (e.is_regular_file() && e.path().filename() != "README.md") {
      fs::resize_file(e.path(), 0);
      ++emptied;
    }
  }
  ASSERT_GT(emptied, 50u);
  const auto snap = read_tree(t->root);
  const auto ev = evaluate(snap);
  SCOPED_TRACE(describe(ev));
  EXPECT_TRUE(ev.findings.empty());
  EXPECT_FALSE(ev.not_evaluated.empty());
  for (const auto& n : ev.not_evaluated) EXPECT_FALSE(n.reason.empty()) << n.rule_id;
  EXPECT_FALSE(snap.current.meminfo.ok());
  EXPECT_FALSE(snap.current.vmstat.ok());
  // Every sysctl read empty: none of them is a value.
  if (snap.current.sysctl.value) {
    for (const auto& [k, v] : snap.current.sysctl.value->values) {
      EXPECT_EQ(k, "vm.stat_refresh") << "empty " << k << " kept as a value";
    }
  }
}

// ---- the metric registry on damaged samples --------------------------------------------------

Eval metric(const model::Snapshot& snap, const std::string& name) {
  auto m = lookup_metric(name);
  EXPECT_TRUE(m.ok()) << name;
  if (!m.ok()) return Eval::absent("no metric");
  return m->get(EvalContext{snap, "general", std::nullopt});
}

model::Snapshot snapshot_of(model::Sample s) {
  return model::make_snapshot(std::move(s), std::nullopt);
}

// A sample replayed from an older capture may hold an empty sysctl: it is not a value.
TEST(DamagedInputMetrics, EmptySysctlTextIsNotMeasured) {
  model::Sample s;
  s.sysctl.state = model::SourceState::ok;
  s.sysctl.value = model::Sysctl{{{"vm.zone_reclaim_mode", ""}, {"vm.swappiness", "60"}}};
  const auto snap = snapshot_of(s);
  const auto z = metric(snap, "sysctl.vm.zone_reclaim_mode");
  EXPECT_FALSE(z.ok());
  EXPECT_EQ(z.missing, "sysctl vm.zone_reclaim_mode is empty (not measured)");
  EXPECT_EQ(std::get<double>(*metric(snap, "sysctl.vm.swappiness").value), 60);
  EXPECT_EQ(current_setting(RecommendationKind::sysctl, "vm.zone_reclaim_mode", "", snap),
            std::nullopt);
}

// A field absent because it was damaged gives the collector's reason, not "not on this kernel".
TEST(DamagedInputMetrics, AbsentFieldNamesTheDamage) {
  model::Sample s;
  s.meminfo.state = model::SourceState::ok;
  s.meminfo.value = model::MemInfo{{{"MemFree", 1024}}};
  s.unavailable.push_back(model::Unavailable{"meminfo", "/proc/meminfo", 7, "MemTotal",
                                             "expected \"<n> kB\": the unit is missing"});
  const auto snap = snapshot_of(s);
  EXPECT_EQ(metric(snap, "meminfo.MemTotal").missing,
            "needs /proc/meminfo:7: field \"MemTotal\": expected \"<n> kB\": the unit is missing");
  EXPECT_EQ(metric(snap, "meminfo.Cached").missing, "meminfo.Cached is absent on this kernel");
  EXPECT_FALSE(metric(snap, "mem_available_pct").ok());
}

// Sums over zones are not computed from the zones that happened to parse.
TEST(DamagedInputMetrics, ZoneSumsAreNotComputedOverADamagedFile) {
  model::Sample s;
  s.zones.state = model::SourceState::ok;
  model::Zone a;
  a.name = "Normal";
  a.min = 100;
  a.managed = 1000;
  model::Zone b;
  b.name = "DMA32";
  b.managed = 500;  // its "min" line was damaged
  s.zones.value = std::vector<model::Zone>{a, b};
  s.unavailable.push_back(
      model::Unavailable{"zoneinfo", "/proc/zoneinfo", 30, "min",
                         "expected \"<name> <unsigned integer>\": not a number"});
  const auto snap = snapshot_of(s);
  EXPECT_EQ(metric(snap, "zones.min_pages").missing,
            "needs /proc/zoneinfo:30: field \"min\": expected \"<name> <unsigned integer>\": not a "
            "number");
  EXPECT_EQ(std::get<double>(*metric(snap, "zones.managed_pages").value), 1500);
}

// GCC 12 at -O2 reports a false -Wmaybe-uninitialized inside std::vector's move into the
// optional below (the same family as GCC PR 105329); the code is well-defined.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
// Aggregates over a file with a damaged row (swaps, buddyinfo) are not computed either.
TEST(DamagedInputMetrics, SwapAndBuddyAggregatesNeedAnUndamagedFile) {
  model::Sample s;
  s.swaps.state = model::SourceState::ok;
  s.swaps.value = std::vector<model::SwapDevice>{};
  s.buddyinfo.state = model::SourceState::ok;
  s.buddyinfo.value = std::vector<model::BuddyZone>{model::BuddyZone{0, "Normal", {1, 2, 3}}};
  s.unavailable.push_back(
      model::Unavailable{"swaps", "/proc/swaps", 2, "Size", "expected a size in kB: not a number"});
  s.unavailable.push_back(model::Unavailable{"buddyinfo", "/proc/buddyinfo", 2, "order1",
                                             "expected an unsigned block count: not a number"});
  const auto snap = snapshot_of(s);
  EXPECT_EQ(metric(snap, "swaps.count").missing,
            "needs /proc/swaps:2: field \"Size\": expected a size in kB: not a number");
  EXPECT_FALSE(metric(snap, "buddy.free_pages").ok());
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

}  // namespace
}  // namespace vmtune::rules
