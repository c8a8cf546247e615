// SPDX-License-Identifier: GPL-2.0-or-later
#include "collect/bpf/trace_session.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "core/temp_dir.hpp"
#include "test_support.hpp"

namespace vmtune::collect::bpf {
namespace {

TEST(ProbeList, DefaultIsTheLowRateStallProbes) {
  EXPECT_EQ(default_probe_names(),
            (std::vector<std::string>{"reclaim", "compaction", "thp", "writeback", "oom"}));
  EXPECT_EQ(TraceOptions{}.probes, default_probe_names());
  auto all = parse_probe_list("all");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->back(), "faults");
  EXPECT_EQ(all->size(), 6u);
}

TEST(ProbeList, ParsesTrimsDeduplicatesAndOrders) {
  auto l = parse_probe_list(" faults, reclaim ,reclaim,,oom");
  ASSERT_TRUE(l.ok()) << l.error().to_string();
  EXPECT_EQ(*l, (std::vector<std::string>{"reclaim", "oom", "faults"}));
  auto d = parse_probe_list("default,faults");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->size(), 6u);
}

TEST(ProbeList, UnknownAndEmptyAreErrorsNamingTheOption) {
  auto bad = parse_probe_list("reclaim,kprobes");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind, core::ErrorKind::invalid_argument);
  EXPECT_NE(bad.error().to_string().find("--probes"), std::string::npos);
  EXPECT_NE(bad.error().to_string().find("unknown probe \"kprobes\""), std::string::npos);
  EXPECT_FALSE(parse_probe_list("").ok());
  EXPECT_FALSE(parse_probe_list(" , ").ok());
  EXPECT_FALSE(parse_probe_list(std::string("rec\0laim", 8)).ok());
}

TEST(AttachPreference, Parses) {
  EXPECT_EQ(*parse_attach_preference("auto"), AttachPreference::automatic);
  EXPECT_EQ(*parse_attach_preference("tp_btf"), AttachPreference::tp_btf);
  EXPECT_EQ(*parse_attach_preference("tp"), AttachPreference::tp);
  EXPECT_FALSE(parse_attach_preference("kprobe").ok());
}

// A captured tree is not a kernel: every probe says so, with the reason, and nothing crashes.
TEST(TraceSession, CapturedTreeMakesEveryProbeUnavailable) {
  auto tmp = core::TempDir::create("vmtune-bpf-unit-");
  ASSERT_TRUE(tmp.ok());
  std::filesystem::create_directories(tmp->path() / "proc/self");
  std::filesystem::create_directories(tmp->path() / "sys/kernel/btf");
  std::ofstream(tmp->path() / "proc/self/status") << "Name:\tx\nCapEff:\t000001ffffffffff\n";
  std::ofstream(tmp->path() / "sys/kernel/btf/vmlinux") << "not btf";
  TraceOptions o;
  o.probes = *parse_probe_list("all");
  const auto stats = run_trace(core::RootFs::under(tmp->path()), o, 5.0, nullptr);
  EXPECT_EQ(stats.duration_s, 0.0);  // nothing attached: no waiting
  ASSERT_EQ(stats.probes.size(), 7u);
  EXPECT_EQ(stats.probes.back().name, "fault_latency");
  for (const auto& p : stats.probes) {
    EXPECT_FALSE(p.attached) << p.name;
    EXPECT_NE(p.reason.find("unsupported (snapshot)"), std::string::npos) << p.reason;
  }
  EXPECT_TRUE(stats.histograms.empty());
}

}  // namespace
}  // namespace vmtune::collect::bpf
