// SPDX-License-Identifier: GPL-2.0-or-later
#include "rules/effects.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "collect/meminfo.hpp"
#include "collect/sysctl.hpp"
#include "collect/vmstat.hpp"
#include "collect/zoneinfo.hpp"
#include "test_support.hpp"

namespace vmtune::rules {
namespace {

// Reads only what the formulas need (fast, and the same code the audit runs).
model::Sample read_tree(const core::RootFs& fs) {
  model::Sample s;
  s.host.page_size = 4096;
  collect::read_meminfo(fs, s);
  collect::read_vmstat(fs, s);
  collect::read_zoneinfo(fs, s);
  collect::read_sysctl(fs, s);
  return s;
}

std::uint64_t sysctl(const model::Sample& s, const char* key) {
  return std::stoull(s.sysctl.value->values.at(key));
}

std::uint64_t vmstat(const model::Sample& s, const char* key) {
  return s.vmstat.value->counters.at(key);
}

// zoneinfo prints min/low/high with the boost added (min_wmark_pages() etc.).
void expect_watermarks_match_zoneinfo(const model::Sample& s) {
  ASSERT_TRUE(s.zones.ok() && s.sysctl.ok());
  const auto w = zone_watermarks(*s.zones.value, sysctl(s, "vm.min_free_kbytes"),
                                 sysctl(s, "vm.watermark_scale_factor"), s.host.page_size);
  ASSERT_EQ(w.size(), s.zones.value->size());
  int populated = 0;
  for (std::size_t i = 0; i < w.size(); ++i) {
    const auto& z = (*s.zones.value)[i];
    const std::uint64_t boost = z.boost.value_or(0);
    SCOPED_TRACE("node " + std::to_string(z.node) + " zone " + z.name);
    EXPECT_EQ(w[i].min + boost, z.min.value());
    EXPECT_EQ(w[i].low + boost, z.low.value());
    EXPECT_EQ(w[i].high + boost, z.high.value());
    populated += w[i].managed > 0;
  }
  EXPECT_GT(populated, 0);
}

void expect_commit_limit_matches_meminfo(const model::Sample& s) {
  ASSERT_TRUE(s.meminfo.ok() && s.sysctl.ok());
  const auto limit = commit_limit_bytes(*s.meminfo.value, sysctl(s, "vm.overcommit_ratio"),
                                        sysctl(s, "vm.overcommit_kbytes"), s.host.page_size);
  ASSERT_TRUE(limit);
  EXPECT_EQ(*limit, s.meminfo.value->fields.at("CommitLimit"));
}

// Free memory moves between the reads of meminfo and vmstat: allow `tolerance` (fraction).
void expect_dirty_limits_match_vmstat(const model::Sample& s, double tolerance) {
  const auto in = dirty_inputs(s);
  const auto settings = dirty_settings(s);
  ASSERT_TRUE(in && settings);
  const auto got = dirty_limits(*in, *settings);
  const double want = static_cast<double>(vmstat(s, "nr_dirty_threshold"));
  const double want_bg = static_cast<double>(vmstat(s, "nr_dirty_background_threshold"));
  EXPECT_NEAR(static_cast<double>(got.thresh), want, want * tolerance);
  EXPECT_NEAR(static_cast<double>(got.bg_thresh), want_bg, want_bg * tolerance);
}

TEST(Effects, LiveWatermarksMatchZoneinfoExactly) {
  expect_watermarks_match_zoneinfo(read_tree(core::RootFs()));
}

TEST(Effects, LiveCommitLimitMatchesMeminfoExactly) {
  expect_commit_limit_matches_meminfo(read_tree(core::RootFs()));
}

TEST(Effects, LiveDirtyThresholdsMatchVmstat) {
  // Other work on the machine moves free memory between the meminfo and vmstat reads.
  const auto a = read_tree(core::RootFs());
  expect_dirty_limits_match_vmstat(a, 0.01);
}

TEST(Effects, CapturedFirecrackerTreeMatchesItsOwnKernelValues) {
  VMTUNE_REQUIRE_SHARED_FIXTURES();
  const auto s = read_tree(core::RootFs::under(test::shared_fixtures() / "live-firecracker-6.18"));
  expect_watermarks_match_zoneinfo(s);
  expect_commit_limit_matches_meminfo(s);
  // Captured within milliseconds: the thresholds agree to a few pages.
  expect_dirty_limits_match_vmstat(s, 0.0001);
}

TEST(Effects, ProjectTreeMatchesItsOwnKernelValues) {
  const auto dir = test::test_data() / "live-debian12";
  if (!std::filesystem::exists(dir / "proc/zoneinfo")) GTEST_SKIP() << "no " << dir;
  const auto s = read_tree(core::RootFs::under(dir));
  expect_watermarks_match_zoneinfo(s);
  expect_commit_limit_matches_meminfo(s);
  expect_dirty_limits_match_vmstat(s, 0.01);
}

// Hand-computed from the kernel's code with this VM's zones (DMA, DMA32, Normal, Movable).
std::vector<model::Zone> vm_zones() {
  auto zone = [](const char* name, std::uint64_t managed, std::uint64_t high,
                 std::vector<std::uint64_t> prot) {
    model::Zone z;
    z.name = name;
    z.managed = managed;
    z.high = high;
    z.boost = 0;
    z.protection = std::move(prot);
    return z;
  };
  return {zone("DMA", 3840, 68, {0, 3018, 5450, 5450, 5450}),
          zone("DMA32", 772808, 13995, {0, 0, 2432, 2432, 2432}),
          zone("Normal", 622592, 11275, {0, 0, 0, 0, 0}),
          zone("Movable", 0, 32, {0, 0, 0, 0, 0})};
}

TEST(Effects, WatermarkFormulaByHand) {
  const auto w = zone_watermarks(vm_zones(), 67584, 10, 4096);
  // pages_min = 16896; lowmem = 1399240; DMA min = 16896*3840/1399240 = 46,
  // gap = max(46/4, 3840*10/10000) = 11.
  EXPECT_EQ(w[0].min, 46u);
  EXPECT_EQ(w[0].low, 57u);
  EXPECT_EQ(w[0].high, 68u);
  EXPECT_EQ(w[1].min, 9331u);
  EXPECT_EQ(w[2].min, 7517u);
  EXPECT_EQ(w[2].high, 11275u);
  EXPECT_EQ(w[3].min, 32u);  // Movable: clamp(managed/1024, SWAP_CLUSTER_MAX, 128), no gap
  EXPECT_EQ(w[3].high, 32u);
  // watermark_scale_factor 100: the gap is 1 % of managed (6225 pages in Normal).
  const auto w2 = zone_watermarks(vm_zones(), 67584, 100, 4096);
  EXPECT_EQ(w2[2].min, 7517u);
  EXPECT_EQ(w2[2].low, 7517u + 6225u);
  EXPECT_EQ(w2[2].high, 7517u + 2 * 6225u);
}

TEST(Effects, ReserveAndDirtyFormulaByHand) {
  // DMA: min(5450+68, 3840) = 3840; DMA32: 2432+13995; Normal: 11275; Movable: min(32, 0).
  EXPECT_EQ(total_reserve_pages(vm_zones()), 3840u + 16427u + 11275u);
  DirtyInputs in{1000000, 50000, 70000, 31542, 4096};
  // dirtyable = 1000000 - 31542 + 120000 + 1 = 1088459; 20 % in per-page units: 819/4096.
  auto l = dirty_limits(in, DirtySettings{});
  EXPECT_EQ(l.dirtyable, 1088459u);
  EXPECT_EQ(l.thresh, 819u * 1088459u / 4096u);
  EXPECT_EQ(l.bg_thresh, 409u * 1088459u / 4096u);
  // Bytes win over ratios, rounded up to pages; bg >= thresh is halved.
  l = dirty_limits(in, DirtySettings{0, 1u << 30, 0, (1u << 30) + 1});
  EXPECT_EQ(l.thresh, 262144u);
  EXPECT_EQ(l.bg_thresh, 131072u);
  // More reserve than free memory: nothing of it is dirtyable, the file LRU still is.
  in.total_reserve = 2000000;
  EXPECT_EQ(dirty_limits(in, DirtySettings{}).dirtyable, 120001u);
}

TEST(Effects, CommitLimitFormulaByHand) {
  model::MemInfo m;
  m.fields = {{"MemTotal", 24683620ull * 1024}, {"Hugetlb", 2048ull * 1024 * 1024},
              {"SwapTotal", 1ull << 30}};
  // ((6170905 - 524288) * 50 / 100 + 262144) pages.
  EXPECT_EQ(*commit_limit_bytes(m, 50, 0, 4096), ((6170905ull - 524288) * 50 / 100 + 262144) * 4096);
  EXPECT_EQ(*commit_limit_bytes(m, 50, 1048576, 4096), (262144ull + 262144) * 4096);
  m.fields.erase("MemTotal");
  EXPECT_FALSE(commit_limit_bytes(m, 50, 0, 4096));
}

Recommendation sysctl_rec(const char* key, const char* proposed) {
  Recommendation r;
  r.key = key;
  r.proposed = proposed;
  return r;
}

TEST(Effects, AttachedToRecommendationsThatMoveDerivedValues) {
  VMTUNE_REQUIRE_SHARED_FIXTURES();
  const auto s = read_tree(core::RootFs::under(test::shared_fixtures() / "live-firecracker-6.18"));
  Evaluation eval;
  Finding dirty;
  dirty.recommendations = {sysctl_rec("vm.dirty_background_bytes", "268435456"),
                           sysctl_rec("vm.dirty_bytes", "1073741824")};
  Finding wm;
  wm.recommendations = {sysctl_rec("vm.watermark_scale_factor", "100"),
                        sysctl_rec("vm.swappiness", "10")};
  Finding oc;
  oc.recommendations = {sysctl_rec("vm.overcommit_ratio", "80")};
  eval.findings = {dirty, wm, oc};
  attach_effects(eval, s);

  const auto& d = eval.findings[0].recommendations;
  ASSERT_EQ(d[0].effects.size(), 2u);
  EXPECT_EQ(d[0].effects[0].unit, "bytes");
  // Before: the kernel's own threshold (within a few pages); after: exactly 1 GiB / 256 MiB.
  EXPECT_NEAR(d[0].effects[0].before, 1219819.0 * 4096, 64 * 4096);
  EXPECT_EQ(d[0].effects[0].after, 1073741824.0);
  EXPECT_EQ(d[0].effects[1].after, 268435456.0);
  EXPECT_EQ(d[1].effects.size(), 2u);  // both dirty proposals show the combined result

  const auto& w = eval.findings[1].recommendations;
  ASSERT_EQ(w[0].effects.size(), 9u);  // 3 populated zones x min/low/high
  EXPECT_EQ(w[0].effects[0].name, "node 0 DMA watermark min");
  EXPECT_EQ(w[0].effects[0].before, 57.0 * 4096);
  EXPECT_EQ(w[0].effects[0].after, 57.0 * 4096);  // scale factor moves low/high, not min
  EXPECT_EQ(w[0].effects[8].before, 8031.0 * 4096);  // Normal high, as zoneinfo shows
  EXPECT_EQ(w[0].effects[8].after, (5355.0 + 2 * 3604) * 4096);  // gap = 360448*100/10000
  EXPECT_TRUE(w[1].effects.empty());  // swappiness moves nothing the kernel derives

  const auto& o = eval.findings[2].recommendations;
  ASSERT_EQ(o[0].effects.size(), 1u);
  EXPECT_EQ(o[0].effects[0].name, "CommitLimit");
  EXPECT_EQ(o[0].effects[0].before, 12342048.0 * 1024);
  EXPECT_EQ(o[0].effects[0].after, static_cast<double>(6171024ull * 80 / 100 * 4096));
}

TEST(Effects, MissingInputsGiveNoEffectsAndNoCrash) {
  model::Sample s;  // nothing collected
  Evaluation eval;
  Finding f;
  f.recommendations = {sysctl_rec("vm.dirty_bytes", "1"), sysctl_rec("vm.min_free_kbytes", "x"),
                       sysctl_rec("vm.overcommit_ratio", "80")};
  eval.findings = {f};
  attach_effects(eval, s);
  for (const auto& r : eval.findings[0].recommendations) EXPECT_TRUE(r.effects.empty());
}

}  // namespace
}  // namespace vmtune::rules
