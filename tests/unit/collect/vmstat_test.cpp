// SPDX-License-Identifier: GPL-2.0-or-later
#include "collect/vmstat.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "collect/collector.hpp"
#include "core/parse.hpp"
#include "core/temp_dir.hpp"
#include "strict_support.hpp"
#include "test_support.hpp"

namespace vmtune::collect {
namespace {

using test::shared_expected;
using test::shared_fixtures;
using test::slurp;

model::VmStat parse_fixture(const std::string& rel) {
  std::vector<core::Error> bad;
  auto m = parse_vmstat(slurp(shared_fixtures() / rel), "/proc/vmstat", &bad);
  EXPECT_TRUE(m.ok()) << rel << ": " << (m.ok() ? "" : m.error().to_string());
  EXPECT_TRUE(bad.empty()) << rel << ": " << (bad.empty() ? "" : bad.front().to_string());
  return m.ok() ? *m : model::VmStat{};
}

// Number of non-blank lines: every one is a counter and must be kept.
std::size_t counter_lines(const std::string& text) {
  std::size_t n = 0;
  for (const auto& l : core::split_lines(text)) n += core::trim(l.text).empty() ? 0 : 1;
  return n;
}

TEST(Vmstat, EveryFixtureParsesAndKeepsEveryCounter) {
  VMTUNE_REQUIRE_SHARED_FIXTURES();
  const char* files[] = {"prometheus-node_exporter/proc/vmstat",
                         "kellyjonbrazil-jc/linux-proc/vmstat",
                         "sysstat/root1/proc/vmstat",
                         "sysstat/root2/proc/vmstat",
                         "sysstat/root3/proc/vmstat",
                         "elastic-go-sysinfo/ubuntu1710/proc/vmstat",
                         "facebookincubator-below/procfs/vmstat",
                         "live-firecracker-6.18/proc/vmstat",
                         "performancecopilot-pcp/meminfo-root-001/proc/vmstat",
                         "performancecopilot-pcp/meminfo-root-002/proc/vmstat",
                         "performancecopilot-pcp/meminfo-root-003/proc/vmstat",
                         "performancecopilot-pcp/meminfo-root-004/proc/vmstat",
                         "performancecopilot-pcp/meminfo-root-005/proc/vmstat",
                         "performancecopilot-pcp/meminfo-root-006/proc/vmstat",
                         "performancecopilot-pcp/meminfo-root-007/proc/vmstat"};
  for (const char* rel : files) {
    const auto text = slurp(shared_fixtures() / rel);
    const auto m = parse_fixture(rel);
    EXPECT_EQ(m.counters.size(), counter_lines(text)) << rel;
    EXPECT_GT(m.counters.size(), 50u) << rel;
  }
}

// jc copies every line of the file as printed: all 147 must match.
TEST(Vmstat, MatchesJcFieldByField) {
  VMTUNE_REQUIRE_SHARED_FIXTURES();
  const std::string rel = "kellyjonbrazil-jc/linux-proc/vmstat";
  const auto m = parse_fixture(rel);
  int checked = 0;
  for (const auto& [key, value] : shared_expected().at(rel).items()) {
    if (key[0] == '_') continue;
    ASSERT_TRUE(m.counters.count(key)) << key;
    EXPECT_EQ(m.counters.at(key), value.get<std::uint64_t>()) << key;
    ++checked;
  }
  EXPECT_EQ(checked, 147);
}

TEST(Vmstat, MatchesBelowElasticAndNodeExporter) {
  VMTUNE_REQUIRE_SHARED_FIXTURES();
  for (const std::string rel :
       {"facebookincubator-below/procfs/vmstat", "elastic-go-sysinfo/ubuntu1710/proc/vmstat"}) {
    const auto m = parse_fixture(rel);
    int checked = 0;
    for (const auto& [key, value] : shared_expected().at(rel).items()) {
      if (key[0] == '_') continue;
      ASSERT_TRUE(m.counters.count(key)) << rel << " " << key;
      EXPECT_EQ(m.counters.at(key), value.get<std::uint64_t>()) << rel << " " << key;
      ++checked;
    }
    EXPECT_GE(checked, 3) << rel;
  }
  // node_exporter exports node_vmstat_<name> with the raw value (pgpgin stays KiB, as printed).
  const std::string rel = "prometheus-node_exporter/proc/vmstat";
  const auto m = parse_fixture(rel);
  int checked = 0;
  for (const auto& [key, value] : shared_expected().at(rel).items()) {
    if (key[0] == '_') continue;
    const std::string name = key.substr(std::string("node_vmstat_").size());
    ASSERT_TRUE(m.counters.count(name)) << name;
    EXPECT_EQ(m.counters.at(name), value.get<std::uint64_t>()) << name;
    ++checked;
  }
  EXPECT_EQ(checked, 7);
}

// PCP exports mem.vmstat.<name> as printed, plus a few sums it derives itself (or zero-fills
// for kernels without the counter); those are the only names allowed to be missing.
TEST(Vmstat, MatchesPcpEveryRawCounter) {
  VMTUNE_REQUIRE_SHARED_FIXTURES();
  const std::set<std::string> pcp_derived = {"nr_slab",
                                             "pgdemote_total",
                                             "pgscan_direct_total",
                                             "pgscan_khugepaged",
                                             "pgscan_kswapd_total",
                                             "pgsteal_khugepaged",
                                             "pgsteal_total",
                                             "thp_split"};
  for (int i = 1; i <= 7; ++i) {
    const std::string rel =
        "performancecopilot-pcp/meminfo-root-00" + std::to_string(i) + "/proc/vmstat";
    const auto m = parse_fixture(rel);
    int checked = 0;
    for (const auto& [key, value] : shared_expected().at(rel).items()) {
      if (key[0] == '_') continue;
      const std::string name = key.substr(std::string("mem.vmstat.").size());
      if (!m.counters.count(name)) {
        EXPECT_TRUE(pcp_derived.count(name)) << rel << ": " << name << " missing";
        continue;
      }
      EXPECT_EQ(m.counters.at(name), value.get<std::uint64_t>()) << rel << " " << name;
      ++checked;
    }
    EXPECT_GT(checked, 110) << rel;
  }
}

TEST(Vmstat, BadValueIsReportedWithLineAndFieldAndTheRestKept) {
  const std::string text = "nr_free_pages 100\npgfault 12x\n\npgmajfault 7\ngarbage\n";
  std::vector<core::Error> bad;
  auto m = parse_vmstat(text, "/proc/vmstat", &bad);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->counters.size(), 2u);
  EXPECT_EQ(m->counters.at("nr_free_pages"), 100u);
  EXPECT_EQ(m->counters.at("pgmajfault"), 7u);
  ASSERT_EQ(bad.size(), 2u);
  EXPECT_EQ(bad[0].path, "/proc/vmstat");
  EXPECT_EQ(bad[0].line, 2);
  EXPECT_EQ(bad[0].field, "pgfault");
  EXPECT_EQ(bad[0].kind, core::ErrorKind::parse_error);
  EXPECT_EQ(bad[1].line, 5);
  EXPECT_EQ(bad[1].field, "garbage");
}

TEST(Vmstat, EmptyAndGarbageFilesAreErrors) {
  auto empty = parse_vmstat("", "/proc/vmstat", nullptr);
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().to_string(), "/proc/vmstat: file is empty");
  std::vector<core::Error> bad;
  auto garbage = parse_vmstat(std::string("\x01\x02\xff\n\0\0 \x7f", 9), "/proc/vmstat", &bad);
  ASSERT_FALSE(garbage.ok());
  EXPECT_EQ(garbage.error().kind, core::ErrorKind::parse_error);
  EXPECT_FALSE(bad.empty());
}

TEST(Vmstat, TruncatedMidLineKeepsCompleteLines) {
  VMTUNE_REQUIRE_SHARED_FIXTURES();
  auto text = slurp(shared_fixtures() / "kellyjonbrazil-jc/linux-proc/vmstat");
  const auto cut = text.find("nr_page_table_pages");  // cut inside a name
  ASSERT_NE(cut, std::string::npos);
  text.resize(cut + 8);
  std::vector<core::Error> bad;
  auto m = parse_vmstat(text, "/proc/vmstat", &bad);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->counters.at("nr_free_pages"), 615337u);
  EXPECT_EQ(m->counters.at("nr_mlock"), 4897u);
  EXPECT_EQ(m->counters.count("nr_page_table_pages"), 0u);
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_EQ(bad[0].field, "nr_page_");  // the cut line, named as far as it got
}

TEST(Vmstat, MissingFileBecomesUnavailableNotACrash) {
  auto tmp = core::TempDir::create("vmtune-test-");
  ASSERT_TRUE(tmp.ok());
  std::filesystem::create_directories(tmp->path() / "proc");
  model::Sample s;
  read_vmstat(core::RootFs::under(tmp->path()), s);
  EXPECT_FALSE(s.vmstat.ok());
  EXPECT_EQ(s.vmstat.state, model::SourceState::missing);
  ASSERT_EQ(s.unavailable.size(), 1u);
  EXPECT_EQ(s.unavailable[0].source, "vmstat");
  EXPECT_EQ(s.unavailable[0].path, "/proc/vmstat");
}

TEST(Vmstat, BadLineInATreeKeepsTheSourceAndRecordsTheProblem) {
  auto tmp = core::TempDir::create("vmtune-test-");
  ASSERT_TRUE(tmp.ok());
  std::filesystem::create_directories(tmp->path() / "proc");
  std::ofstream(tmp->path() / "proc/vmstat") << "nr_free_pages 5\npgfault -3\n";
  model::Sample s;
  read_vmstat(core::RootFs::under(tmp->path()), s);
  ASSERT_TRUE(s.vmstat.ok());
  EXPECT_EQ(s.vmstat.state, model::SourceState::ok);
  EXPECT_EQ(s.vmstat.value->counters.at("nr_free_pages"), 5u);
  ASSERT_EQ(s.unavailable.size(), 1u);
  EXPECT_EQ(s.unavailable[0].line, 2);
  EXPECT_EQ(s.unavailable[0].field, "pgfault");
}

TEST(Vmstat, ProjectTreeLiveDebian12) {
  model::Sample s;
  read_vmstat(core::RootFs::under(test::test_data() / "live-debian12"), s);
  ASSERT_TRUE(s.vmstat.ok()) << s.vmstat.reason();
  EXPECT_TRUE(s.unavailable.empty());
  const auto& c = s.vmstat.value->counters;
  // 6.18 counters that older kernels lack: the parser must keep names it does not know.
  for (const char* k : {"nr_free_pages", "pgfault", "pgmajfault", "workingset_refault_file",
                        "pgsteal_file", "allocstall_normal", "compact_stall", "thp_fault_alloc",
                        "nr_dirty_threshold", "nr_dirty_background_threshold"}) {
    EXPECT_TRUE(c.count(k)) << k;
  }
  EXPECT_LE(c.at("nr_dirty_background_threshold"), c.at("nr_dirty_threshold"));
  EXPECT_LE(c.at("pgmajfault"), c.at("pgfault"));
}

TEST(Vmstat, LiveRead) {
  model::Sample s;
  read_vmstat(core::RootFs(), s);
  ASSERT_TRUE(s.vmstat.ok()) << s.vmstat.reason();
  EXPECT_TRUE(s.unavailable.empty());
  const auto& c = s.vmstat.value->counters;
  EXPECT_EQ(c.size(), counter_lines(slurp("/proc/vmstat")));
  ASSERT_TRUE(c.count("pgfault"));
  EXPECT_GT(c.at("pgfault"), 0u);
  EXPECT_GT(c.at("nr_free_pages"), 0u);
}

// The whole file-based collection on this machine: every section this collector set owns
// must come back ok, with nothing of theirs in `unavailable` when run as root.
TEST(ProcCollectors, LiveCollectSampleFillsTheProcSections) {
  CollectOptions opt;
  opt.processes = false;
  opt.cgroups = false;
  const auto s = collect_sample(core::RootFs(), opt);
  EXPECT_TRUE(s.vmstat.ok()) << s.vmstat.reason();
  EXPECT_TRUE(s.zones.ok()) << s.zones.reason();
  EXPECT_TRUE(s.buddyinfo.ok()) << s.buddyinfo.reason();
  EXPECT_TRUE(s.psi.ok()) << s.psi.reason();
  EXPECT_TRUE(s.sysctl.ok()) << s.sysctl.reason();
  EXPECT_TRUE(s.swaps.ok()) << s.swaps.reason();
  if (test::running_as_root()) {
    for (const auto& u : s.unavailable) {
      for (const char* mine : {"vmstat", "zoneinfo", "buddyinfo", "psi", "sysctl", "swaps"}) {
        EXPECT_NE(u.source, mine) << u.path << ": " << u.reason;
      }
    }
  }
  ASSERT_TRUE(s.psi.ok());
  EXPECT_TRUE(s.psi.value->some.has_value());
  EXPECT_EQ(s.sysctl.value->values.at("kernel.osrelease"), s.host.kernel_release);
  // Cross-source consistency: zones' free pages against the global counter.
  ASSERT_TRUE(s.zones.ok() && s.vmstat.ok());
  std::uint64_t zone_free = 0, managed = 0;
  for (const auto& z : *s.zones.value) {
    zone_free += z.free.value_or(0);
    managed += z.managed.value_or(0);
  }
  const double global_free = static_cast<double>(s.vmstat.value->counters.at("nr_free_pages"));
  EXPECT_NEAR(static_cast<double>(zone_free), global_free, 0.05 * static_cast<double>(managed));
}

// Strict parsing: a counter whose value is damaged is absent, with file, line and field.
TEST(VmstatStrict, EachKindOfDamageIsAnErrorForThatCounterOnly) {
  const std::string text =
      "nr_free_pages 100\n"
      "nr_dirty abc\n"                  // not a number
      "nr_writeback\n"                  // value missing (line cut)
      "pgfault 99999999999999999999\n"  // out of range
      "pgmajfault -1\n"                 // negative
      "pswpin 12x\n"                    // trailing characters
      "pswpout 1 2\n"                   // one word too many
      "nr_dirty_threshold 4000";        // no final newline: fine
  std::vector<core::Error> bad;
  auto v = parse_vmstat(text, "/proc/vmstat", &bad);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->counters, (model::Counters{{"nr_free_pages", 100}, {"nr_dirty_threshold", 4000}}));
  const std::string want = "expected \"<name> <unsigned integer>\": ";
  EXPECT_EQ(
      test::error_strings(bad),
      (std::vector<std::string>{
          "/proc/vmstat:2: field \"nr_dirty\": " + want + "not a number",
          "/proc/vmstat:3: field \"nr_writeback\": " + want + "the value is missing",
          "/proc/vmstat:4: field \"pgfault\": " + want + "out of range",
          "/proc/vmstat:5: field \"pgmajfault\": " + want + "negative",
          "/proc/vmstat:6: field \"pswpin\": " + want + "trailing characters after the number",
          "/proc/vmstat:7: field \"pswpout\": " + want + "trailing characters after the number",
      }));
}

TEST(VmstatStrict, EmptyFileIsAnErrorNotZeroCounters) {
  for (const char* empty : {"", "\n", " \n\n"}) {
    auto r = parse_vmstat(empty, "/proc/vmstat", nullptr);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, core::ErrorKind::parse_error);
    EXPECT_EQ(r.error().to_string(), "/proc/vmstat: file is empty");
  }
  auto tmp = core::TempDir::create("vmtune-test-");
  ASSERT_TRUE(tmp.ok());
  std::filesystem::create_directories(tmp->path() / "proc");
  std::ofstream(tmp->path() / "proc/vmstat") << "";
  model::Sample s;
  read_vmstat(core::RootFs::under(tmp->path()), s);
  EXPECT_FALSE(s.vmstat.ok());
  EXPECT_EQ(test::unavailable_strings(s),
            std::vector<std::string>{"vmstat|/proc/vmstat|0||file is empty"});
}

}  // namespace
}  // namespace vmtune::collect
