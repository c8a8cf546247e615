// SPDX-License-Identifier: GPL-2.0-or-later
#include "collect/sysctl.hpp"

#include <gtest/gtest.h>
#include <sys/utsname.h>

#include <algorithm>
#include <fstream>

#include "core/parse.hpp"
#include "core/temp_dir.hpp"
#include "strict_support.hpp"
#include "test_support.hpp"

namespace vmtune::collect {
namespace {

using test::shared_expected;
using test::shared_fixtures;
using test::slurp;

void write_file(const std::filesystem::path& p, const std::string& content,
                std::filesystem::perms mode = std::filesystem::perms(0644)) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p) << content;
  std::filesystem::permissions(p, mode);
}

std::vector<std::string> sources_of(const model::Sample& s, const std::string& source) {
  std::vector<std::string> paths;
  for (const auto& u : s.unavailable) {
    if (u.source == source) paths.push_back(u.path);
  }
  return paths;
}

// procfs's TestVM asserts all 43 /proc/sys/vm files: numbers, a list and a word.
TEST(Sysctl, MatchesProcfsEveryVmFile) {
  VMTUNE_REQUIRE_SHARED_FIXTURES();
  model::Sample s;
  read_sysctl(core::RootFs::under(shared_fixtures() / "prometheus-procfs"), s);
  ASSERT_TRUE(s.sysctl.ok()) << s.sysctl.reason();
  const auto& v = s.sysctl.value->values;
  int checked = 0;
  const std::string prefix = "prometheus-procfs/proc/sys/vm/";
  for (const auto& [rel, exp] : shared_expected().items()) {
    if (rel.rfind(prefix, 0) != 0) continue;
    const std::string key = "vm." + rel.substr(prefix.size());
    ASSERT_TRUE(v.count(key)) << key;
    const auto& want = exp.at("value");
    std::string w;
    if (want.is_array()) {
      for (const auto& x : want)
        w += (w.empty() ? "" : " ") + std::to_string(x.get<std::uint64_t>());
    } else if (want.is_string()) {
      w = want.get<std::string>();
    } else {
      w = std::to_string(want.get<std::uint64_t>());
    }
    EXPECT_EQ(v.at(key), w) << key;
    ++checked;
  }
  EXPECT_EQ(checked, 43);
  EXPECT_EQ(v.size(), 43u);  // the tree has no kernel.* files...
  // ...and each missing kernel key is reported, with its logical path.
  EXPECT_EQ(sources_of(s, "sysctl"),
            (std::vector<std::string>{"/proc/sys/kernel/shmmax", "/proc/sys/kernel/shmall",
                                      "/proc/sys/kernel/shmmni", "/proc/sys/kernel/numa_balancing",
                                      "/proc/sys/kernel/osrelease"}));
}

TEST(Sysctl, FirecrackerTreeHasEveryFileAndKernelKeys) {
  VMTUNE_REQUIRE_SHARED_FIXTURES();
  const auto root = shared_fixtures() / "live-firecracker-6.18";
  model::Sample s;
  read_sysctl(core::RootFs::under(root), s);
  ASSERT_TRUE(s.sysctl.ok()) << s.sysctl.reason();
  const auto& v = s.sysctl.value->values;
  std::size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(root / "proc/sys/vm")) {
    ++files;
    const std::string key = "vm." + e.path().filename().string();
    ASSERT_TRUE(v.count(key)) << key;
    // Raw text, trimmed, whitespace runs collapsed.
    std::string want;
    const std::string text = slurp(e.path());
    for (auto w : core::split_ws(text)) {
      for (const auto& l : core::split_lines(w)) {
        if (!l.text.empty()) want += (want.empty() ? "" : " ") + std::string(l.text);
      }
    }
    EXPECT_EQ(v.at(key), want) << key;
  }
  EXPECT_EQ(v.size(), files + 4);  // + shmmax, shmall, numa_balancing, osrelease
  EXPECT_EQ(v.at("vm.lowmem_reserve_ratio"), "256 256 32 0 0");
  EXPECT_EQ(v.at("kernel.osrelease").rfind("6.18", 0), 0u);
  EXPECT_EQ(v.at("kernel.shmmax"), "18446744073692774399");
  EXPECT_EQ(sources_of(s, "sysctl"), std::vector<std::string>{"/proc/sys/kernel/shmmni"});
}

// Write-only knobs are never opened: root could read a 0200 file on a normal file system,
// so the value's absence proves the collector looked at the mode and skipped it.
TEST(Sysctl, WriteOnlyFilesAreSkippedSilentlyAndNeverRead) {
  auto tmp = core::TempDir::create("vmtune-test-");
  ASSERT_TRUE(tmp.ok());
  const auto vm = tmp->path() / "proc/sys/vm";
  write_file(vm / "drop_caches", "3\n", std::filesystem::perms::owner_write);
  write_file(vm / "compact_memory", "1\n", std::filesystem::perms::owner_write);
  write_file(vm / "swappiness", "60\n");
  write_file(vm / "stat_refresh", "", std::filesystem::perms(0600));
  std::filesystem::create_directories(vm / "subdir");  // flat directory: ignored
  for (const auto& k : sysctl_kernel_keys()) write_file(tmp->path() / "proc/sys" / k, "7\n");
  model::Sample s;
  read_sysctl(core::RootFs::under(tmp->path()), s);
  ASSERT_TRUE(s.sysctl.ok());
  EXPECT_TRUE(s.unavailable.empty());
  EXPECT_TRUE(s.sysctl.reason().empty());
  const auto& v = s.sysctl.value->values;
  EXPECT_EQ(v.count("vm.drop_caches"), 0u);
  EXPECT_EQ(v.count("vm.compact_memory"), 0u);
  EXPECT_EQ(v.count("vm.subdir"), 0u);
  EXPECT_EQ(v.at("vm.swappiness"), "60");
  EXPECT_EQ(v.at("vm.stat_refresh"), "");
  EXPECT_EQ(v.at("kernel.numa_balancing"), "7");
  EXPECT_EQ(v.size(), 7u);
}

TEST(Sysctl, ValuesAreTrimmedAndCollapsed) {
  auto one = [](const std::string& text, const std::string& key = "vm.x") {
    auto r = parse_sysctl_value(text, "/proc/sys/vm/x", key);
    EXPECT_TRUE(r.ok()) << text;
    return r.ok() ? *r : std::string("<error>");
  };
  EXPECT_EQ(one("60\n"), "60");
  EXPECT_EQ(one("256\t256\t32\t0\t0\n"), "256 256 32 0 0");
  EXPECT_EQ(one("1\n2\n"), "1 2");
  EXPECT_EQ(one("-1\n"), "-1");  // plain ints without a lower bound (proc_dointvec)
  EXPECT_EQ(one("18446744073692774399\n", "kernel.shmmax"), "18446744073692774399");
  EXPECT_EQ(one("  Node \n", "vm.numa_zonelist_order"), "Node");
  EXPECT_EQ(one("a\n  b\t\tc\n\n", "kernel.osrelease"), "a b c");
  EXPECT_EQ(one("", "vm.stat_refresh"), "");
}

TEST(Sysctl, ControlBytesAreAnErrorNamingFileLineAndKey) {
  auto r = parse_sysctl_value(std::string("60\n1\x01\x1b[2J\n", 9), "/proc/sys/vm/swappiness",
                              "vm.swappiness");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, core::ErrorKind::parse_error);
  EXPECT_EQ(r.error().line, 2);
  EXPECT_EQ(r.error().field, "vm.swappiness");
  EXPECT_EQ(r.error().to_string().rfind("/proc/sys/vm/swappiness:2: field \"vm.swappiness\": ", 0),
            0u);
  EXPECT_EQ(r.error().to_string().find('\x1b'), std::string::npos);  // escaped in the message
  EXPECT_FALSE(parse_sysctl_value(std::string("6\0", 2), "/p", "k").ok());

  // In a tree: the bad file is reported, the other values are kept.
  auto tmp = core::TempDir::create("vmtune-test-");
  ASSERT_TRUE(tmp.ok());
  write_file(tmp->path() / "proc/sys/vm/swappiness", std::string("\x7f\x01", 2));
  write_file(tmp->path() / "proc/sys/vm/dirty_ratio", "20");  // truncated: no newline, fine
  for (const auto& k : sysctl_kernel_keys()) write_file(tmp->path() / "proc/sys" / k, "1\n");
  model::Sample s;
  read_sysctl(core::RootFs::under(tmp->path()), s);
  ASSERT_TRUE(s.sysctl.ok());
  EXPECT_EQ(s.sysctl.value->values.at("vm.dirty_ratio"), "20");
  EXPECT_EQ(s.sysctl.value->values.count("vm.swappiness"), 0u);
  ASSERT_EQ(s.unavailable.size(), 1u);
  EXPECT_EQ(s.unavailable[0].path, "/proc/sys/vm/swappiness");
  EXPECT_EQ(s.unavailable[0].field, "vm.swappiness");
  EXPECT_EQ(s.unavailable[0].line, 1);
}

TEST(Sysctl, MissingDirectoryAndKeys) {
  auto tmp = core::TempDir::create("vmtune-test-");
  ASSERT_TRUE(tmp.ok());
  std::filesystem::create_directories(tmp->path() / "proc");
  {
    model::Sample s;
    read_sysctl(core::RootFs::under(tmp->path()), s);
    EXPECT_FALSE(s.sysctl.ok());
    EXPECT_EQ(s.sysctl.state, model::SourceState::missing);
    ASSERT_EQ(s.unavailable.size(), 1u);
    EXPECT_EQ(s.unavailable[0].path, "/proc/sys/vm");
  }
  // No vm directory but kernel keys: keep what was read, report the directory.
  write_file(tmp->path() / "proc/sys/kernel/osrelease", "6.1.0\n");
  model::Sample s;
  read_sysctl(core::RootFs::under(tmp->path()), s);
  ASSERT_TRUE(s.sysctl.ok());
  EXPECT_EQ(s.sysctl.value->values.at("kernel.osrelease"), "6.1.0");
  ASSERT_FALSE(s.unavailable.empty());
  EXPECT_EQ(s.unavailable[0].path, "/proc/sys/vm");
  EXPECT_EQ(s.unavailable.size(), 5u);  // the directory + 4 missing kernel keys
}

TEST(Sysctl, ProjectTreeLiveDebian12) {
  const auto root = test::test_data() / "live-debian12";
  model::Sample s;
  read_sysctl(core::RootFs::under(root), s);
  ASSERT_TRUE(s.sysctl.ok()) << s.sysctl.reason();
  EXPECT_TRUE(s.unavailable.empty());
  const auto& v = s.sysctl.value->values;
  std::size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(root / "proc/sys/vm")) {
    ++files;
    EXPECT_TRUE(v.count("vm." + e.path().filename().string())) << e.path();
  }
  EXPECT_EQ(v.size(), files + sysctl_kernel_keys().size());
  EXPECT_EQ(v.at("vm.lowmem_reserve_ratio"), "256 256 32 0 0");  // tab-separated in the file
  EXPECT_EQ(v.at("vm.stat_refresh"), "");
  EXPECT_EQ(v.count("vm.drop_caches"), 0u);  // write-only on the machine: never captured
  // shmall is in pages and shmmax in bytes; the kernel defaults keep shmall*4096 >= shmmax.
  EXPECT_GE(std::stod(v.at("kernel.shmall")) * 4096, std::stod(v.at("kernel.shmmax")));
  EXPECT_EQ(v.at("kernel.osrelease"), core::trim(slurp(root / "proc/sys/kernel/osrelease")));
}

TEST(Sysctl, LiveRead) {
  model::Sample s;
  read_sysctl(core::RootFs(), s);
  ASSERT_TRUE(s.sysctl.ok()) << s.sysctl.reason();
  const auto& v = s.sysctl.value->values;
  EXPECT_EQ(v.count("vm.drop_caches"), 0u);
  EXPECT_EQ(v.count("vm.compact_memory"), 0u);
  EXPECT_EQ(v.at("vm.swappiness"), core::trim(slurp("/proc/sys/vm/swappiness")));
  EXPECT_EQ(v.at("vm.min_free_kbytes"), core::trim(slurp("/proc/sys/vm/min_free_kbytes")));
  utsname u{};
  ASSERT_EQ(uname(&u), 0);
  EXPECT_EQ(v.at("kernel.osrelease"), u.release);
  if (test::running_as_root()) {
    EXPECT_TRUE(s.unavailable.empty())
        << s.unavailable.front().path << ": " << s.unavailable.front().reason;
    EXPECT_TRUE(v.count("vm.stat_refresh"));  // 0600: root only
  }
}

// Strict parsing: a numeric knob whose value is not integers is a parse error for that key.
TEST(SysctlStrict, NumericKnobsMustBeIntegers) {
  const auto error = [](const std::string& text, const std::string& key) {
    auto r = parse_sysctl_value(text, "/proc/sys/" + key, key);
    EXPECT_FALSE(r.ok()) << key << " = " << text;
    return r.ok() ? std::string() : r.error().to_string();
  };
  const std::string want = "expected an integer (or integers separated by blanks): ";
  EXPECT_EQ(error("abc\n", "vm.swappiness"),
            "/proc/sys/vm.swappiness:1: field \"vm.swappiness\": " + want + "not a number");
  EXPECT_EQ(error("60x\n", "vm.swappiness"),
            "/proc/sys/vm.swappiness:1: field \"vm.swappiness\": " + want +
                "trailing characters after the number");
  EXPECT_EQ(
      error("99999999999999999999\n", "vm.min_free_kbytes"),
      "/proc/sys/vm.min_free_kbytes:1: field \"vm.min_free_kbytes\": " + want + "out of range");
  EXPECT_EQ(error("-99999999999999999999\n", "kernel.shmmax"),
            "/proc/sys/kernel.shmmax:1: field \"kernel.shmmax\": " + want + "out of range");
  EXPECT_EQ(
      error("", "vm.zone_reclaim_mode"),
      "/proc/sys/vm.zone_reclaim_mode:1: field \"vm.zone_reclaim_mode\": expected an integer: "
      "empty");
  EXPECT_EQ(error(" \n", "kernel.numa_balancing"),
            "/proc/sys/kernel.numa_balancing:1: field \"kernel.numa_balancing\": expected an "
            "integer: empty");
  // A list: the bad word's line is named.
  EXPECT_EQ(error("256\t256\n32 x\n", "vm.lowmem_reserve_ratio"),
            "/proc/sys/vm.lowmem_reserve_ratio:2: field \"vm.lowmem_reserve_ratio\": " + want +
                "not a number");
  // Text keys must not be empty either (an empty read is damage); stat_refresh reads empty.
  EXPECT_EQ(
      error("\n", "vm.numa_zonelist_order"),
      "/proc/sys/vm.numa_zonelist_order:1: field \"vm.numa_zonelist_order\": expected a value: "
      "empty");
  EXPECT_EQ(error("", "kernel.osrelease"),
            "/proc/sys/kernel.osrelease:1: field \"kernel.osrelease\": expected a value: empty");
  EXPECT_TRUE(parse_sysctl_value("", "/proc/sys/vm/stat_refresh", "vm.stat_refresh").ok());
  EXPECT_TRUE(sysctl_is_numeric("vm.swappiness"));
  EXPECT_TRUE(sysctl_is_numeric("vm.lowmem_reserve_ratio"));
  EXPECT_FALSE(sysctl_is_numeric("vm.numa_zonelist_order"));
  EXPECT_FALSE(sysctl_is_numeric("kernel.osrelease"));
  EXPECT_FALSE(sysctl_is_numeric("net.ipv4.tcp_congestion_control"));
}

// In a tree: `abc`, an empty file and a cut value are unavailable, each naming file, line and
// key; the other keys are kept.
TEST(SysctlStrict, DamagedValuesAreUnavailableInATree) {
  auto tmp = core::TempDir::create("vmtune-test-");
  ASSERT_TRUE(tmp.ok());
  const auto vm = tmp->path() / "proc/sys/vm";
  write_file(vm / "swappiness", "abc\n");
  write_file(vm / "zone_reclaim_mode", "");
  write_file(vm / "min_free_kbytes", "67584 kB\n");
  write_file(vm / "dirty_ratio", "20\n");
  write_file(vm / "numa_zonelist_order", "Node\n");
  for (const auto& k : sysctl_kernel_keys()) write_file(tmp->path() / "proc/sys" / k, "1\n");
  model::Sample s;
  read_sysctl(core::RootFs::under(tmp->path()), s);
  ASSERT_TRUE(s.sysctl.ok());
  const auto& v = s.sysctl.value->values;
  EXPECT_EQ(v.count("vm.swappiness"), 0u);
  EXPECT_EQ(v.count("vm.zone_reclaim_mode"), 0u);
  EXPECT_EQ(v.count("vm.min_free_kbytes"), 0u);
  EXPECT_EQ(v.at("vm.dirty_ratio"), "20");
  EXPECT_EQ(v.at("vm.numa_zonelist_order"), "Node");
  auto entries = test::unavailable_strings(s);
  std::sort(entries.begin(), entries.end());
  const std::string want = "expected an integer (or integers separated by blanks): ";
  EXPECT_EQ(entries,
            (std::vector<std::string>{
                "sysctl|/proc/sys/vm/min_free_kbytes|1|vm.min_free_kbytes|" + want + "not a number",
                "sysctl|/proc/sys/vm/swappiness|1|vm.swappiness|" + want + "not a number",
                "sysctl|/proc/sys/vm/zone_reclaim_mode|1|vm.zone_reclaim_mode|expected an "
                "integer: empty",
            }));
}

}  // namespace
}  // namespace vmtune::collect
