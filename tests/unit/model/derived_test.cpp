// SPDX-License-Identifier: GPL-2.0-or-later
// model::derive (model/derived.hpp): every derived metric of DOMAIN.md §0.3 on real fixture
// files, read through the collectors, with the expected values worked out by hand from the
// files or taken from what the upstream project's own tests assert (sysstat's sar, PCP); then
// the edges: a denominator that did not move, a counter an older kernel lacks, a counter that
// went backwards, one sample, a source that could not be read, a damaged field.
#include "model/derived.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <sstream>

#include "collect/meminfo.hpp"
#include "collect/vmstat.hpp"
#include "collect/zoneinfo.hpp"
#include "core/parse.hpp"
#include "core/root_fs.hpp"
#include "model/derive.hpp"
#include "test_support.hpp"

namespace vmtune::model {
namespace {

namespace fs = std::filesystem;
using test::shared_expected;
using test::shared_fixtures;
using test::slurp;

constexpr double kKiB = 1024;

/// meminfo, vmstat and zoneinfo of a fixture tree, through the collectors.
Sample tree_sample(const fs::path& dir, double monotonic_s = 0) {
  const auto root = core::RootFs::under(dir);
  Sample s;
  collect::read_meminfo(root, s);
  collect::read_vmstat(root, s);
  collect::read_zoneinfo(root, s);
  s.monotonic_s = monotonic_s;
  return s;
}

/// `text` (a /proc/vmstat) with `deltas` added to its counters: the file a machine prints
/// `dt` seconds later, when only those counters moved. A counter the file lacks is an error.
std::string bump(const std::string& text, const std::map<std::string, std::int64_t>& deltas) {
  std::istringstream in(text);
  std::ostringstream out;
  std::set<std::string> seen;
  std::string name;
  std::int64_t value = 0;
  while (in >> name >> value) {
    if (const auto it = deltas.find(name); it != deltas.end()) {
      value += it->second;
      seen.insert(name);
    }
    out << name << ' ' << value << '\n';
  }
  EXPECT_EQ(seen.size(), deltas.size()) << "a bumped counter is not in the file";
  return out.str();
}

/// `base` with its vmstat replaced by `vmstat_text`, `dt` seconds later.
Sample later(const Sample& base, const std::string& vmstat_text, double dt) {
  Sample s = base;
  auto parsed = collect::parse_vmstat(vmstat_text, "/proc/vmstat", nullptr);
  EXPECT_TRUE(parsed.ok());
  if (parsed.ok()) s.vmstat.value = std::move(*parsed);
  s.monotonic_s = base.monotonic_s + dt;
  return s;
}

double value(const Measure& m) {
  EXPECT_TRUE(m.ok()) << m.why_absent;
  return m.ok() ? *m : -1e300;
}

const fs::path kFirecracker = "live-firecracker-6.18";  // Linux 6.18, every counter present

// ---- levels of one sample ----------------------------------------------------------------------

// live-firecracker-6.18: MemTotal 24684096 kB, MemAvailable 24404620, Cached 70436, Shmem 8788,
// PageTables 1640, SecPageTables 0, CommitLimit 12342048, Committed_AS 47364, no swap;
// vmstat nr_dirty 18, nr_writeback 0, nr_dirty_threshold 1219819, background 609165;
// zoneinfo high: DMA 85, DMA32 17223, Normal 8031, Movable 32, Device 0 (pages of 4 KiB).
TEST(Derived, LevelsOfOneRealSample) {
  VMTUNE_REQUIRE_SHARED_FIXTURES();
  const auto d = make_snapshot(tree_sample(shared_fixtures() / kFirecracker), std::nullopt).derived;
  EXPECT_DOUBLE_EQ(value(d.dirty_utilization), 18.0 / 1219819);
  EXPECT_DOUBLE_EQ(value(d.dirty_freerun_ceiling_pages), 914492);  // floor(1828984 / 2)
  EXPECT_DOUBLE_EQ(value(d.pagetables_pct), 100.0 * 1640 / 24684096);
  EXPECT_DOUBLE_EQ(value(d.file_cache_bytes), (70436 - 8788) * kKiB);
  EXPECT_DOUBLE_EQ(value(d.commit_headroom_bytes), (12342048 - 47364) * kKiB);
  EXPECT_DOUBLE_EQ(value(d.mem_available_pct), 100.0 * 24404620 / 24684096);
  EXPECT_DOUBLE_EQ(value(d.swap_used_bytes), 0);
  EXPECT_DOUBLE_EQ(value(d.swap_used_pct), 0);  // no swap at all: 0, not absent
  EXPECT_DOUBLE_EQ(value(d.high_watermark_pct), 100.0 * (85 + 17223 + 8031 + 32) * 4 / 24684096);
}

// PCP qa/821 on its meminfo-root-007 dataset: the values PCP asserts (kB), not the file's.
TEST(Derived, LevelsMatchWhatPcpAsserts) {
  VMTUNE_REQUIRE_SHARED_FIXTURES();
  const std::string ds = "performancecopilot-pcp/meminfo-root-007";
  const auto& util = shared_expected().at(ds + "/proc/meminfo");
  const auto& zones = shared_expected().at(ds + "/proc/zoneinfo").at("mem.zoneinfo.high");
  const double physmem = shared_expected().at(ds + "/").at("mem.physmem").get<double>();
  const auto kb = [&](const char* k) { return util.at(k).get<double>(); };
  double high_kb = 0;
  for (const auto& [zone, v] : zones.items()) high_kb += v.get<double>();

  const auto d = make_snapshot(tree_sample(shared_fixtures() / ds), std::nullopt).derived;
  EXPECT_DOUBLE_EQ(value(d.high_watermark_pct), 100.0 * high_kb / physmem);
  EXPECT_DOUBLE_EQ(value(d.pagetables_pct), 100.0 * kb("mem.util.pageTables") / physmem);
  EXPECT_DOUBLE_EQ(value(d.mem_available_pct), 100.0 * kb("mem.util.available") / physmem);
  EXPECT_DOUBLE_EQ(value(d.file_cache_bytes),
                   (kb("mem.util.cached") - kb("mem.util.shmem")) * kKiB);
  EXPECT_DOUBLE_EQ(value(d.commit_headroom_bytes),
                   (kb("mem.util.commitLimit") - kb("mem.util.committed_AS")) * kKiB);
  EXPECT_DOUBLE_EQ(value(d.swap_used_bytes),
                   (kb("mem.util.swapTotal") - kb("mem.util.swapFree")) * kKiB);
  EXPECT_DOUBLE_EQ(value(d.swap_used_pct), 0);
}

// ---- rates over a window ----------------------------------------------------------------------

// The firecracker vmstat, and the same file 10 s later with known counters moved.
TEST(Derived, RatesAndSharesOverAWindow) {
  VMTUNE_REQUIRE_SHARED_FIXTURES();
  const auto s0 = tree_sample(shared_fixtures() / kFirecracker, 100);
  const auto text = slurp(shared_fixtures() / kFirecracker / "proc/vmstat");
  const auto s1 = later(s0,
                        bump(text, {{"allocstall_normal", 20},
                                    {"allocstall_movable", 10},
                                    {"pgscan_direct", 300},
                                    {"pgscan_kswapd", 700},
                                    {"pgsteal_direct", 240},
                                    {"pgsteal_kswapd", 560},
                                    {"workingset_refault_file", 100},
                                    {"pgsteal_file", 400},
                                    {"pswpin", 50},
                                    {"pswpout", 120},
                                    {"compact_stall", 40},
                                    {"compact_fail", 10},
                                    {"thp_fault_alloc", 90},
                                    {"thp_fault_fallback", 10},
                                    {"numa_hit", 950},
                                    {"numa_miss", 50},
                                    {"oom_kill", 2}}),
                        10);
  const auto d = make_snapshot(s1, s0).derived;
  EXPECT_DOUBLE_EQ(value(d.interval_s), 10);
  EXPECT_DOUBLE_EQ(value(d.direct_reclaim_per_sec), 3);  // (20 + 10) / 10 s
  EXPECT_DOUBLE_EQ(value(d.direct_scan_share), 0.3);     // 300 / (300 + 700)
  EXPECT_DOUBLE_EQ(value(d.reclaim_efficiency), 0.8);    // (560 + 240) / 1000
  EXPECT_DOUBLE_EQ(value(d.file_refault_ratio), 0.25);   // 100 / 400
  EXPECT_DOUBLE_EQ(value(d.swap_in_pages_per_sec), 5);
  EXPECT_DOUBLE_EQ(value(d.swap_out_pages_per_sec), 12);
  EXPECT_DOUBLE_EQ(value(d.compact_stalls_per_sec), 4);
  EXPECT_DOUBLE_EQ(value(d.compact_fail_ratio), 0.25);  // 10 / 40
  EXPECT_DOUBLE_EQ(value(d.thp_fallback_ratio), 0.1);   // 10 / (90 + 10)
  EXPECT_DOUBLE_EQ(value(d.numa_remote_ratio), 0.05);   // 50 / (950 + 50)
  EXPECT_DOUBLE_EQ(value(d.oom_kills_in_window), 2);
}

// sysstat's three successive snapshots of one 5.8 machine (workingset_refault without the
// _file/_anon split, pgsteal_file already there): almost nothing moved, so every share of
// counters is the quiet value, and the levels match what sar prints.
TEST(Derived, RealSuccessiveSnapshotsAreQuiet) {
  VMTUNE_REQUIRE_SHARED_FIXTURES();
  const auto uptime = [](int root) {
    const auto text =
        slurp(shared_fixtures() / ("sysstat/root" + std::to_string(root)) / "proc/uptime");
    return core::parse_double(core::split_ws(text).at(0)).value();
  };
  const auto s1 = tree_sample(shared_fixtures() / "sysstat/root1", uptime(1));
  const auto s2 = tree_sample(shared_fixtures() / "sysstat/root2", uptime(2));
  const auto d = make_snapshot(s2, s1).derived;
  const auto& vm = shared_expected().at("sysstat/root2/proc/vmstat");
  EXPECT_NEAR(value(d.interval_s), vm.at("_interval_seconds").get<double>(), 1e-9);
  EXPECT_DOUBLE_EQ(value(d.direct_reclaim_per_sec), 0);
  EXPECT_DOUBLE_EQ(value(d.direct_scan_share), 0);   // 0 / 0: nothing scanned
  EXPECT_DOUBLE_EQ(value(d.reclaim_efficiency), 1);  // nothing scanned
  EXPECT_DOUBLE_EQ(value(d.file_refault_ratio), 0);  // workingset_refault 0 / pgsteal_file 7
  EXPECT_DOUBLE_EQ(value(d.swap_in_pages_per_sec), 0);
  EXPECT_DOUBLE_EQ(value(d.compact_fail_ratio), 0);
  EXPECT_DOUBLE_EQ(value(d.thp_fallback_ratio), 0);
  EXPECT_DOUBLE_EQ(value(d.numa_remote_ratio), 0);
  EXPECT_DOUBLE_EQ(value(d.oom_kills_in_window), 0);
  // sar -r / -S on root2 (levels come from the later snapshot).
  const auto& r = shared_expected().at("sysstat/root2/proc/meminfo");
  EXPECT_NEAR(value(d.mem_available_pct), 100 - r.at("sar_r/%memused").get<double>(), 0.005);
  EXPECT_DOUBLE_EQ(value(d.swap_used_bytes), r.at("sar_S/kbswpused").get<double>() * kKiB);
  EXPECT_DOUBLE_EQ(value(d.swap_used_pct), r.at("sar_S/%swpused").get<double>());
  EXPECT_DOUBLE_EQ(
      value(d.file_cache_bytes),
      (r.at("sar_r/kbcached").get<double>() - r.at("sar_r/kbshmem").get<double>()) * kKiB);
}

// Ubuntu 17.10 (Linux 4.13): workingset_refault, and no pgsteal_file: the refault ratio falls
// back to the old counter and to the kswapd + direct steal.
TEST(Derived, OlderKernelFallsBackToTheCountersItHas) {
  VMTUNE_REQUIRE_SHARED_FIXTURES();
  const fs::path dir = shared_fixtures() / "elastic-go-sysinfo/ubuntu1710";
  const auto s0 = tree_sample(dir, 50);
  const auto s1 = later(s0,
                        bump(slurp(dir / "proc/vmstat"), {{"workingset_refault", 30},
                                                          {"pgsteal_kswapd", 100},
                                                          {"pgsteal_direct", 20},
                                                          {"allocstall_normal", 4}}),
                        2);
  const auto d = make_snapshot(s1, s0).derived;
  EXPECT_DOUBLE_EQ(value(d.file_refault_ratio), 0.25);  // 30 / (100 + 20)
  EXPECT_DOUBLE_EQ(value(d.direct_reclaim_per_sec), 2);
  // swap_ra exists since 4.13, pswpin since always: both fine; pgpromote_success is 6.0+.
  EXPECT_TRUE(d.swap_in_pages_per_sec.ok());
}

// ---- edges ----------------------------------------------------------------------------------

Sample counters_sample(double t, Counters vmstat, Counters meminfo = {}) {
  Sample s;
  s.monotonic_s = t;
  s.vmstat.state = SourceState::ok;
  s.vmstat.value = VmStat{std::move(vmstat)};
  s.meminfo.state = SourceState::ok;
  s.meminfo.value = MemInfo{std::move(meminfo)};
  return s;
}

TEST(Derived, ADenominatorThatDidNotMoveGivesTheQuietValue) {
  const Counters c = {{"pgscan_direct", 5},   {"pgscan_kswapd", 9},           {"pgsteal_direct", 1},
                      {"pgsteal_kswapd", 2},  {"compact_stall", 3},           {"compact_fail", 1},
                      {"thp_fault_alloc", 7}, {"thp_fault_fallback", 0},      {"numa_hit", 4},
                      {"numa_miss", 0},       {"workingset_refault_file", 6}, {"pgsteal_file", 8}};
  const auto d = make_snapshot(counters_sample(20, c), counters_sample(10, c)).derived;
  EXPECT_DOUBLE_EQ(value(d.direct_scan_share), 0);
  EXPECT_DOUBLE_EQ(value(d.reclaim_efficiency), 1);
  EXPECT_DOUBLE_EQ(value(d.file_refault_ratio), 0);
  EXPECT_DOUBLE_EQ(value(d.compact_fail_ratio), 0);
  EXPECT_DOUBLE_EQ(value(d.thp_fallback_ratio), 0);
  EXPECT_DOUBLE_EQ(value(d.numa_remote_ratio), 0);
}

TEST(Derived, ACounterAbsentOnThisKernelSaysSo) {
  const Counters c = {
      {"pgscan_direct", 5}, {"allocstall", 3}, {"pgsteal_kswapd", 1}, {"pgsteal_direct", 1}};
  const auto d =
      make_snapshot(counters_sample(20, c, {{"MemTotal", 1 << 30}}), counters_sample(10, c))
          .derived;
  EXPECT_EQ(d.direct_scan_share.why_absent, "vmstat.pgscan_kswapd is absent on this kernel");
  // Before 4.10 there was one allocstall counter, not one per zone.
  EXPECT_EQ(d.direct_reclaim_per_sec.why_absent,
            "vmstat has no allocstall_* counters on this kernel");
  // Neither refault counter: the reason names the current one.
  EXPECT_EQ(d.file_refault_ratio.why_absent,
            "vmstat.workingset_refault_file is absent on this kernel");
  EXPECT_EQ(d.mem_available_pct.why_absent, "meminfo.MemAvailable is absent on this kernel");
  EXPECT_EQ(d.dirty_utilization.why_absent, "vmstat.nr_dirty is absent on this kernel");
  EXPECT_EQ(d.high_watermark_pct.why_absent, "needs zoneinfo: not collected");
}

TEST(Derived, ACounterThatWentBackwardsIsAbsentNeverNegative) {
  const auto before =
      counters_sample(10, {{"pgscan_direct", 500}, {"pgscan_kswapd", 100}, {"oom_kill", 7}});
  const auto after =
      counters_sample(20, {{"pgscan_direct", 40}, {"pgscan_kswapd", 300}, {"oom_kill", 9}});
  const auto d = make_snapshot(after, before).derived;
  EXPECT_EQ(d.direct_scan_share.why_absent,
            "vmstat pgscan_direct is not in both samples, or went backwards");
  EXPECT_DOUBLE_EQ(value(d.oom_kills_in_window), 2);
}

TEST(Derived, RatesNeedTwoSamplesAPositiveIntervalApart) {
  const Counters c = {{"pswpin", 1}};
  auto d = make_snapshot(counters_sample(10, c), std::nullopt).derived;
  EXPECT_EQ(d.swap_in_pages_per_sec.why_absent,
            "needs two samples a window apart (rates; counters only with --window 0)");
  EXPECT_EQ(d.interval_s.why_absent, d.swap_in_pages_per_sec.why_absent);
  d = make_snapshot(counters_sample(10, c), counters_sample(10, c)).derived;
  EXPECT_EQ(d.swap_in_pages_per_sec.why_absent,
            "needs two samples with a positive interval between them (rates)");
}

TEST(Derived, AnUnreadableSourceNamesTheFileADamagedFieldTheLine) {
  Sample s;
  s.meminfo.state = SourceState::missing;
  s.meminfo.error =
      core::make_error(core::ErrorKind::missing, "/proc/meminfo", "No such file or directory");
  auto d = make_snapshot(s, std::nullopt).derived;
  EXPECT_EQ(d.commit_headroom_bytes.why_absent, "needs /proc/meminfo: missing");
  EXPECT_EQ(d.dirty_utilization.why_absent, "needs vmstat: not collected");

  s = counters_sample(0, {}, {{"MemTotal", 8ull << 30}, {"Shmem", 1 << 20}});
  s.unavailable.push_back(Unavailable{"meminfo", "/proc/meminfo", 4, "Cached",
                                      "expected \"<n> kB\": the unit is missing"});
  d = make_snapshot(s, std::nullopt).derived;
  EXPECT_EQ(d.file_cache_bytes.why_absent,
            "needs /proc/meminfo:4: field \"Cached\": expected \"<n> kB\": the unit is missing");
}

TEST(Derived, ZeroTotalsAndNegativeHeadroom) {
  auto d = make_snapshot(
               counters_sample(0, {{"nr_dirty", 5}, {"nr_writeback", 1}, {"nr_dirty_threshold", 0}},
                               {{"MemTotal", 0},
                                {"MemAvailable", 0},
                                {"PageTables", 4096},
                                {"CommitLimit", 1000},
                                {"Committed_AS", 3000},
                                {"Cached", 10},
                                {"Shmem", 50}}),
               std::nullopt)
               .derived;
  EXPECT_EQ(d.dirty_utilization.why_absent, "vmstat nr_dirty_threshold is 0");
  EXPECT_EQ(d.mem_available_pct.why_absent, "meminfo MemTotal is 0");
  EXPECT_EQ(d.pagetables_pct.why_absent, "meminfo MemTotal is 0");
  EXPECT_DOUBLE_EQ(value(d.commit_headroom_bytes), -2000);  // over-committed: negative
  EXPECT_DOUBLE_EQ(value(d.file_cache_bytes), 0);           // Shmem > Cached: clamped
}

TEST(Derived, SecondaryPageTablesCountOnKvmHosts) {
  const auto d =
      make_snapshot(
          counters_sample(0, {}, {{"MemTotal", 1000}, {"PageTables", 10}, {"SecPageTables", 30}}),
          std::nullopt)
          .derived;
  EXPECT_DOUBLE_EQ(value(d.pagetables_pct), 4);
}

TEST(Derived, TheFieldTableNamesEveryFieldOnce) {
  std::set<std::string_view> names;
  const auto table = derived_fields();
  for (std::size_t i = 0; i < table.size(); ++i) {
    EXPECT_TRUE(names.insert(table[i].name).second) << table[i].name;
    for (std::size_t j = 0; j < i; ++j) EXPECT_NE(table[i].field, table[j].field) << table[i].name;
  }
  EXPECT_EQ(sizeof(Derived), table.size() * sizeof(Measure));  // no field left out
  // make_snapshot stores exactly derive() of the snapshot.
  const auto snap =
      make_snapshot(counters_sample(0, {{"pswpin", 1}}, {{"MemTotal", 100}}), std::nullopt);
  const auto again = derive(snap);
  for (const auto& f : derived_fields()) {
    EXPECT_EQ((snap.derived.*f.field).value, (again.*f.field).value) << f.name;
    EXPECT_EQ((snap.derived.*f.field).why_absent, (again.*f.field).why_absent) << f.name;
  }
}

}  // namespace
}  // namespace vmtune::model
