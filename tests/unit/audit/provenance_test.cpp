// SPDX-License-Identifier: GPL-2.0-or-later
#include "rules/provenance.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "collect/sysctl_conf.hpp"
#include "core/temp_dir.hpp"
#include "test_support.hpp"

namespace vmtune::rules {
namespace {

namespace fs = std::filesystem;

model::SysctlAssignment set(std::string file, int line, std::string key, std::string value) {
  return model::SysctlAssignment{std::move(file), line, std::move(key), std::move(value), false};
}

model::SysctlConf conf_of(std::vector<model::SysctlAssignment> a) {
  model::SysctlConf c;
  c.assignments = std::move(a);
  return c;
}

TEST(Provenance, KernelDefaultWhenNoFileSetsTheKey) {
  const auto p = provenance_for(conf_of({set("/etc/sysctl.d/a.conf", 1, "vm.dirty_ratio", "5")}),
                                "vm.swappiness");
  EXPECT_EQ(p.source, "kernel default");
  EXPECT_EQ(p.line, 0);
  EXPECT_TRUE(p.conflicts.empty());
}

TEST(Provenance, LastAssignmentWinsAndDifferentEarlierValuesAreConflicts) {
  const auto c = conf_of({set("/usr/lib/sysctl.d/10-a.conf", 3, "vm.swappiness", "10"),
                          set("/etc/sysctl.d/20-b.conf", 1, "vm.swappiness", "60"),
                          set("/etc/sysctl.d/30-c.conf", 7, "vm.swappiness", " 60 "),
                          set("/etc/sysctl.d/30-c.conf", 8, "vm.dirty_ratio", "10")});
  const auto p = provenance_for(c, "vm.swappiness");
  EXPECT_EQ(p.source, "/etc/sysctl.d/30-c.conf");
  EXPECT_EQ(p.line, 7);
  ASSERT_EQ(p.conflicts.size(), 1u);  // 20-b sets the same value: not a conflict
  EXPECT_EQ(p.conflicts[0].file, "/usr/lib/sysctl.d/10-a.conf");
  EXPECT_EQ(p.conflicts[0].line, 3);
  EXPECT_EQ(p.conflicts[0].value, "10");
}

TEST(Provenance, GlobsAndWhitespaceInValues) {
  EXPECT_TRUE(sysctl_key_matches("net.ipv4.conf.*.rp_filter", "net.ipv4.conf.eth0.rp_filter"));
  EXPECT_FALSE(sysctl_key_matches("net.ipv4.conf.*.rp_filter", "net.ipv4.conf.eth0.arp_filter"));
  EXPECT_FALSE(sysctl_key_matches("vm.swappiness", "vm.swappines"));
  EXPECT_EQ(normalize_sysctl_value("  4096\t 87380   6291456 "), "4096 87380 6291456");
  const auto c = conf_of({set("/etc/sysctl.d/a.conf", 1, "net.ipv4.conf.*.rp_filter", "2"),
                          set("/etc/sysctl.d/b.conf", 1, "net.ipv4.conf.eth0.rp_filter", "1")});
  const auto p = provenance_for(c, "net.ipv4.conf.eth0.rp_filter");
  EXPECT_EQ(p.source, "/etc/sysctl.d/b.conf");
  ASSERT_EQ(p.conflicts.size(), 1u);
  EXPECT_EQ(p.conflicts[0].value, "2");
  EXPECT_EQ(provenance_for(c, "net.ipv4.conf.lo.rp_filter").source, "/etc/sysctl.d/a.conf");
}

TEST(Provenance, FindsEveryConflictingKey) {
  const auto c = conf_of({set("/a.conf", 1, "vm.swappiness", "10"),
                          set("/b.conf", 1, "vm.swappiness", "10"),
                          set("/b.conf", 2, "vm.dirty_bytes", "1"),
                          set("/c.conf", 4, "vm.dirty_bytes", "2"),
                          set("/c.conf", 5, "vm.swappiness", "10")});
  const auto k = find_conflicts(c);
  ASSERT_EQ(k.size(), 1u);
  EXPECT_EQ(k[0].key, "vm.dirty_bytes");
  ASSERT_EQ(k[0].settings.size(), 2u);
  EXPECT_EQ(k[0].settings[1].file, "/c.conf");
  EXPECT_EQ(k[0].settings[1].line, 4);
}

// End to end over a real directory tree: systemd ordering, masking, "-key", /etc/sysctl.conf.
TEST(Provenance, FromATreeReadLikeSystemdSysctl) {
  auto tmp = core::TempDir::create("vmtune-prov-");
  ASSERT_TRUE(tmp.ok());
  auto put = [&](const char* rel, const char* text) {
    const auto p = tmp->path() / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
  };
  put("usr/lib/sysctl.d/50-default.conf", "vm.swappiness = 60\nvm.dirty_ratio = 20\n");
  put("etc/sysctl.d/50-default.conf", "vm.swappiness = 30\n");  // masks the vendor file
  put("run/sysctl.d/60-run.conf", "-vm.dirty_ratio = 12\n");
  put("usr/lib/sysctl.d/70-late.conf", "vm.dirty_background_ratio = 3\n");
  put("etc/sysctl.conf", "\n\nvm.dirty_background_ratio=5\n");
  model::Sample s;
  collect::read_sysctl_conf(core::RootFs::under(tmp->path()), s);
  ASSERT_TRUE(s.sysctl_conf.ok());
  const auto& c = *s.sysctl_conf.value;

  auto p = provenance_for(c, "vm.swappiness");
  EXPECT_EQ(p.source, "/etc/sysctl.d/50-default.conf");  // the masked vendor value never applies
  EXPECT_EQ(p.line, 1);
  EXPECT_TRUE(p.conflicts.empty());

  p = provenance_for(c, "vm.dirty_ratio");  // the vendor file is masked: only /run sets it
  EXPECT_EQ(p.source, "/run/sysctl.d/60-run.conf");
  EXPECT_TRUE(p.conflicts.empty());
  EXPECT_TRUE(effective_assignment(c, "vm.dirty_ratio")->ignore_errors);

  p = provenance_for(c, "vm.dirty_background_ratio");
  EXPECT_EQ(p.source, "/etc/sysctl.conf");
  EXPECT_EQ(p.line, 3);
  ASSERT_EQ(p.conflicts.size(), 1u);
  EXPECT_EQ(p.conflicts[0].file, "/usr/lib/sysctl.d/70-late.conf");
  EXPECT_EQ(p.conflicts[0].value, "3");
}

TEST(Provenance, AttachesToSysctlRecommendationsAndNotesConflictsAndRuntimeChanges) {
  model::Sample s;
  s.sysctl_conf.value = conf_of({set("/etc/sysctl.d/10-a.conf", 2, "vm.swappiness", "10"),
                                 set("/etc/sysctl.d/90-b.conf", 5, "vm.swappiness", "30"),
                                 set("/etc/sysctl.d/10-a.conf", 3, "vm.max_map_count", "1"),
                                 set("/etc/sysctl.d/90-b.conf", 6, "vm.max_map_count", "2")});
  s.sysctl_conf.value->masked = {"/usr/lib/sysctl.d/10-a.conf (masked by 10-a.conf in /etc)"};
  s.sysctl_conf.state = model::SourceState::ok;
  s.sysctl.value = model::Sysctl{{{"vm.swappiness", "60"}, {"vm.dirty_ratio", "20"}}};
  Evaluation eval;
  Finding f;
  f.rule_id = "R-SWAP-1";
  Recommendation r1;
  r1.key = "vm.swappiness";
  r1.current = "60";
  r1.proposed = "1";
  Recommendation r2 = r1;
  r2.key = "vm.dirty_ratio";
  Recommendation thp;
  thp.kind = RecommendationKind::thp;
  thp.key = "enabled";
  f.recommendations = {r1, r2, thp};
  eval.findings.push_back(f);

  attach_provenance(eval, s);
  const auto& recs = eval.findings[0].recommendations;
  ASSERT_TRUE(recs[0].provenance);
  EXPECT_EQ(recs[0].provenance->source, "/etc/sysctl.d/90-b.conf");
  EXPECT_EQ(recs[0].provenance->line, 5);
  ASSERT_EQ(recs[0].provenance->conflicts.size(), 1u);
  // Live 60 differs from the 30 the files set: changed at run time.
  EXPECT_NE(recs[0].note.find("changed at run time"), std::string::npos) << recs[0].note;
  ASSERT_TRUE(recs[1].provenance);
  EXPECT_EQ(recs[1].provenance->source, "kernel default");
  EXPECT_TRUE(recs[1].note.empty());
  EXPECT_FALSE(recs[2].provenance);  // THP is not a sysctl
  // Conflicts are noted for every key, also vm.max_map_count that no rule recommends.
  int conflict_notes = 0;
  bool masked_note = false;
  for (const auto& n : eval.notes) {
    conflict_notes += n.find("is set to different values") != std::string::npos;
    masked_note |= n.find("not applied") != std::string::npos;
  }
  EXPECT_EQ(conflict_notes, 2);
  EXPECT_TRUE(masked_note);
}

TEST(Provenance, NoSectionMeansNothingAttached) {
  model::Sample s;  // sysctl_conf not collected
  Evaluation eval;
  eval.findings.push_back(Finding{});
  eval.findings[0].recommendations.push_back(Recommendation{});
  eval.findings[0].recommendations[0].key = "vm.swappiness";
  attach_provenance(eval, s);
  EXPECT_FALSE(eval.findings[0].recommendations[0].provenance);
  EXPECT_TRUE(eval.notes.empty());
}

}  // namespace
}  // namespace vmtune::rules
