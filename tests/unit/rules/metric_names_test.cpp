// SPDX-License-Identifier: GPL-2.0-or-later
// Checked metric names: every name a rule uses must be in the registry when the rule loads. A
// misspelled name is a load error at its position in the file, with a "did you mean"; a known
// field the running kernel does not print is "absent on this kernel" when the rule runs, which
// is not the same as a source vmtune could not read.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "collect/meminfo.hpp"
#include "collect/vmstat.hpp"
#include "core/root_fs.hpp"
#include "rules/engine.hpp"
#include "rules/loader.hpp"
#include "rules/metrics.hpp"
#include "test_support.hpp"

namespace vmtune::rules {
namespace {

namespace fs = std::filesystem;
using test::shared_fixtures;
using test::slurp;
using test::test_data;

std::string rule_with(const std::string& when, const std::string& id = "T-1") {
  return "[[rule]]\n"
         "id = \"" +
         id +
         "\"\n"
         "title = \"t\"\n"
         "severity = \"warning\"\n"
         "when = \"" +
         when +
         "\"\n"
         "rationale = \"r\"\n"
         "references = [\"https://docs.kernel.org/\"]\n";
}

std::string load_error(const std::string& text) {
  auto r = parse_rule_file(text, "rules/t.toml");
  EXPECT_FALSE(r.ok());
  return r.ok() ? std::string() : r.error().to_string();
}

// ---- load time ---------------------------------------------------------------------------------

TEST(MetricNames, AMisspelledFieldFailsToLoadAtItsPositionWithASuggestion) {
  // `when = "` is 8 characters: the name starts at column 9 of line 5, or later in the string.
  EXPECT_EQ(load_error(rule_with("meminfo.Dirtty > 0")),
            "rules/t.toml:5:9: field \"when\": unknown metric 'meminfo.Dirtty' (did you mean "
            "'meminfo.Dirty'?): Dirtty is not a /proc/meminfo field");
  EXPECT_EQ(load_error(rule_with("meminfo.MemTotal > 0 or rate(vmstat.pgscan_drect) > 1")),
            "rules/t.toml:5:38: field \"when\": unknown metric 'vmstat.pgscan_drect' (did you "
            "mean 'vmstat.pgscan_direct'?): pgscan_drect is not a /proc/vmstat counter");
  EXPECT_EQ(load_error(rule_with("sysctl.vm.swapiness > 10")),
            "rules/t.toml:5:9: field \"when\": unknown metric 'sysctl.vm.swapiness' (did you "
            "mean 'sysctl.vm.swappiness'?): vm.swapiness is not a sysctl vmtune reads");
}

TEST(MetricNames, SuggestionsCoverCaseSectionsFixedNamesAndDerivedMetrics) {
  const auto message = [](const std::string& name) {
    auto m = lookup_metric(name);
    EXPECT_FALSE(m.ok()) << name;
    return m.ok() ? std::string() : m.error().message;
  };
  const auto suggests = [&](const std::string& name, const std::string& meant) {
    EXPECT_NE(message(name).find("(did you mean '" + meant + "'?)"), std::string::npos)
        << name << ": " << message(name);
  };
  suggests("meminfo.dirty", "meminfo.Dirty");  // the kernel's spelling wins
  suggests("meminfo.MemTotl", "meminfo.MemTotal");
  suggests("meminfoo.MemTotal", "meminfo.MemTotal");
  suggests("vmstatt.pswpin", "vmstat.pswpin");
  suggests("zones.min_page", "zones.min_pages");
  suggests("thp.khugepaged.defarg", "thp.khugepaged.defrag");
  suggests("cgroups.worst.usage_pc", "cgroups.worst.usage_pct");
  suggests("cgroups.worst.events.oom_kil", "cgroups.worst.events.oom_kill");
  suggests("direct_reclaim_rat", "direct_reclaim_rate");
  suggests("postgres.setting.shared_buffer", "postgres.setting.shared_buffers");
  // Nothing close: no guess.
  EXPECT_EQ(message("meminfo.Zzzzzzzz").find("did you mean"), std::string::npos);
  EXPECT_EQ(message("meminfo.Dirty1234567890").find("did you mean"), std::string::npos);
}

TEST(MetricNames, DeclaredPrefixesAcceptTheirDynamicKeys) {
  for (const char* name :
       {"hugepages.2048kB.nr", "hugepages.1048576kB.free", "hugepages.default.resv",
        "postgres.stat.io.client_backend.reads", "postgres.stat.checkpointer.num_timed",
        "bpf.counter.kswapd_wakes", "bpf.hist.direct_reclaim_us.p99", "meminfo.`Active(file)`",
        "sysctl.`vm.page-cluster`"}) {
    std::string n = name;
    n.erase(std::remove(n.begin(), n.end(), '`'), n.end());
    EXPECT_TRUE(lookup_metric(n).ok()) << n;
  }
  EXPECT_FALSE(lookup_metric("postgres.stat.io.").ok());
  EXPECT_FALSE(lookup_metric("postgres.stat.blks_hit").ok());  // database.blks_hit
  EXPECT_TRUE(lookup_rate("cgroups.worst.stat.pgscan_direct").ok());
  EXPECT_FALSE(lookup_rate("cgroups.worst.stat.pgscan_directt").ok());
}

// The registry knows every field of every real /proc/meminfo and /proc/vmstat we have: the
// team's fixtures (kernels 3.10 to 6.18; the 2.4-era gopsutil issue1002 file predates any
// kernel vmtune supports) and the project's own trees.
TEST(MetricNames, EveryFieldOfEveryRealFileIsKnown) {
  std::vector<fs::path> roots = {test_data()};
  if (fs::exists(shared_fixtures() / "expected.json")) roots.push_back(shared_fixtures());
  std::size_t files = 0;
  for (const auto& root : roots) {
    for (const auto& e : fs::recursive_directory_iterator(root)) {
      const auto p = e.path().generic_string();
      if (!e.is_regular_file() || p.find("issue1002") != std::string::npos) continue;
      const bool mem = p.ends_with("proc/meminfo") || p.ends_with("linux-proc/meminfo") ||
                       p.ends_with("procfs/meminfo");
      const bool vm = p.ends_with("proc/vmstat") || p.ends_with("linux-proc/vmstat") ||
                      p.ends_with("procfs/vmstat");
      if (!mem && !vm) continue;
      ++files;
      const auto text = slurp(e.path());
      std::vector<std::string> keys;
      if (mem) {
        if (auto m = collect::parse_meminfo(text, p, nullptr)) {
          for (const auto& [k, v] : m->fields) keys.push_back("meminfo." + k);
        }
      } else if (auto v = collect::parse_vmstat(text, p, nullptr)) {
        for (const auto& [k, n] : v->counters) keys.push_back("vmstat." + k);
      }
      for (const auto& k : keys) {
        auto m = lookup_metric(k);
        EXPECT_TRUE(m.ok()) << p << ": " << (m.ok() ? "" : m.error().message);
      }
    }
  }
  EXPECT_GT(files, 10u);
}

// Every vm.* file of every fixture /proc/sys/vm directory is a known sysctl.
TEST(MetricNames, EverySysctlOfTheFixturesIsKnown) {
  VMTUNE_REQUIRE_SHARED_FIXTURES();
  for (const auto& root : {shared_fixtures(), test_data()}) {
    for (const auto& e : fs::recursive_directory_iterator(root)) {
      const auto p = e.path().generic_string();
      if (!e.is_regular_file() || p.find("/proc/sys/vm/") == std::string::npos) continue;
      const auto name = "sysctl.vm." + e.path().filename().string();
      EXPECT_TRUE(lookup_metric(name).ok()) << p;
    }
  }
}

// ---- run time ----------------------------------------------------------------------------------

model::Snapshot tree_snapshot(const fs::path& dir) {
  const auto root = core::RootFs::under(dir);
  model::Sample s;
  collect::read_meminfo(root, s);
  collect::read_vmstat(root, s);
  return model::make_snapshot(std::move(s), std::nullopt);
}

// Linux 4.13 (go-sysinfo's Ubuntu 17.10 fixture) has workingset_refault, not the _file/_anon
// counters of 5.9, and a pre-3.14 meminfo has no MemAvailable: the rule is not evaluated, and
// says why in words that differ from a file vmtune could not read.
TEST(MetricNames, AFieldAnOlderKernelLacksIsAbsentOnThisKernel) {
  VMTUNE_REQUIRE_SHARED_FIXTURES();
  auto rules = parse_rule_file(rule_with("vmstat.workingset_refault_file > 0") +
                                   rule_with("meminfo.MemAvailable < 1GiB", "T-2"),
                               "rules/t.toml");
  ASSERT_TRUE(rules.ok()) << rules.error().to_string();
  const Engine engine(*rules);
  auto old_vm = tree_snapshot(shared_fixtures() / "elastic-go-sysinfo/ubuntu1710");
  const auto old_mem =
      tree_snapshot(shared_fixtures() / "elastic-agent-system-metrics/memory/oldkern");
  old_vm.current.meminfo = old_mem.current.meminfo;
  const auto ev = engine.evaluate(model::make_snapshot(old_vm.current, std::nullopt), Config{});
  ASSERT_EQ(ev.not_evaluated.size(), 2u);
  EXPECT_EQ(ev.not_evaluated[0].rule_id, "T-1");
  EXPECT_EQ(ev.not_evaluated[0].reason, "vmstat.workingset_refault_file is absent on this kernel");
  EXPECT_EQ(ev.not_evaluated[1].rule_id, "T-2");
  EXPECT_EQ(ev.not_evaluated[1].reason, "meminfo.MemAvailable is absent on this kernel");

  // The same rules on a machine whose /proc/vmstat could not be read: not measured.
  model::Sample unread;
  unread.vmstat.state = model::SourceState::permission_denied;
  unread.vmstat.error =
      core::make_error(core::ErrorKind::permission_denied, "/proc/vmstat", "Permission denied");
  const auto ev2 = engine.evaluate(model::make_snapshot(unread, std::nullopt), Config{});
  ASSERT_EQ(ev2.not_evaluated.size(), 2u);
  EXPECT_EQ(ev2.not_evaluated[0].reason, "needs /proc/vmstat: permission_denied");
  EXPECT_EQ(ev2.not_evaluated[1].reason, "needs meminfo: not collected");
}

}  // namespace
}  // namespace vmtune::rules
