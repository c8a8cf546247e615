// SPDX-License-Identifier: GPL-2.0-or-later
// The closed loop's measuring and judging (src/verify): compare() on phases with known values,
// and the Meter on a captured tree (counters that move while it reads) and on this kernel.
#include "verify/verify.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "core/temp_dir.hpp"

namespace vmtune::verify {
namespace {

Measure measure(const std::string& id, bool decides, double floor) {
  return Measure{id, id + " label", "ms/s", "direct_reclaim", decides, floor};
}

Phase phase(const std::string& id, std::vector<double> values) {
  Phase p;
  p.seconds = static_cast<double>(values.size());
  p.values[id] = std::move(values);
  return p;
}

TEST(Compare, ARiseBeyondFloorAndNoiseOfADecidingMeasureRollsBack) {
  const auto v = compare({measure("m", true, 10)}, phase("m", {0, 0, 0, 0, 0}),
                         phase("m", {480, 500, 510, 495, 505}));
  ASSERT_EQ(v.rows.size(), 1u);
  EXPECT_EQ(v.rows[0].change, Change::worse);
  EXPECT_DOUBLE_EQ(v.rows[0].after_mean, 498);
  EXPECT_TRUE(v.roll_back);
  ASSERT_EQ(v.reasons.size(), 1u);
  EXPECT_NE(v.reasons[0].find("m label rose from 0.00 to 498 ms/s"), std::string::npos)
      << v.reasons[0];
}

TEST(Compare, ANoisyBaselineHidesARiseWithinItsSpread) {
  // Baseline mean 100, sd ~ 54.8: a mean of 150 after is within the noise.
  const auto v = compare({measure("m", true, 10)}, phase("m", {50, 150, 50, 150, 100}),
                         phase("m", {150, 150, 150, 150, 150}));
  EXPECT_EQ(v.rows[0].change, Change::same);
  EXPECT_GT(v.rows[0].margin, 50);
  EXPECT_FALSE(v.roll_back);
}

TEST(Compare, TheFloorAndTheRelativeMarginKeepSmallRisesFromCounting) {
  // A steady baseline has no spread; the floor (10) and 20 % of the baseline still apply.
  auto v = compare({measure("m", true, 10)}, phase("m", {1, 1, 1}), phase("m", {9, 9, 9}));
  EXPECT_EQ(v.rows[0].change, Change::same);
  v = compare({measure("m", true, 10)}, phase("m", {600, 600, 600}), phase("m", {700, 700, 700}));
  EXPECT_EQ(v.rows[0].change, Change::same) << "less than 20 % of 600";
  EXPECT_DOUBLE_EQ(v.rows[0].margin, 120);
  v = compare({measure("m", true, 10)}, phase("m", {600, 600, 600}), phase("m", {800, 800, 800}));
  EXPECT_EQ(v.rows[0].change, Change::worse);
}

TEST(Compare, OnlyDecidingMeasuresRollBackAndFallsAreBetter) {
  const auto v = compare(
      {measure("a", false, 1), measure("b", true, 1)},
      [] {
        auto p = phase("a", {0, 0, 0});
        p.values["b"] = {300, 310, 290};
        return p;
      }(),
      [] {
        auto p = phase("a", {50, 50, 50});
        p.values["b"] = {10, 12, 11};
        return p;
      }());
  EXPECT_EQ(v.rows[0].change, Change::worse);
  EXPECT_EQ(v.rows[1].change, Change::better);
  EXPECT_FALSE(v.roll_back) << "a measure shown for context does not decide";
}

TEST(Compare, AMeasureMissingFromAPhaseIsUnmeasuredNotWorse) {
  const auto v = compare({measure("m", false, 1)}, phase("m", {1, 2}), Phase{});
  EXPECT_EQ(v.rows[0].change, Change::unmeasured);
  EXPECT_EQ(v.rows[0].after_n, 0u);
  EXPECT_FALSE(v.roll_back);
}

TEST(Compare, AnyOomKillAfterAQuietBaselineIsWorseButOneMoreAmongManyIsNot) {
  Measure oom{"vmstat.oom_kill", "OOM kills", "kills", "oom", true, 0, true};
  const auto v = compare({oom}, phase("vmstat.oom_kill", {0, 0, 0, 0, 0}),
                         phase("vmstat.oom_kill", {0, 0, 1, 0, 0}));
  EXPECT_EQ(v.rows[0].change, Change::worse);
  EXPECT_TRUE(v.roll_back);
  ASSERT_EQ(v.reasons.size(), 1u);
  EXPECT_NE(v.reasons[0].find("OOM kills rose from 0.00 to 1.00 kills"), std::string::npos)
      << v.reasons[0];
  const auto quiet =
      compare({oom}, phase("vmstat.oom_kill", {0, 0, 0}), phase("vmstat.oom_kill", {0, 0, 0}));
  EXPECT_EQ(quiet.rows[0].change, Change::same);
  // Four kills before (2 deviations = 4): five after is chance, nine is not.
  EXPECT_EQ(
      compare({oom}, phase("vmstat.oom_kill", {1, 1, 1, 1}), phase("vmstat.oom_kill", {2, 1, 1, 1}))
          .rows[0]
          .change,
      Change::same);
  EXPECT_EQ(
      compare({oom}, phase("vmstat.oom_kill", {1, 1, 1, 1}), phase("vmstat.oom_kill", {3, 2, 2, 2}))
          .rows[0]
          .change,
      Change::worse);
  // An interval lost in one phase: the counts are compared per interval.
  EXPECT_EQ(
      compare({oom}, phase("vmstat.oom_kill", {1, 1, 1, 1}), phase("vmstat.oom_kill", {1, 1, 1}))
          .rows[0]
          .change,
      Change::same);
}

TEST(Compare, ADecidingMeasureLostAfterApplyingRollsBackAndNothingJudgedIsSaid) {
  auto v = compare({measure("m", true, 1)}, phase("m", {5, 5, 5}), Phase{});
  EXPECT_TRUE(v.roll_back);
  EXPECT_FALSE(v.judged);
  ASSERT_EQ(v.reasons.size(), 1u);
  EXPECT_EQ(v.reasons[0], "m label could not be measured after applying");
  v = compare({measure("m", true, 1)}, phase("m", {5, 5, 5}), phase("m", {5, 5, 5}));
  EXPECT_TRUE(v.judged);
  EXPECT_FALSE(v.roll_back);
  v = compare({measure("m", false, 1)}, phase("m", {5, 5, 5}), phase("m", {5, 5, 5}));
  EXPECT_FALSE(v.judged) << "only a deciding measure judges";
}

TEST(FormatValue, KeepsThreeSignificantFiguresOrSo) {
  EXPECT_EQ(format_value(0), "0.00");
  EXPECT_EQ(format_value(1.234), "1.23");
  EXPECT_EQ(format_value(12.34), "12.3");
  EXPECT_EQ(format_value(412.34), "412");
}

class Tree {
 public:
  Tree() {
    auto t = core::TempDir::create("vmtune-verify-");
    EXPECT_TRUE(t.ok());
    dir_.emplace(std::move(*t));
    std::filesystem::create_directories(dir_->path() / "proc/pressure");
    std::filesystem::create_directories(dir_->path() / "sys");
  }
  void write(const std::string& rel, const std::string& text) const {
    const auto tmp = dir_->path() / (rel + ".tmp");
    std::ofstream(tmp) << text;
    std::filesystem::rename(tmp, dir_->path() / rel);  // readers never see half a file
  }
  void vmstat(std::uint64_t allocstall) const {
    write("proc/vmstat", "nr_free_pages 1000\nallocstall_normal " + std::to_string(allocstall) +
                             "\nallocstall_movable 0\npgscan_direct 0\ncompact_stall 0\n"
                             "workingset_refault_anon 0\nworkingset_refault_file 0\npswpin 0\n"
                             "pswpout 0\noom_kill 0\n");
  }
  core::RootFs fs() const { return core::RootFs::under(dir_->path()); }

 private:
  std::optional<core::TempDir> dir_;
};

const std::set<std::string> kAll = {"memory_pressure", "direct_reclaim", "compaction", "writeback",
                                    "refaults",        "swap",           "oom"};

TEST(Meter, WithoutEbpfTheProcCountersDecideAndMissingPsiIsANote) {
  Tree t;
  t.vmstat(0);
  auto meter = Meter::start(t.fs(), kAll, false);
  std::set<std::string> ids, deciding;
  for (const auto& m : meter->measures()) {
    ids.insert(m.id);
    if (m.decides) deciding.insert(m.id);
  }
  EXPECT_EQ(ids.count("bpf.reclaim"), 0u);
  EXPECT_EQ(ids.count("psi.memory.some"), 0u) << "no /proc/pressure/memory in this tree";
  EXPECT_EQ(deciding,
            (std::set<std::string>{"vmstat.allocstall", "vmstat.compact_stall",
                                   "vmstat.workingset_refault", "vmstat.pswp", "vmstat.oom_kill"}));
  std::string notes;
  for (const auto& n : meter->notes()) notes += n + "\n";
  EXPECT_NE(notes.find("PSI memory some: not measured"), std::string::npos) << notes;
  EXPECT_NE(notes.find("eBPF probes not used"), std::string::npos) << notes;
  EXPECT_NE(notes.find("direct reclaim entries (allocstall) decides for direct_reclaim"),
            std::string::npos)
      << notes;
}

TEST(Meter, OnlyTheRequestedSymptomsAreMeasured) {
  Tree t;
  t.vmstat(0);
  t.write("proc/pressure/memory",
          "some avg10=0.00 avg60=0.00 avg300=0.00 total=100\n"
          "full avg10=0.00 avg60=0.00 avg300=0.00 total=50\n");
  auto meter = Meter::start(t.fs(), {"memory_pressure"}, false);
  ASSERT_EQ(meter->measures().size(), 2u);
  EXPECT_EQ(meter->measures()[0].id, "psi.memory.some");
  EXPECT_TRUE(meter->measures()[0].decides);
  EXPECT_EQ(meter->measures()[1].id, "psi.memory.full");
  EXPECT_FALSE(meter->measures()[1].decides);
}

TEST(Meter, RatesFollowTheCountersAndStopEndsAPhaseEarly) {
  Tree t;
  t.vmstat(0);
  auto meter = Meter::start(t.fs(), {"direct_reclaim"}, false);
  const auto quiet = meter->measure("baseline", 0.3, 0.1, {}, nullptr);
  ASSERT_EQ(quiet.values.count("vmstat.allocstall"), 1u);
  EXPECT_EQ(quiet.values.at("vmstat.allocstall").size(), 3u);
  for (double v : quiet.values.at("vmstat.allocstall")) EXPECT_EQ(v, 0);

  std::atomic<bool> done{false};
  std::thread bump([&] {
    for (std::uint64_t n = 1; !done; ++n) {
      t.vmstat(n * 100);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  const auto busy = meter->measure("after", 0.5, 0.1, {}, nullptr);
  done = true;
  bump.join();
  double sum = 0;
  for (double v : busy.values.at("vmstat.allocstall")) {
    EXPECT_GE(v, 0);
    sum += v;
  }
  EXPECT_GT(sum, 0) << "the counter rose by 100 every 20 ms";
  EXPECT_EQ(compare(meter->measures(), quiet, busy).rows[0].change, Change::worse);

  std::atomic<bool> stop{true};
  const auto stopped = meter->measure("after", 60, 1, {}, &stop);
  EXPECT_TRUE(stopped.interrupted);
  EXPECT_LT(stopped.seconds, 5);
}

TEST(Meter, ReadsThisKernelsCounters) {
  auto meter = Meter::start(core::RootFs(), {"memory_pressure", "direct_reclaim"}, false);
  bool allocstall = false;
  for (const auto& m : meter->measures()) allocstall = allocstall || m.id == "vmstat.allocstall";
  EXPECT_TRUE(allocstall) << "every kernel vmtune supports counts allocstall";
  const auto p = meter->measure("baseline", 0.2, 0.1, {}, nullptr);
  EXPECT_EQ(p.values.at("vmstat.allocstall").size(), 2u);
}

}  // namespace
}  // namespace vmtune::verify
