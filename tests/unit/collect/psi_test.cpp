// SPDX-License-Identifier: GPL-2.0-or-later
#include "collect/psi.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "core/temp_dir.hpp"
#include "strict_support.hpp"
#include "test_support.hpp"

namespace vmtune::collect {
namespace {

using test::shared_expected;
using test::shared_fixtures;
using test::slurp;

model::Psi parse_fixture(const std::string& rel) {
  std::vector<core::Error> bad;
  auto p = parse_psi(slurp(shared_fixtures() / rel), "/proc/pressure/memory", &bad);
  EXPECT_TRUE(p.ok()) << rel << ": " << (p.ok() ? "" : p.error().to_string());
  EXPECT_TRUE(bad.empty()) << rel << ": " << (bad.empty() ? "" : bad.front().to_string());
  return p.ok() ? *p : model::Psi{};
}

// "some/avg10" style keys (procfs, below, elastic cgroup files).
void check_slash_keys(const std::string& rel) {
  const auto p = parse_fixture(rel);
  ASSERT_TRUE(p.some && p.full) << rel;
  int checked = 0;
  for (const auto& [key, v] : shared_expected().at(rel).items()) {
    if (key[0] == '_') continue;
    const auto slash = key.find('/');
    const auto& line = key.substr(0, slash) == "some" ? *p.some : *p.full;
    const auto f = key.substr(slash + 1);
    if (f == "total") {
      EXPECT_EQ(line.total_us, v.get<std::uint64_t>()) << rel << " " << key;
    } else {
      const double got = f == "avg10" ? line.avg10 : f == "avg60" ? line.avg60 : line.avg300;
      EXPECT_DOUBLE_EQ(got, v.get<double>()) << rel << " " << key;
    }
    ++checked;
  }
  EXPECT_GE(checked, 2) << rel;
}

TEST(Psi, MatchesProcfsBelowAndElastic) {
  VMTUNE_REQUIRE_SHARED_FIXTURES();
  check_slash_keys("prometheus-procfs/proc/pressure/memory");
  check_slash_keys("facebookincubator-below/cgroupfs/pressure/memory.pressure");
  check_slash_keys(
      "elastic-agent-system-metrics/cgroup/docker/sys/fs/cgroup/system.slice/"
      "docker-1c8fa019edd4b9d4b2856f4932c55929c5c118c808ed5faee9a135ca6e84b039.scope/"
      "memory.pressure");
  const auto p = parse_fixture("prometheus-procfs/proc/pressure/memory");
  EXPECT_DOUBLE_EQ(p.some->avg300, 3.85);
  EXPECT_EQ(p.full->total_us, 25u);
}

// node_exporter exports total= in seconds: waiting = some, stalled = full.
TEST(Psi, MatchesNodeExporterSeconds) {
  VMTUNE_REQUIRE_SHARED_FIXTURES();
  const std::string rel = "prometheus-node_exporter/proc/pressure/memory";
  const auto p = parse_fixture(rel);
  const auto& e = shared_expected().at(rel);
  ASSERT_TRUE(p.some && p.full);
  EXPECT_DOUBLE_EQ(static_cast<double>(p.some->total_us) / 1e6,
                   e.at("node_pressure_memory_waiting_seconds_total").get<double>());
  EXPECT_DOUBLE_EQ(static_cast<double>(p.full->total_us) / 1e6,
                   e.at("node_pressure_memory_stalled_seconds_total").get<double>());
}

// sysstat prints the "some" averages as %smem-10/60/300 (two decimals) and the full ones as
// %fmem-*. The interval-rate columns (%smem, %fmem) are checked in derive_test.
TEST(Psi, MatchesSysstatAverages) {
  VMTUNE_REQUIRE_SHARED_FIXTURES();
  for (int r = 1; r <= 3; ++r) {
    const std::string rel = "sysstat/root" + std::to_string(r) + "/proc/pressure/memory";
    const auto p = parse_fixture(rel);
    ASSERT_TRUE(p.some && p.full);
    const auto& e = shared_expected().at(rel);
    const std::string pre = r == 1 ? "sar_q/" : "sar_q_MEM/";
    EXPECT_NEAR(p.some->avg10, e.at(pre + "%smem-10").get<double>(), 0.005) << rel;
    EXPECT_NEAR(p.some->avg60, e.at(pre + "%smem-60").get<double>(), 0.005) << rel;
    EXPECT_NEAR(p.some->avg300, e.at(pre + "%smem-300").get<double>(), 0.005) << rel;
    EXPECT_NEAR(p.full->avg10, e.at(pre + "%fmem-10").get<double>(), 0.005) << rel;
    EXPECT_NEAR(p.full->avg60, e.at(pre + "%fmem-60").get<double>(), 0.005) << rel;
    EXPECT_NEAR(p.full->avg300, e.at(pre + "%fmem-300").get<double>(), 0.005) << rel;
  }
}

TEST(Psi, MatchesPcpWithinItsTolerance) {
  VMTUNE_REQUIRE_SHARED_FIXTURES();
  for (const std::string rel : {"performancecopilot-pcp/pressure-root-001/proc/pressure/memory",
                                "performancecopilot-pcp/pressure-root-002/proc/pressure/memory"}) {
    const auto p = parse_fixture(rel);
    ASSERT_TRUE(p.some && p.full);
    const auto& e = shared_expected().at(rel);
    const double tol = e.at("_tolerance").get<double>();
    for (const char* kind : {"some", "full"}) {
      const auto& line = std::string(kind) == "some" ? *p.some : *p.full;
      const auto& avg = e.at(std::string("kernel.all.pressure.memory.") + kind + ".avg");
      EXPECT_NEAR(line.avg10, avg.at("10 second").get<double>(), tol) << rel << " " << kind;
      EXPECT_NEAR(line.avg60, avg.at("1 minute").get<double>(), tol) << rel << " " << kind;
      EXPECT_NEAR(line.avg300, avg.at("5 minute").get<double>(), tol) << rel << " " << kind;
    }
  }
  const auto p = parse_fixture("performancecopilot-pcp/pressure-root-001/proc/pressure/memory");
  EXPECT_EQ(p.some->total_us, 3559632828u);
}

TEST(Psi, OnlySomeLineLeavesFullAbsent) {
  std::vector<core::Error> bad;
  auto p = parse_psi("some avg10=1.50 avg60=0.25 avg300=0.00 total=1234\n", "/proc/pressure/memory",
                     &bad);
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(bad.empty());
  ASSERT_TRUE(p->some.has_value());
  EXPECT_FALSE(p->full.has_value());
  EXPECT_DOUBLE_EQ(p->some->avg10, 1.5);
  EXPECT_EQ(p->some->total_us, 1234u);
}

TEST(Psi, BadFieldIsReportedAndOnlyThatLineIsLost) {
  std::vector<core::Error> bad;
  auto p = parse_psi(
      "some avg10=0.10 avg60=2.00 avg300=3.85 total=15\n"
      "full avg10=0.20 avg60=x avg300=4.95 total=25\n",
      "/proc/pressure/memory", &bad);
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->some.has_value());
  EXPECT_FALSE(p->full.has_value());
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_EQ(bad[0].line, 2);
  EXPECT_EQ(bad[0].field, "full.avg60");
  EXPECT_EQ(bad[0].to_string().rfind("/proc/pressure/memory:2: field \"full.avg60\": ", 0), 0u);

  bad.clear();
  p = parse_psi("some avg10=0.10 avg60=2.00 total=15\nfull avg10=101 avg60=0 avg300=0 total=1\n",
                "/proc/pressure/memory", &bad);
  EXPECT_FALSE(p.ok());  // neither line usable
  ASSERT_EQ(bad.size(), 2u);
  EXPECT_EQ(bad[0].field, "some.avg300");  // missing
  EXPECT_EQ(bad[1].field, "full.avg10");   // out of range
}

TEST(Psi, EmptyGarbageAndTruncated) {
  auto empty = parse_psi("", "/proc/pressure/memory", nullptr);
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().to_string(), "/proc/pressure/memory: file is empty");
  std::vector<core::Error> bad;
  EXPECT_FALSE(parse_psi(std::string("\x1b[2J\0\xff", 6), "/proc/pressure/memory", &bad).ok());
  EXPECT_EQ(bad.size(), 1u);
  bad.clear();
  // Cut inside the full line's total: some survives, full is reported and absent.
  auto cut = parse_psi("some avg10=0.10 avg60=2.00 avg300=3.85 total=15\nfull avg10=0.20 avg",
                       "/proc/pressure/memory", &bad);
  ASSERT_TRUE(cut.ok());
  EXPECT_TRUE(cut->some.has_value());
  EXPECT_FALSE(cut->full.has_value());
  EXPECT_EQ(bad.size(), 1u);
}

// A kernel without PSI has no /proc/pressure: the source says so instead of reading as 0.
TEST(Psi, KernelWithoutPsiIsUnavailableWithAReason) {
  auto tmp = core::TempDir::create("vmtune-test-");
  ASSERT_TRUE(tmp.ok());
  std::filesystem::create_directories(tmp->path() / "proc");
  model::Sample s;
  read_psi(core::RootFs::under(tmp->path()), s);
  EXPECT_FALSE(s.psi.ok());
  EXPECT_EQ(s.psi.state, model::SourceState::missing);
  EXPECT_NE(s.psi.reason().find("CONFIG_PSI"), std::string::npos) << s.psi.reason();
  ASSERT_EQ(s.unavailable.size(), 1u);
  EXPECT_EQ(s.unavailable[0].path, "/proc/pressure/memory");
  EXPECT_EQ(s.unavailable[0].source, "psi");
}

TEST(Psi, ProjectTreeAndLiveRead) {
  for (const auto& fs :
       {core::RootFs::under(test::test_data() / "live-debian12"), core::RootFs()}) {
    model::Sample s;
    read_psi(fs, s);
    ASSERT_TRUE(s.psi.ok()) << s.psi.reason();
    EXPECT_TRUE(s.unavailable.empty());
    ASSERT_TRUE(s.psi.value->some && s.psi.value->full);
    // A "full" stall is also a "some" stall, so its cumulative time cannot be larger.
    EXPECT_LE(s.psi.value->full->total_us, s.psi.value->some->total_us);
  }
}

// Strict parsing: a damaged value drops its line ("some" or "full"), with file, line and field.
TEST(PsiStrict, EachKindOfDamageIsAnErrorForThatLine) {
  const auto one = [](const std::string& line) {
    std::vector<core::Error> bad;
    auto p = parse_psi(line + "\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=1\n",
                       "/proc/pressure/memory", &bad);
    EXPECT_TRUE(p.ok());
    if (p.ok()) {
      EXPECT_FALSE(p->some) << line;
      EXPECT_TRUE(p->full) << line;
    }
    EXPECT_EQ(bad.size(), 1u) << line;
    return bad.empty() ? std::string() : bad.front().to_string();
  };
  const std::string at = "/proc/pressure/memory:1: field ";
  EXPECT_EQ(one("some avg10=abc avg60=0.00 avg300=0.00 total=1"),
            at + "\"some.avg10\": expected a percentage 0..100: not a number");
  EXPECT_EQ(one("some avg10= avg60=0.00 avg300=0.00 total=1"),
            at + "\"some.avg10\": expected a percentage 0..100: empty");
  EXPECT_EQ(one("some avg10=1e999 avg60=0.00 avg300=0.00 total=1"),
            at + "\"some.avg10\": expected a percentage 0..100: out of range");
  EXPECT_EQ(one("some avg10=nan avg60=0.00 avg300=0.00 total=1"),
            at + "\"some.avg10\": expected a percentage 0..100: not a finite number");
  EXPECT_EQ(one("some avg10=0.10 avg60=-1.00 avg300=0.00 total=1"),
            at + "\"some.avg60\": expected a percentage 0..100: out of range");
  EXPECT_EQ(one("some avg10=0.10 avg60=0.00 avg300=1.5x total=1"),
            at + "\"some.avg300\": expected a percentage 0..100: trailing characters after the "
                 "number");
  EXPECT_EQ(one("some avg10=0.10 avg60=0.00 avg300=0.00 total=99999999999999999999"),
            at + "\"some.total\": expected total=<microseconds>: out of range");
  EXPECT_EQ(one("some avg10=0.10 avg60=0.00 avg300=0.00 total=-5"),
            at + "\"some.total\": expected total=<microseconds>: negative");
  EXPECT_EQ(one("some avg10=0.10 avg60=0.00 avg300=0.00 tot"),
            at + "\"some\": expected \"key=value\" words: a word without '='");
  EXPECT_EQ(one("some avg10=0.10 avg60=0.00 avg300=0.00"),
            at + "\"some.total\": expected total=<value>: missing");
}

TEST(PsiStrict, EmptyFileIsAnError) {
  auto r = parse_psi("", "/proc/pressure/memory", nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().to_string(), "/proc/pressure/memory: file is empty");
}

}  // namespace
}  // namespace vmtune::collect
