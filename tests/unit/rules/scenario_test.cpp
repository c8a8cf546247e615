// SPDX-License-Identifier: GPL-2.0-or-later
// Table-driven: every tests/data/scenarios/<rule>-fires|quiet*/ tree is read the way
// `vmtune audit --root` reads it (snapshot::open_root + collect_sample, two readings when the
// tree has meta.json), evaluated with the real catalogue in rules/, and compared with the
// scenario's expected.json: exactly these findings, in this order, with these severities and
// recommendations; the listed rules not evaluated. Together the scenarios make every rule fire
// in one tree and stay quiet in another (asserted at the end).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "catalogue.hpp"
#include "rules/audit.hpp"
#include "rules/engine.hpp"
#include "sampler/sampler.hpp"
#include "test_support.hpp"

namespace vmtune::rules {
namespace {

namespace fs = std::filesystem;

fs::path scenarios_dir() { return test::test_data() / "scenarios"; }

std::vector<std::string> scenario_names() {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(scenarios_dir())) {
    if (e.is_directory() && fs::exists(e.path() / "expected.json")) {
      out.push_back(e.path().filename().string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

using test::catalogue;

Evaluation evaluate_scenario(const fs::path& dir) {
  sampler::Origin origin;
  origin.root = dir.string();
  auto input = sampler::Sampler::open(origin);
  EXPECT_TRUE(input.ok()) << dir << ": " << (input.ok() ? "" : input.error().to_string());
  if (!input.ok()) return {};
  const auto window = input->window(0, sampler::Options{});
  EXPECT_FALSE(window.samples.empty());
  if (window.samples.empty()) return {};
  const auto snap = window.snapshot();
  Config cfg;
  if (fs::exists(dir / "vmtune.toml")) {
    auto c = load_config(dir / "vmtune.toml", "vmtune.toml");
    EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().to_string());
    if (c.ok()) cfg = *c;
  }
  return rules::audit(catalogue(), snap, cfg);
}

std::string describe(const Evaluation& ev) {
  std::string s;
  for (const auto& f : ev.findings) {
    s += "  " + f.rule_id + " " + to_string(f.severity) + "\n";
    for (const auto& r : f.recommendations) {
      s += "    " + std::string(to_string(r.kind)) + " " + r.key + " [" + r.target + "] '" +
           r.current + "' -> '" + r.proposed + "'\n";
    }
  }
  for (const auto& n : ev.not_evaluated)
    s += "  not evaluated " + n.rule_id + ": " + n.reason + "\n";
  return s;
}

class Scenario : public ::testing::TestWithParam<std::string> {};

TEST_P(Scenario, GivesExactlyTheExpectedFindings) {
  const auto dir = scenarios_dir() / GetParam();
  const auto expected = nlohmann::json::parse(test::slurp(dir / "expected.json"));
  const auto ev = evaluate_scenario(dir);
  SCOPED_TRACE(GetParam() + " (" + expected.value("description", "") + ")\n" + describe(ev));
  const auto& want = expected.at("findings");
  ASSERT_EQ(ev.findings.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    const auto& f = ev.findings[i];
    EXPECT_EQ(f.rule_id, want[i].at("rule_id").get<std::string>());
    EXPECT_EQ(to_string(f.severity), want[i].at("severity").get<std::string>()) << f.rule_id;
    EXPECT_FALSE(f.title.empty());
    EXPECT_FALSE(f.rationale.empty());
    const auto& recs = want[i].at("recommendations");
    ASSERT_EQ(f.recommendations.size(), recs.size()) << f.rule_id;
    for (std::size_t j = 0; j < recs.size(); ++j) {
      const auto& r = f.recommendations[j];
      EXPECT_EQ(to_string(r.kind), recs[j].at("kind").get<std::string>()) << f.rule_id;
      EXPECT_EQ(r.key, recs[j].at("key").get<std::string>()) << f.rule_id;
      EXPECT_EQ(r.current, recs[j].at("current").get<std::string>()) << f.rule_id << " " << r.key;
      EXPECT_EQ(r.proposed, recs[j].at("proposed").get<std::string>()) << f.rule_id << " " << r.key;
      EXPECT_EQ(r.target, recs[j].value("target", "")) << f.rule_id << " " << r.key;
    }
  }
  for (const auto& id : expected.at("not_evaluated")) {
    const bool listed = std::any_of(ev.not_evaluated.begin(), ev.not_evaluated.end(),
                                    [&](const NotEvaluated& n) { return n.rule_id == id; });
    EXPECT_TRUE(listed) << id.get<std::string>() << " should be listed as not evaluated";
  }
  for (const auto& n : ev.not_evaluated) EXPECT_FALSE(n.reason.empty()) << n.rule_id;
}

INSTANTIATE_TEST_SUITE_P(Trees, Scenario, ::testing::ValuesIn(scenario_names()),
                         [](const ::testing::TestParamInfo<std::string>& p) {
                           std::string n = p.param;
                           for (auto& c : n) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return n;
                         });

// Every rule of the catalogue this helper owns has a scenario where it fires and one where it
// stays quiet. (Rules of postgres.toml have their own scenarios.)
TEST(Scenarios, EveryRuleFiresSomewhereAndIsQuietSomewhere) {
  std::set<std::string> fires;
  std::set<std::string> quiet;
  for (const auto& name : scenario_names()) {
    const auto cut =
        name.find("-fires") != std::string::npos ? name.find("-fires") : name.find("-quiet");
    if (cut == std::string::npos) continue;
    const auto id = name.substr(0, cut);
    const auto expected =
        nlohmann::json::parse(test::slurp(scenarios_dir() / name / "expected.json"));
    bool fired = false;
    for (const auto& f : expected.at("findings")) fired |= f.at("rule_id") == id;
    (fired ? fires : quiet).insert(id);
    EXPECT_EQ(fired, name.find("-fires") != std::string::npos) << name;
  }
  for (const auto& r : catalogue().rules()) {
    if (r.file.find("postgres.toml") != std::string::npos) continue;
    EXPECT_TRUE(fires.count(r.id)) << r.id << " has no -fires scenario";
    EXPECT_TRUE(quiet.count(r.id)) << r.id << " has no -quiet scenario";
  }
}

}  // namespace
}  // namespace vmtune::rules
