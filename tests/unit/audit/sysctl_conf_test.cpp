// SPDX-License-Identifier: GPL-2.0-or-later
#include "collect/sysctl_conf.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/temp_dir.hpp"
#include "snapshot/snapshot.hpp"
#include "test_support.hpp"

namespace vmtune::collect {
namespace {

namespace fs = std::filesystem;
using test::write_fixture;

// A tree exercising every systemd-sysctl ordering rule:
//   etc/sysctl.d/10-a.conf       masks usr/lib/sysctl.d/10-a.conf (different content)
//   run/sysctl.d/20-b.conf       sorted between 10-a and 30-c although in a later directory
//   usr/lib/sysctl.d/30-c.conf   same content as lib/sysctl.d/30-c.conf (merged /usr: no mask)
//   usr/local/lib/sysctl.d/15-d.conf
//   etc/sysctl.d/README          not *.conf: ignored
//   etc/sysctl.conf              applied last
void write_tree(const fs::path& root) {
  write_fixture(root / "etc/sysctl.d/10-a.conf",
                "# comment\n; another comment\n\nvm.swappiness = 10\n-vm.dirty_ratio=15\n");
  write_fixture(root / "usr/lib/sysctl.d/10-a.conf", "vm.swappiness = 99\n");
  write_fixture(root / "run/sysctl.d/20-b.conf", "vm/swappiness=30\nnot an assignment\n");
  write_fixture(root / "usr/lib/sysctl.d/30-c.conf", "vm.min_free_kbytes = 90112\n");
  write_fixture(root / "lib/sysctl.d/30-c.conf", "vm.min_free_kbytes = 90112\n");
  write_fixture(root / "usr/local/lib/sysctl.d/15-d.conf", "kernel.numa_balancing = 0\n");
  write_fixture(root / "etc/sysctl.d/README", "vm.swappiness = 1\n");
  write_fixture(root / "etc/sysctl.conf", "vm.swappiness=60\n");
  write_fixture(root / "proc/self/mountinfo",
                "22 1 0:21 / / rw,relatime - overlay overlay rw\n"
                "23 22 0:22 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw\n"
                "24 23 0:22 /sys /proc/sys ro,nosuid,nodev,noexec,relatime - proc proc rw\n");
  write_fixture(root / "run/systemd/container", "docker\n");
}

TEST(SysctlConf, NormalizesKeysLikeSystemd) {
  EXPECT_EQ(normalize_sysctl_key("vm.swappiness"), "vm.swappiness");
  EXPECT_EQ(normalize_sysctl_key("vm/swappiness"), "vm.swappiness");
  EXPECT_EQ(normalize_sysctl_key("  net/ipv4/ip_forward "), "net.ipv4.ip_forward");
  // The first separator decides: a '/' form keeps dots inside names as slashes.
  EXPECT_EQ(normalize_sysctl_key("net/ipv4/conf/eth0.100/rp_filter"),
            "net.ipv4.conf.eth0/100.rp_filter");
  EXPECT_EQ(normalize_sysctl_key("net.ipv4.conf.eth0/100.rp_filter"),
            "net.ipv4.conf.eth0/100.rp_filter");
  EXPECT_EQ(normalize_sysctl_key("/vm//swappiness/"), "vm.swappiness");
  EXPECT_EQ(normalize_sysctl_key("vm..swappiness"), "vm.swappiness");
}

TEST(SysctlConf, ParsesAssignmentsCommentsAndIgnoreErrorPrefix) {
  std::vector<core::Error> bad;
  const auto a = parse_sysctl_conf(
      "# c\n  ; c2\n\n vm.swappiness =  10 \n-vm.dirty_bytes=1 2\t3\n!net.ipv4.conf.*.x\n"
      "garbage\n = 5\nkernel/shmmax=68719476736",
      "/etc/sysctl.d/x.conf", &bad);
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a[0].key, "vm.swappiness");
  EXPECT_EQ(a[0].value, "10");
  EXPECT_EQ(a[0].line, 4);
  EXPECT_EQ(a[0].file, "/etc/sysctl.d/x.conf");
  EXPECT_FALSE(a[0].ignore_errors);
  EXPECT_EQ(a[1].key, "vm.dirty_bytes");
  EXPECT_EQ(a[1].value, "1 2\t3");
  EXPECT_TRUE(a[1].ignore_errors);
  EXPECT_EQ(a[2].key, "kernel.shmmax");  // no final newline
  EXPECT_EQ(a[2].line, 9);
  ASSERT_EQ(bad.size(), 2u);
  EXPECT_EQ(bad[0].line, 7);
  EXPECT_EQ(bad[0].path, "/etc/sysctl.d/x.conf");
  EXPECT_NE(bad[0].to_string().find("x.conf:7"), std::string::npos);
  EXPECT_EQ(bad[1].line, 8);
}

TEST(SysctlConf, DamagedTextNeverCrashesAndKeepsGoodLines) {
  std::vector<core::Error> bad;
  EXPECT_TRUE(parse_sysctl_conf("", "/etc/sysctl.conf", &bad).empty());
  EXPECT_TRUE(bad.empty());
  const std::string garbage("\x01\x02\xff\xfe=\x00zz\nvm.swappiness=5\nvm.overcommit_mem", 40);
  const auto a = parse_sysctl_conf(garbage, "/etc/sysctl.conf", &bad);
  ASSERT_FALSE(a.empty());
  EXPECT_EQ(a.back().key, "vm.swappiness");
  EXPECT_EQ(a.back().value, "5");
  EXPECT_FALSE(bad.empty());  // the truncated last line is reported
  EXPECT_EQ(bad.back().line, 3);
}

TEST(SysctlConf, OrdersFilesByNameAcrossDirectoriesWithMasking) {
  const auto order = order_sysctl_files({
      {"/etc/sysctl.d", {"99-z.conf", "10-a.conf", "README", ".conf"}},
      {"/run/sysctl.d", {"10-a.conf", "50-m.conf"}},
      {"/usr/lib/sysctl.d", {"50-m.conf", "05-first.conf", "x.conf.bak"}},
  });
  const std::vector<std::string> want{"/usr/lib/sysctl.d/05-first.conf", "/etc/sysctl.d/10-a.conf",
                                      "/run/sysctl.d/50-m.conf", "/etc/sysctl.d/99-z.conf"};
  EXPECT_EQ(order.files, want);
  ASSERT_EQ(order.masked.size(), 2u);
  EXPECT_EQ(order.masked[0].first, "/run/sysctl.d/10-a.conf");
  EXPECT_EQ(order.masked[0].second, "/etc/sysctl.d/10-a.conf");
  EXPECT_EQ(order.masked[1].first, "/usr/lib/sysctl.d/50-m.conf");
}

TEST(SysctlConf, ReadOnlyProcSysFromMountinfo) {
  const std::string docker =
      "1 0 0:1 / / rw - overlay overlay rw\n"
      "2 1 0:2 / /proc rw,nosuid - proc proc rw\n"
      "3 2 0:2 /sys /proc/sys ro,nosuid - proc proc rw\n"
      "4 2 0:3 / /proc/system rw - tmpfs tmpfs rw\n";
  EXPECT_EQ(mount_is_read_only(docker, "/proc/sys"), std::optional<bool>(true));
  // /proc/system is not a parent of /proc/sys; /proc covers /proc/sysrq-trigger.
  EXPECT_EQ(mount_is_read_only(docker, "/proc/sysrq-trigger"), std::optional<bool>(false));
  // Stacked mounts on one mount point: the later line wins.
  EXPECT_EQ(mount_is_read_only(docker + "5 3 0:2 /sys /proc/sys rw - proc proc rw\n", "/proc/sys"),
            std::optional<bool>(false));
  EXPECT_EQ(mount_is_read_only("", "/proc/sys"), std::nullopt);
  EXPECT_EQ(mount_is_read_only("garbage\n1 2 3\n", "/proc/sys"), std::nullopt);
}

TEST(SysctlConf, ReadsATreeInSystemdApplyOrder) {
  auto tmp = core::TempDir::create("vmtune-sysctlconf-");
  ASSERT_TRUE(tmp.ok());
  write_tree(tmp->path());
  model::Sample s;
  read_sysctl_conf(core::RootFs::under(tmp->path()), s);
  ASSERT_TRUE(s.sysctl_conf.ok()) << s.sysctl_conf.reason();
  const auto& c = *s.sysctl_conf.value;
  const std::vector<std::string> files{
      "/etc/sysctl.d/10-a.conf", "/usr/local/lib/sysctl.d/15-d.conf", "/run/sysctl.d/20-b.conf",
      "/usr/lib/sysctl.d/30-c.conf", "/etc/sysctl.conf"};
  EXPECT_EQ(c.files, files);
  ASSERT_EQ(c.masked.size(), 1u);  // the identical lib/ copy of 30-c.conf is not a mask
  EXPECT_NE(c.masked[0].find("/usr/lib/sysctl.d/10-a.conf"), std::string::npos);
  std::vector<std::string> seq;
  for (const auto& a : c.assignments) seq.push_back(a.key + "=" + a.value);
  const std::vector<std::string> want{"vm.swappiness=10",         "vm.dirty_ratio=15",
                                      "kernel.numa_balancing=0",  "vm.swappiness=30",
                                      "vm.min_free_kbytes=90112", "vm.swappiness=60"};
  EXPECT_EQ(seq, want);
  EXPECT_EQ(c.assignments[3].file, "/run/sysctl.d/20-b.conf");
  EXPECT_EQ(c.assignments[3].line, 1);
  EXPECT_EQ(c.proc_sys_read_only, std::optional<bool>(true));
  EXPECT_EQ(c.container, "docker");
  // The bad line of 20-b.conf is reported with file and line; the rest is kept.
  ASSERT_EQ(s.unavailable.size(), 1u);
  EXPECT_EQ(s.unavailable[0].source, "sysctl_conf");
  EXPECT_EQ(s.unavailable[0].path, "/run/sysctl.d/20-b.conf");
  EXPECT_EQ(s.unavailable[0].line, 2);
}

TEST(SysctlConf, EmptyTreeIsOkWithNothingSet) {
  auto tmp = core::TempDir::create("vmtune-sysctlconf-");
  ASSERT_TRUE(tmp.ok());
  model::Sample s;
  read_sysctl_conf(core::RootFs::under(tmp->path()), s);
  ASSERT_TRUE(s.sysctl_conf.ok());
  EXPECT_TRUE(s.sysctl_conf.value->files.empty());
  EXPECT_TRUE(s.sysctl_conf.value->assignments.empty());
  EXPECT_EQ(s.sysctl_conf.value->proc_sys_read_only, std::nullopt);
  EXPECT_TRUE(s.sysctl_conf.value->container.empty());
  EXPECT_TRUE(s.unavailable.empty());  // missing directories are normal
}

TEST(SysctlConf, UnreadableFileIsReportedAndTheOthersKept) {
  auto tmp = core::TempDir::create("vmtune-sysctlconf-");
  ASSERT_TRUE(tmp.ok());
  write_tree(tmp->path());
  // A directory where a file should be: reading it fails (EISDIR) even for root.
  fs::create_directories(tmp->path() / "etc/sysctl.d/12-dir.conf");
  model::Sample s;
  read_sysctl_conf(core::RootFs::under(tmp->path()), s);
  ASSERT_TRUE(s.sysctl_conf.ok());
  EXPECT_EQ(s.sysctl_conf.value->files.size(), 5u);
  bool reported = false;
  for (const auto& u : s.unavailable) reported |= u.path == "/etc/sysctl.d/12-dir.conf";
  EXPECT_TRUE(reported);
}

TEST(SysctlConf, SnapshotCapturesTheFilesAndReplaysThem) {
  auto tmp = core::TempDir::create("vmtune-sysctlconf-");
  ASSERT_TRUE(tmp.ok());
  write_tree(tmp->path() / "tree");
  auto fs1 = core::RootFs::under(tmp->path() / "tree");
  auto record = std::make_shared<core::ReadRecord>();
  fs1.record_into(record);
  model::Sample first;
  read_sysctl_conf(fs1, first);
  ASSERT_TRUE(first.sysctl_conf.ok());
  const auto out = tmp->path() / "snap.tar.gz";
  ASSERT_TRUE(snapshot::write_snapshot(out, model::HostInfo{}, {{*record, 1.0, 1}},
                                       json::Json::object(), {})
                  .ok());
  auto opened = snapshot::open_root(out);
  ASSERT_TRUE(opened.ok()) << opened.error().to_string();
  model::Sample replay;
  read_sysctl_conf(opened->trees.front(), replay);
  ASSERT_TRUE(replay.sysctl_conf.ok());
  EXPECT_EQ(json::sample_sections_to_json(replay)["sysctl_conf"],
            json::sample_sections_to_json(first)["sysctl_conf"]);
  EXPECT_EQ(replay.sysctl_conf.value->assignments.size(), 6u);
}

TEST(SysctlConf, LiveMachine) {
  model::Sample s;
  read_sysctl_conf(core::RootFs(), s);
  ASSERT_TRUE(s.sysctl_conf.ok()) << s.sysctl_conf.reason();
  const auto& c = *s.sysctl_conf.value;
  // Every *.conf in the vendor directory is applied, from /usr/lib or a file masking it.
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/usr/lib/sysctl.d", ec)) {
    const auto name = e.path().filename().string();
    if (e.path().extension() != ".conf") continue;
    const bool found = std::any_of(c.files.begin(), c.files.end(), [&](const std::string& f) {
      return f.size() > name.size() && f.compare(f.size() - name.size(), name.size(), name) == 0;
    });
    EXPECT_TRUE(found) << name;
  }
  if (fs::exists("/etc/sysctl.conf")) {
    ASSERT_FALSE(c.files.empty());
    EXPECT_EQ(c.files.back(), "/etc/sysctl.conf");
  }
  // This VM mounts /proc read-write (root can set sysctls): not read-only.
  ASSERT_TRUE(c.proc_sys_read_only.has_value());
  EXPECT_EQ(*c.proc_sys_read_only,
            access("/proc/sys/vm/swappiness", W_OK) != 0 && test::running_as_root());
  // A file that sets kernel.pid_max: the assignment is kept with its file and line.
  if (fs::exists("/usr/lib/sysctl.d/50-pid-max.conf")) {
    const bool has = std::any_of(c.assignments.begin(), c.assignments.end(),
                                 [](const auto& a) { return a.key == "kernel.pid_max"; });
    EXPECT_TRUE(has);
  }
}

}  // namespace
}  // namespace vmtune::collect
