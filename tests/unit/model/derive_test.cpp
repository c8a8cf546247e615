// SPDX-License-Identifier: GPL-2.0-or-later
#include "model/derive.hpp"

#include <gtest/gtest.h>

#include "collect/buddyinfo.hpp"
#include "collect/psi.hpp"
#include "collect/vmstat.hpp"
#include "core/parse.hpp"
#include "core/root_fs.hpp"
#include "test_support.hpp"

namespace vmtune::model {
namespace {

using test::shared_expected;
using test::shared_fixtures;
using test::slurp;

// procfs buddyinfo "Node 0, zone DMA  1 0 1 0 2 1 1 0 1 1 3". By hand:
// free pages = 1*1 + 1*4 + 2*16 + 1*32 + 1*64 + 1*256 + 1*512 + 3*1024 = 3973.
// Pages in blocks smaller than order o (unusable for an order-o request), cumulative:
// o=0: 0; o=1: 1; o=2: 1; o=3: 1+4=5; o=4: 5; o=5: 5+32=37; o=6: 37+32=69; o=7: 69+64=133;
// o=8: 133; o=9: 133+256=389; o=10: 389+512=901.
TEST(Derive, UnusableFreeIndexMatchesHandComputedValues) {
  std::vector<std::uint64_t> dma = {1, 0, 1, 0, 2, 1, 1, 0, 1, 1, 3};
  if (std::filesystem::exists(shared_fixtures() / "prometheus-procfs/proc/buddyinfo")) {
    auto parsed = collect::parse_buddyinfo(
        slurp(shared_fixtures() / "prometheus-procfs/proc/buddyinfo"), "/proc/buddyinfo", nullptr);
    ASSERT_TRUE(parsed.ok());
    ASSERT_EQ((*parsed)[0].zone, "DMA");
    dma = (*parsed)[0].free_blocks;  // the same line, read through the collector
  }
  const double unusable[] = {0, 1, 1, 5, 5, 37, 69, 133, 133, 389, 901};
  const auto idx = unusable_free_index(dma);
  ASSERT_EQ(idx.size(), 11u);
  for (std::size_t o = 0; o < 11; ++o) {
    EXPECT_DOUBLE_EQ(idx[o], unusable[o] / 3973.0) << "order " << o;
  }
}

TEST(Derive, UnusableFreeIndexEdgeCases) {
  EXPECT_TRUE(unusable_free_index({}).empty());
  EXPECT_TRUE(unusable_free_index({0, 0, 0}).empty());  // no free pages: undefined, not 0
  // Only order-0 pages free: everything above order 0 is unusable.
  const auto only0 = unusable_free_index({8, 0, 0});
  EXPECT_EQ(only0, (std::vector<double>{0.0, 1.0, 1.0}));
  // Only the largest order free: nothing is unusable.
  EXPECT_EQ(unusable_free_index({0, 0, 5}), (std::vector<double>{0.0, 0.0, 0.0}));
}


// A Sample from one sysstat snapshot: vmstat + PSI through the collectors, and the clock from
// proc/uptime (sar's interval is the uptime difference).
Sample sysstat_sample(int root) {
  const auto dir = shared_fixtures() / ("sysstat/root" + std::to_string(root));
  const auto fs = core::RootFs::under(dir);
  Sample s;
  collect::read_vmstat(fs, s);
  collect::read_psi(fs, s);
  EXPECT_TRUE(s.vmstat.ok() && s.psi.ok()) << dir;
  const std::string text = slurp(dir / "proc/uptime");
  const auto uptime = core::split_ws(text);
  s.monotonic_s = core::parse_double(uptime.at(0)).value();
  return s;
}

double sum(const Rates& r, std::initializer_list<const char*> names) {
  double t = 0;
  for (const char* n : names) t += r.vmstat.at(n);
  return t;
}

// sar -B between successive snapshots, to sar's two decimals. sar's columns: pgpgin/s and
// pgpgout/s (KiB), fault/s = pgfault, majflt/s = pgmajfault, pgfree/s, pgscank/s =
// pgscan_kswapd, pgscand/s = pgscan_direct, pgsteal/s = pgsteal_anon + pgsteal_file,
// pgprom/s = pgpromote_success, pgdem/s = pgdemote_kswapd + pgdemote_direct.
TEST(Derive, RatesMatchSysstatSarB) {
  VMTUNE_REQUIRE_SHARED_FIXTURES();
  const Sample s[] = {sysstat_sample(1), sysstat_sample(2), sysstat_sample(3)};
  for (int row = 1; row <= 2; ++row) {
    const std::string rel = "sysstat/root" + std::to_string(row + 1) + "/proc/vmstat";
    const auto& e = shared_expected().at(rel);
    const auto r = derive_rates(s[row - 1], s[row]);
    ASSERT_TRUE(r.has_value());
    EXPECT_NEAR(r->interval_s, e.at("_interval_seconds").get<double>(), 1e-9) << rel;
    const double tol = 0.005 + 1e-9;  // sar rounds to two decimals
    EXPECT_NEAR(r->vmstat.at("pgpgin"), e.at("sar_B/pgpgin/s").get<double>(), tol) << rel;
    EXPECT_NEAR(r->vmstat.at("pgpgout"), e.at("sar_B/pgpgout/s").get<double>(), tol) << rel;
    EXPECT_NEAR(r->vmstat.at("pgfault"), e.at("sar_B/fault/s").get<double>(), tol) << rel;
    EXPECT_NEAR(r->vmstat.at("pgmajfault"), e.at("sar_B/majflt/s").get<double>(), tol) << rel;
    EXPECT_NEAR(r->vmstat.at("pgfree"), e.at("sar_B/pgfree/s").get<double>(), tol) << rel;
    EXPECT_NEAR(r->vmstat.at("pgscan_kswapd"), e.at("sar_B/pgscank/s").get<double>(), tol) << rel;
    EXPECT_NEAR(r->vmstat.at("pgscan_direct"), e.at("sar_B/pgscand/s").get<double>(), tol) << rel;
    EXPECT_NEAR(sum(*r, {"pgsteal_anon", "pgsteal_file"}), e.at("sar_B/pgsteal/s").get<double>(),
                tol)
        << rel;
    EXPECT_NEAR(r->vmstat.at("pgpromote_success"), e.at("sar_B/pgprom/s").get<double>(), tol)
        << rel;
    EXPECT_NEAR(sum(*r, {"pgdemote_kswapd", "pgdemote_direct"}),
                e.at("sar_B/pgdem/s").get<double>(), tol)
        << rel;
    // sar -q MEM: %smem/%fmem = PSI total= growth as a percentage of the interval.
    const auto& p = shared_expected().at("sysstat/root" + std::to_string(row + 1) +
                                         "/proc/pressure/memory");
    ASSERT_TRUE(r->psi_some_us_per_sec && r->psi_full_us_per_sec);
    EXPECT_NEAR(*r->psi_some_us_per_sec / 1e4, p.at("sar_q_MEM/%smem").get<double>(), tol);
    EXPECT_NEAR(*r->psi_full_us_per_sec / 1e4, p.at("sar_q_MEM/%fmem").get<double>(), tol);
  }
}

TEST(Derive, CounterResetIsSkippedAndNonPositiveIntervalGivesNothing) {
  Sample a, b;
  a.monotonic_s = 100;
  b.monotonic_s = 110;
  a.vmstat.value = VmStat{{{"pgfault", 1000}, {"pgmajfault", 50}, {"gone", 1}}};
  b.vmstat.value = VmStat{{{"pgfault", 1500}, {"pgmajfault", 10}, {"new", 5}}};
  a.psi.value = Psi{PsiLine{0, 0, 0, 2000000}, PsiLine{0, 0, 0, 900}};
  b.psi.value = Psi{PsiLine{0, 0, 0, 1000}, std::nullopt};  // reset; full vanished
  const auto r = derive_rates(a, b);
  ASSERT_TRUE(r.has_value());
  EXPECT_DOUBLE_EQ(r->interval_s, 10.0);
  EXPECT_DOUBLE_EQ(r->vmstat.at("pgfault"), 50.0);
  EXPECT_EQ(r->vmstat.count("pgmajfault"), 0u);  // went backwards: left out, never negative
  EXPECT_EQ(r->vmstat.count("gone"), 0u);
  EXPECT_EQ(r->vmstat.count("new"), 0u);
  EXPECT_FALSE(r->psi_some_us_per_sec.has_value());
  EXPECT_FALSE(r->psi_full_us_per_sec.has_value());

  b.monotonic_s = 100;
  EXPECT_FALSE(derive_rates(a, b).has_value());
  b.monotonic_s = 90;
  EXPECT_FALSE(derive_rates(a, b).has_value());
  // make_snapshot carries the same rule through.
  const auto snap = make_snapshot(b, a);
  EXPECT_TRUE(snap.previous.has_value());
  EXPECT_FALSE(snap.rates.has_value());
}

}  // namespace
}  // namespace vmtune::model
