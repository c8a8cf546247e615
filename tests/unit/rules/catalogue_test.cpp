// SPDX-License-Identifier: GPL-2.0-or-later
// The shipped catalogue (rules/*.toml): it loads, every rule is well formed, and it evaluates
// on this machine's live state without a crash.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "collect/collector.hpp"
#include "core/root_fs.hpp"
#include "rules/audit.hpp"
#include "rules/engine.hpp"
#include "test_support.hpp"

namespace vmtune::rules {
namespace {

std::vector<Rule> catalogue() {
  auto rules = load_rule_dirs({RuleDir{std::filesystem::path(VMTUNE_SOURCE_DIR) / "rules"}});
  EXPECT_TRUE(rules.ok()) << (rules.ok() ? "" : rules.error().to_string());
  return rules.ok() ? *rules : std::vector<Rule>{};
}

TEST(Catalogue, LoadsWithAtLeast25WellFormedRules) {
  const auto rules = catalogue();
  EXPECT_GE(rules.size(), 25u);
  std::set<std::string> ids;
  for (const auto& r : rules) {
    EXPECT_TRUE(ids.insert(r.id).second) << r.id;
    EXPECT_FALSE(r.title.empty()) << r.id;
    EXPECT_FALSE(r.rationale.empty()) << r.id;
    EXPECT_FALSE(r.references.empty()) << r.id << " cites nothing";
    for (const auto& ref : r.references) EXPECT_EQ(ref.rfind("http", 0), 0u) << r.id << ": " << ref;
    EXPECT_TRUE(r.when.type() == Type::boolean || r.when.type() == Type::any) << r.id;
  }
}

// apply --verify measures what each rule names; a rule that changes a value names the harm it
// is meant to relieve explicitly (the loader's default is only for third-party rules).
TEST(Catalogue, EveryRuleNamesTheSymptomsVerifyMeasures) {
  for (const auto& r : catalogue()) {
    EXPECT_FALSE(r.symptoms.empty()) << r.id;
    for (const auto& s : r.symptoms) {
      EXPECT_NE(std::find(kSymptoms.begin(), kSymptoms.end(), s), kSymptoms.end()) << r.id;
    }
    const auto id = [&](const char* prefix) { return r.id.rfind(prefix, 0) == 0; };
    const auto has = [&](const char* s) {
      return std::find(r.symptoms.begin(), r.symptoms.end(), s) != r.symptoms.end();
    };
    if (id("R-DIRTY-")) {
      EXPECT_TRUE(has("writeback")) << r.id;
    }
    if (id("R-SWAP-1") || id("R-SWAP-3")) {  // less swap, traded for file refaults
      EXPECT_TRUE(has("swap") && has("refaults")) << r.id;
    }
    if (id("R-SWAP-2")) {  // swappiness 0 -> 1: some swapping is the point
      EXPECT_FALSE(has("swap")) << r.id;
    }
    for (const auto& rec : r.recommend) {
      if (rec.key == "memory.high") {  // throttles and reclaims by design: only OOM kills count
        EXPECT_EQ(r.symptoms, std::vector<std::string>{"oom"}) << r.id;
      }
    }
    if (id("R-OOM-")) {
      EXPECT_TRUE(has("oom")) << r.id;
    }
    if (id("R-THP-")) {
      EXPECT_TRUE(has("compaction")) << r.id;
    }
  }
}

TEST(Catalogue, CoversTheDomainTopics) {
  std::set<std::string> ids;
  for (const auto& r : catalogue()) ids.insert(r.id);
  for (const char* id :
       {"R-SWAP-1",    "R-SWAP-2", "R-DIRTY-1", "R-DIRTY-2", "R-DIRTY-4", "R-OC-1",
        "R-NUMA-1",    "R-NUMA-2", "R-WM-1",    "R-WM-3",    "R-THP-1",   "R-THP-2",
        "R-THP-3",     "R-HP-2",   "R-PT-1",    "R-MAP-1",   "R-VFS-1",   "R-PSI-1",
        "R-REFAULT-1", "R-OOM-1",  "R-CG-1",    "R-SHM-1"}) {
    EXPECT_TRUE(ids.count(id)) << id;
  }
}

TEST(Catalogue, EvaluatesOnThisMachineWithoutFalseCertainty) {
  const auto rules = catalogue();
  ASSERT_FALSE(rules.empty());
  collect::CollectOptions opt;
  opt.smaps = collect::SmapsRollup::none;
  auto s0 = collect::collect_sample(core::RootFs(), opt);
  auto s1 = collect::collect_sample(core::RootFs(), opt);
  const auto snap = model::make_snapshot(std::move(s1), std::move(s0));
  const Engine engine(rules);
  for (const char* profile : {"general", "database", "latency"}) {
    Config cfg;
    cfg.profile = profile;
    const auto ev = audit(engine, snap, cfg);
    // Every applicable rule is accounted for: a finding, not evaluated, or quiet.
    EXPECT_LE(ev.findings.size() + ev.not_evaluated.size(), rules.size());
    for (const auto& n : ev.not_evaluated) EXPECT_FALSE(n.reason.empty()) << n.rule_id;
    for (std::size_t i = 1; i < ev.findings.size(); ++i) {
      EXPECT_GE(ev.findings[i - 1].severity, ev.findings[i].severity);
    }
    for (const auto& f : ev.findings) {
      for (const auto& r : f.recommendations) {
        EXPECT_FALSE(r.proposed.empty()) << f.rule_id;
        if (!r.current.empty()) {
          EXPECT_FALSE(same_setting(r.current, r.proposed)) << f.rule_id;
        }
      }
    }
  }
}

}  // namespace
}  // namespace vmtune::rules
