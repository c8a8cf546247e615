// SPDX-License-Identifier: GPL-2.0-or-later
// Strict values in sysctl.d files (the reader's other tests are in tests/unit/audit): an
// assignment to a knob that takes numbers with a value that is not integers sets nothing at
// boot (the kernel refuses the write), so it is reported and left out.
#include "collect/sysctl_conf.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/temp_dir.hpp"
#include "strict_support.hpp"
#include "test_support.hpp"

namespace vmtune::collect {
namespace {

TEST(SysctlConfStrict, NonNumericValueOfANumericKnobIsAnErrorForThatLine) {
  std::vector<core::Error> bad;
  const auto a = parse_sysctl_conf(
      "vm.swappiness = abc\n"            // 1: not a number
      "vm.dirty_ratio =\n"               // 2: empty
      "vm.min_free_kbytes = 65536 kB\n"  // 3: a unit the kernel does not take
      "vm.lowmem_reserve_ratio = 256 256 32\n"
      "-vm.overcommit_memory = 2\n"
      "vm.numa_zonelist_order = Node\n"  // a word knob: not checked
      "net.ipv4.tcp_congestion_control = bbr\n"
      "vm.* = x\n",  // a glob: not checked
      "/etc/sysctl.d/99-x.conf", &bad);
  std::vector<std::string> seq;
  for (const auto& x : a) seq.push_back(x.key + "=" + x.value);
  EXPECT_EQ(seq, (std::vector<std::string>{"vm.lowmem_reserve_ratio=256 256 32",
                                           "vm.overcommit_memory=2", "vm.numa_zonelist_order=Node",
                                           "net.ipv4.tcp_congestion_control=bbr", "vm.*=x"}));
  const std::string tail = " (the kernel refuses the value: the line sets nothing)";
  const std::string want = "expected an integer (or integers separated by blanks): ";
  EXPECT_EQ(
      test::error_strings(bad),
      (std::vector<std::string>{
          "/etc/sysctl.d/99-x.conf:1: field \"vm.swappiness\": " + want + "not a number" + tail,
          "/etc/sysctl.d/99-x.conf:2: field \"vm.dirty_ratio\": expected an integer: empty" + tail,
          "/etc/sysctl.d/99-x.conf:3: field \"vm.min_free_kbytes\": " + want + "not a number" +
              tail,
      }));
}

TEST(SysctlConfStrict, ReportedInTheSampleWithFileLineAndKey) {
  auto tmp = core::TempDir::create("vmtune-test-");
  ASSERT_TRUE(tmp.ok());
  std::filesystem::create_directories(tmp->path() / "etc/sysctl.d");
  std::ofstream(tmp->path() / "etc/sysctl.d/50-db.conf")
      << "vm.swappiness = 10\nvm.swappiness = ten\n";
  model::Sample s;
  read_sysctl_conf(core::RootFs::under(tmp->path()), s);
  ASSERT_TRUE(s.sysctl_conf.ok());
  ASSERT_EQ(s.sysctl_conf.value->assignments.size(), 1u);
  EXPECT_EQ(s.sysctl_conf.value->assignments[0].value, "10");
  EXPECT_EQ(test::unavailable_strings(s),
            (std::vector<std::string>{
                "sysctl_conf|/etc/sysctl.d/50-db.conf|2|vm.swappiness|expected an integer (or "
                "integers separated by blanks): not a number (the kernel refuses the value: the "
                "line sets nothing)"}));
}

}  // namespace
}  // namespace vmtune::collect
