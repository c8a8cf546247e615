// SPDX-License-Identifier: GPL-2.0-or-later
// Golden-file tests of the three audit formats. Regenerate after an intended change with
//   VMTUNE_UPDATE_GOLDEN=1 build/<dir>/unit_audit --gtest_filter='AuditReport*'
// and review the diff of tests/unit/audit/golden/.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "collect/meminfo.hpp"
#include "collect/sysctl.hpp"
#include "collect/sysctl_conf.hpp"
#include "collect/vmstat.hpp"
#include "collect/zoneinfo.hpp"
#include "plan/plan.hpp"
#include "rules/audit.hpp"
#include "test_support.hpp"
#include "ui/report/audit_json.hpp"
#include "ui/report/audit_markdown.hpp"
#include "ui/report/audit_text.hpp"

namespace vmtune::ui::report {
namespace {

namespace fs = std::filesystem;

fs::path golden_dir() { return fs::path(VMTUNE_SOURCE_DIR) / "tests/unit/audit/golden"; }

void check_golden(const std::string& name, std::string got) {
  // Paths of this checkout differ between machines.
  const std::string src = VMTUNE_SOURCE_DIR;
  for (std::size_t pos; (pos = got.find(src)) != std::string::npos;)
    got.replace(pos, src.size(), "<src>");
  test::check_golden_file(golden_dir() / name, got);
}

// A report with every element and hostile strings (ESC, bidi override, '|', '`', bad UTF-8).
AuditReport hand_built() {
  AuditReport r;
  r.host.hostname = "db\x1b[31m01";
  r.host.kernel_release = "6.18.0-test";
  r.host.cpus = 2;
  r.host.page_size = 4096;
  r.live = false;
  r.input = "/tmp/snap|shot.tar.gz";
  r.window_s = 3.0;
  r.rules_loaded = 3;
  r.evaluation.context.in_container = true;
  r.evaluation.context.container = "docker";
  r.evaluation.context.reasons = {"container manager \"docker\" named in /run"};
  rules::Finding f;
  f.rule_id = "R-DIRTY-1";
  f.title = "Dirty limits are ratios `on` a | large host";
  f.severity = rules::Severity::critical;
  f.evidence = {{"MemTotal", "meminfo.MemTotal", 25275387904.0, "25275387904", "bytes"},
                {"thp", "thp.enabled", std::nullopt, "always", ""},
                {"swap-in", "rate(vmstat.pswpin)", 12.5, "12.5", "pages/s"}};
  f.rationale =
      "Line one of a long rationale that has to wrap because it is longer than the "
      "terminal width of one hundred columns, and \u202e reversed text.";
  f.references = {"https://docs.kernel.org/admin-guide/sysctl/vm.html#dirty-bytes"};
  rules::Recommendation rec;
  rec.key = "vm.dirty_bytes";
  rec.current = "0";
  rec.proposed = "1073741824";
  rec.note = "host-wide setting";
  rec.provenance =
      rules::Provenance{"/etc/sysctl.d/90-x.conf", 4, {{"/etc/sysctl.d/10-\xff.conf", 2, "5"}}};
  rec.effects = {{"dirty threshold (writers throttled)", 4870000640.0, 1073741824.0, "bytes"}};
  rec.apply = "sysctl -w vm.dirty_bytes=1073741824";
  rules::Recommendation cg;
  cg.kind = rules::RecommendationKind::cgroup;
  cg.key = "memory.high";
  cg.target = "/pg.slice";
  cg.current = "max";
  cg.proposed = "3865468928";
  cg.host_level = false;
  cg.apply = "echo 3865468928 > /sys/fs/cgroup/pg.slice/memory.high `x` \x1b[31m";  // hostile
  f.recommendations = {rec, cg};
  f.rule_file = "rules/dirty.toml";
  rules::Finding w;
  w.rule_id = "R-THP-1";
  w.title = "THP always";
  w.severity = rules::Severity::warning;
  r.evaluation.findings = {f, w};
  r.evaluation.not_evaluated = {
      {"R-PSI-1", "Memory pressure", "needs /proc/pressure/memory: missing", ""}};
  r.evaluation.notes = {"sysctl vm.swappiness is set to different values: a wins"};
  r.unavailable = {{"psi", "/proc/pressure/memory", 0, "", "not present (No such file)"},
                   {"sysctl_conf", "/etc/sysctl.d/x.conf", 7, "gar|bage", "not an assignment"}};
  return r;
}

TEST(AuditReportGolden, HandBuiltText) {
  check_golden("hand_built.txt", render_audit_text(hand_built(), false));
}
TEST(AuditReportGolden, HandBuiltTextColor) {
  check_golden("hand_built.color.txt", render_audit_text(hand_built(), true));
}
TEST(AuditReportGolden, HandBuiltMarkdown) {
  check_golden("hand_built.md", render_audit_markdown(hand_built()));
}
TEST(AuditReportGolden, HandBuiltJson) {
  check_golden("hand_built.json", render_audit_json(hand_built()));
}

TEST(AuditReport, UntrustedTextIsEscapedInEveryFormat) {
  const auto r = hand_built();
  const auto text = render_audit_text(r, false);
  EXPECT_EQ(text.find('\x1b'), std::string::npos);  // no raw ESC without colour
  EXPECT_EQ(text.find("\u202e"), std::string::npos);
  EXPECT_NE(text.find("db\\x1b[31m01"), std::string::npos);
  const auto md = render_audit_markdown(r);
  EXPECT_EQ(md.find("snap|shot"), std::string::npos);  // '|' would break the table
  EXPECT_EQ(md.find('\x1b'), std::string::npos);
  const auto j = json::Json::parse(render_audit_json(r));  // invalid UTF-8 did not throw
  EXPECT_EQ(j["schema"], "vmtune-audit");
  EXPECT_EQ(j["version"], 1);
  EXPECT_EQ(j["summary"]["critical"], 1);
  EXPECT_EQ(j["summary"]["warning"], 1);
  EXPECT_EQ(j["summary"]["not_evaluated"], 1);
  EXPECT_EQ(j["findings"][0]["recommendations"][0]["provenance"]["conflicts"][0]["line"], 2);
  EXPECT_EQ(j["findings"][0]["recommendations"][1]["host_level"], false);
  EXPECT_EQ(j["findings"][0]["evidence"][1]["value"], nullptr);
  EXPECT_EQ(j["context"]["in_container"], true);
}

TEST(AuditReport, ColourOnlyWhenAsked) {
  const auto r = hand_built();
  EXPECT_EQ(render_audit_text(r, false).find("\033["), std::string::npos);
  EXPECT_NE(render_audit_text(r, true).find("\033[1;31m[CRITICAL]"), std::string::npos);
}

TEST(AuditReport, QuantitiesForPeople) {
  EXPECT_EQ(format_quantity(1073741824.0, "bytes"), "1.00 GiB");
  EXPECT_EQ(format_quantity(12, "pages"), "12 pages");
  EXPECT_EQ(format_quantity(3.5, "%"), "3.5%");
  EXPECT_EQ(format_quantity(0.1234, ""), "0.123");
}

// The whole audit pipeline on a fixed tree captured from this machine (tests/data/audit-golden:
// meminfo, vmstat, zoneinfo, vm sysctls, conflicting sysctl.d files) with fixed test rules.
AuditReport pipeline_report() {
  const auto tree = test::test_data() / "audit-golden";
  const auto fs = core::RootFs::under(tree);
  model::Sample s;
  s.host.hostname = "golden";
  s.host.kernel_release = "6.18-golden";
  s.host.cpus = 2;
  s.host.page_size = 4096;
  collect::read_meminfo(fs, s);
  collect::read_vmstat(fs, s);
  collect::read_zoneinfo(fs, s);
  collect::read_sysctl(fs, s);
  collect::read_sysctl_conf(fs, s);
  const auto snap = model::make_snapshot(s, std::nullopt);
  auto engine = rules::Engine::load(
      {rules::RuleDir{fs::path(VMTUNE_SOURCE_DIR) / "tests/unit/audit/rules", false}});
  EXPECT_TRUE(engine.ok()) << engine.error().to_string();
  AuditReport r;
  if (!engine) return r;
  r.evaluation = rules::audit(*engine, snap, rules::Config{});
  plan::attach_apply_lines(r.evaluation, snap);
  r.host = s.host;
  r.live = false;
  r.input = "tests/data/audit-golden";
  r.rules_loaded = engine->rules().size();
  r.unavailable = s.unavailable;
  return r;
}

TEST(AuditReportGolden, PipelineText) {
  check_golden("pipeline.txt", render_audit_text(pipeline_report(), false));
}
TEST(AuditReportGolden, PipelineMarkdown) {
  check_golden("pipeline.md", render_audit_markdown(pipeline_report()));
}
TEST(AuditReportGolden, PipelineJson) {
  check_golden("pipeline.json", render_audit_json(pipeline_report()));
}

TEST(AuditReport, PipelineCarriesProvenanceEffectsAndNotEvaluated) {
  const auto j = audit_to_json(pipeline_report());
  ASSERT_EQ(j["findings"].size(), 2u);
  EXPECT_EQ(j["findings"][0]["rule_id"], "T-WM-1");  // critical first
  const auto& wm = j["findings"][0]["recommendations"][0];
  EXPECT_EQ(wm["key"], "vm.watermark_scale_factor");
  EXPECT_EQ(wm["provenance"]["source"], "kernel default");
  EXPECT_FALSE(wm["effects"].empty());
  const auto& sw = j["findings"][0]["recommendations"][1];
  EXPECT_EQ(sw["provenance"]["source"], "/etc/sysctl.d/60-site.conf");
  EXPECT_EQ(sw["provenance"]["conflicts"][0]["file"], "/usr/lib/sysctl.d/50-vm.conf");
  const auto& dirty = j["findings"][1]["recommendations"][1];
  EXPECT_EQ(dirty["key"], "vm.dirty_bytes");
  EXPECT_EQ(dirty["provenance"]["source"], "/etc/sysctl.d/90-undo.conf");
  EXPECT_EQ(dirty["effects"][0]["after"], 1073741824.0);
  ASSERT_EQ(j["not_evaluated"].size(), 1u);
  EXPECT_EQ(j["not_evaluated"][0]["rule_id"], "T-PSI-1");
  bool conflict_note = false;
  for (const auto& n : j["notes"]) {
    conflict_note |=
        n.get<std::string>().find("vm.dirty_bytes is set to different values") != std::string::npos;
  }
  EXPECT_TRUE(conflict_note);
}

}  // namespace
}  // namespace vmtune::ui::report
