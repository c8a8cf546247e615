// SPDX-License-Identifier: GPL-2.0-or-later
#include "collect/bpf/probe_features.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "core/temp_dir.hpp"
#include "test_support.hpp"

namespace vmtune::collect::bpf {
namespace {

TEST(CapEff, ParsesTheLiveStatusFile) {
  const auto text = test::slurp("/proc/self/status");
  auto mask = parse_cap_eff(text, "/proc/self/status");
  ASSERT_TRUE(mask.ok()) << mask.error().to_string();
  if (::geteuid() == 0) {
    EXPECT_TRUE((*mask >> kCapSysAdmin) & 1u);
  } else {
    EXPECT_EQ(*mask, 0u);  // a plain user has no effective capabilities
  }
}

TEST(CapEff, ParsesKnownMasks) {
  EXPECT_EQ(*parse_cap_eff("CapInh:\t0\nCapEff:\t000001fffeffffff\n", "s"), 0x000001fffeffffffull);
  EXPECT_EQ(*parse_cap_eff("CapEff:\t000000c000000000", "s"),
            (1ull << kCapBpf) | (1ull << kCapPerfmon));
}

TEST(CapEff, DamagedInputIsAnErrorWithLineAndField) {
  auto garbage = parse_cap_eff("Name:\tx\nCapEff:\tzz01\n", "/proc/self/status");
  ASSERT_FALSE(garbage.ok());
  EXPECT_EQ(garbage.error().line, 2);
  EXPECT_EQ(garbage.error().field, "CapEff");
  EXPECT_EQ(garbage.error().kind, core::ErrorKind::parse_error);
  EXPECT_FALSE(parse_cap_eff("", "s").ok());
  EXPECT_FALSE(parse_cap_eff("CapEff:\t", "s").ok());
  EXPECT_FALSE(parse_cap_eff("CapEff:\t00000000000000000001", "s").ok());  // > 64 bits
  // Truncated before the CapEff line.
  const auto live = test::slurp("/proc/self/status");
  EXPECT_FALSE(parse_cap_eff(live.substr(0, live.find("CapEff")), "s").ok());
}

TEST(BpfSupport, ReasonsAreActionable) {
  BpfSupport s;
  s.privileged = false;
  s.unprivileged_bpf_disabled = 2;
  EXPECT_EQ(s.blocking_reason().rfind(
                "needs root, or CAP_BPF+CAP_PERFMON; unprivileged BPF is disabled "
                "(kernel.unprivileged_bpf_disabled=2)",
                0),
            0u)
      << s.blocking_reason();
  EXPECT_NE(s.blocking_reason().find("setcap cap_bpf,cap_perfmon=ep"), std::string::npos);
  s.privileged = true;
  s.btf = false;
  s.btf_path = "/sys/kernel/btf/vmlinux";
  EXPECT_NE(s.blocking_reason().find("kernel has no BTF (/sys/kernel/btf/vmlinux is missing)"),
            std::string::npos);
  EXPECT_NE(s.blocking_reason().find("CONFIG_DEBUG_INFO_BTF"), std::string::npos);
  s.btf = true;
  EXPECT_EQ(s.blocking_reason(), "");
  s.live = false;
  EXPECT_NE(s.blocking_reason().find("snapshot"), std::string::npos);
}

TEST(BpfSupport, ReadsATreeThroughRootFs) {
  auto tmp = core::TempDir::create("vmtune-bpf-unit-");
  ASSERT_TRUE(tmp.ok());
  const auto& d = tmp->path();
  std::filesystem::create_directories(d / "proc/self");
  std::filesystem::create_directories(d / "proc/sys/kernel");
  std::filesystem::create_directories(d / "sys/kernel/security");
  std::ofstream(d / "proc/self/status") << "CapEff:\t000000c000000000\n";
  std::ofstream(d / "proc/sys/kernel/unprivileged_bpf_disabled") << "2\n";
  std::ofstream(d / "sys/kernel/security/lockdown") << "none [integrity] confidentiality\n";
  const auto s = probe_bpf_support(core::RootFs::under(d));
  EXPECT_FALSE(s.live);
  EXPECT_TRUE(s.privileged);  // CAP_BPF + CAP_PERFMON
  EXPECT_FALSE(s.btf);
  EXPECT_EQ(s.btf_path, "/sys/kernel/btf/vmlinux");  // logical, not the temp dir
  ASSERT_TRUE(s.unprivileged_bpf_disabled.has_value());
  EXPECT_EQ(*s.unprivileged_bpf_disabled, 2);
  EXPECT_EQ(s.lockdown, "integrity");
  EXPECT_FALSE(s.tracefs_events);
  EXPECT_FALSE(s.kprobes);
  // Missing or garbage files leave the fields unknown rather than guessed.
  std::ofstream(d / "proc/self/status", std::ios::trunc) << "\x01\x02garbage";
  std::ofstream(d / "proc/sys/kernel/unprivileged_bpf_disabled", std::ios::trunc) << "x";
  const auto g = probe_bpf_support(core::RootFs::under(d));
  EXPECT_FALSE(g.privileged);
  EXPECT_FALSE(g.unprivileged_bpf_disabled.has_value());
}

TEST(BpfSupport, LiveMachine) {
  const auto s = probe_bpf_support(core::RootFs());
  EXPECT_TRUE(s.live);
  EXPECT_EQ(s.root, ::geteuid() == 0);
  EXPECT_EQ(s.btf, std::filesystem::exists("/sys/kernel/btf/vmlinux"));
  EXPECT_EQ(s.kprobes, std::filesystem::exists("/sys/bus/event_source/devices/kprobe"));
  if (s.root) {
    EXPECT_TRUE(s.privileged);
  }
}

TEST(FaultLatency, ReasonNamesTheMissingMechanisms) {
  const core::RootFs fs;
  const auto s = probe_bpf_support(fs);
  const auto reason = fault_latency_reason(fs, s);
  if (!s.blocking_reason().empty()) {
    EXPECT_NE(reason.find(s.blocking_reason()), std::string::npos);
    return;
  }
  EXPECT_NE(reason.find("handle_mm_fault"), std::string::npos) << reason;
  if (!s.kprobes) {
    // This machine class: no kprobes, and trampolines refused (EBPF-NOTES.md).
    EXPECT_NE(reason.find("no kprobes"), std::string::npos) << reason;
  }
}

}  // namespace
}  // namespace vmtune::collect::bpf
