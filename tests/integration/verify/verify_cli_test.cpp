// SPDX-License-Identifier: GPL-2.0-or-later
// `vmtune apply --verify SECONDS` on this kernel with a real workload: a writer in a memory
// cgroup held at its limit (so it reclaims all the time) and a plan that either throttles it
// (a tiny vm.dirty_bytes: rolled back on its own, exit 7, every byte as before) or does not
// (a lower vm.dirty_background_ratio: kept). Ctrl-C in either phase leaves the machine as it
// was. Every value is also put back by a guard, whatever happens.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/temp_dir.hpp"
#include "integration/bpf/bpf_test_util.hpp"
#include "sysctl_guard.hpp"
#include "test_support.hpp"

namespace vmtune {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

std::string read(const fs::path& p) { return test::read_raw(p).value_or(""); }

/// A process writing 1 MiB blocks over a 128 MiB file in a 64 MiB memory cgroup: its dirty
/// page cache keeps the cgroup at its limit, so it reclaims (memcg reclaim) as it writes.
/// Killed and its file removed on destruction.
/// A memory cgroup with a hard limit: cgroup v1's memory controller (this host is hybrid) or
/// cgroup v2's memory.max. Removed afterwards.
class MemoryCgroup {
 public:
  explicit MemoryCgroup(std::uint64_t limit) {
    const std::string name = "vmtune-verify-it-" + std::to_string(::getpid());
    if (fs::exists("/sys/fs/cgroup/memory/memory.limit_in_bytes")) {
      path_ = "/sys/fs/cgroup/memory/" + name;
      ok_ = ::mkdir(path_.c_str(), 0755) == 0 &&
            test::bpf::write_file(path_ + "/memory.limit_in_bytes", std::to_string(limit));
      failcnt_ = "memory.failcnt";
    } else if (test::bpf::read_file("/sys/fs/cgroup/cgroup.subtree_control").find("memory") !=
               std::string::npos) {
      path_ = "/sys/fs/cgroup/" + name;
      ok_ = ::mkdir(path_.c_str(), 0755) == 0 &&
            test::bpf::write_file(path_ + "/memory.max", std::to_string(limit));
      failcnt_ = "memory.events";
    }
  }
  ~MemoryCgroup() {
    for (int i = 0; i < 50 && ::rmdir(path_.c_str()) != 0 && errno == EBUSY; ++i) ::usleep(100000);
  }
  bool ok() const { return ok_; }
  bool join() const { return test::bpf::write_file(path_ + "/cgroup.procs", "0"); }
  /// Times the limit was hit: v1 memory.failcnt, v2 memory.events "max".
  std::uint64_t limit_hits() const {
    const auto text = test::bpf::read_file(path_ + "/" + failcnt_);
    const auto at = failcnt_ == "memory.events" ? text.find("\nmax ") : std::string::npos;
    return std::strtoull(text.c_str() + (at == std::string::npos ? 0 : at + 5), nullptr, 10);
  }

 private:
  std::string path_, failcnt_;
  bool ok_ = false;
};

/// A process writing 1 MiB blocks over a 128 MiB file in a 64 MiB memory cgroup: its dirty
/// page cache keeps the cgroup at its limit, so it reclaims (memcg reclaim) as it writes.
/// Killed and its file removed on destruction.
class CgroupWriter {
 public:
  CgroupWriter() : cg_(64u << 20) {
    if (!cg_.ok()) return;
    file_ = "/var/tmp/vmtune-verify-it-" + std::to_string(::getpid());
    pid_ = test::bpf::spawn_child([this] {
      if (!cg_.join()) return 2;
      const int fd = ::open(file_.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
      if (fd < 0) return 3;
      std::vector<char> block(1u << 20, 'x');
      for (off_t off = 0;; off = (off + (1 << 20)) % (128 << 20)) {
        if (::pwrite(fd, block.data(), block.size(), off) < 0) return 4;
      }
    });
    // Until the cgroup has filled to its limit and the writer reclaims steadily.
    std::this_thread::sleep_for(std::chrono::seconds(2));
  }
  ~CgroupWriter() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (!file_.empty()) ::unlink(file_.c_str());
  }
  bool ok() const { return cg_.ok() && pid_ > 0; }
  std::uint64_t limit_hits() const { return cg_.limit_hits(); }

 private:
  MemoryCgroup cg_;
  std::string file_;
  pid_t pid_ = -1;
};

class VerifyCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    auto t = core::TempDir::create("vmtune-verify-it-");
    ASSERT_TRUE(t.ok());
    tmp_.emplace(std::move(*t));
    for (const char* k : {"vm.dirty_bytes", "vm.dirty_background_ratio", "vm.swappiness"}) {
      ASSERT_TRUE(guard_.save(k)) << k;
    }
    for (const auto& f : kFiles) before_.push_back(read(f));
  }
  void expect_all_as_before() const {
    for (std::size_t i = 0; i < kFiles.size(); ++i)
      EXPECT_EQ(read(kFiles[i]), before_[i]) << kFiles[i];
  }
  fs::path dir() const { return tmp_->path(); }
  std::string journal_arg() const {
    return " --journal-dir " + test::shell_quote((dir() / "j").string());
  }
  fs::path plan(const std::string& key, const std::string& value, const std::string& rule) const {
    const auto p = dir() / "plan.json";
    const Json change = {{"kind", "sysctl"},  {"key", key},     {"target", ""}, {"current", ""},
                         {"proposed", value}, {"evidence", ""}, {"note", ""},   {"rules", {rule}}};
    std::ofstream(p) << Json{{"steps", {{{"title", "test"}, {"changes", {change}}}}}}.dump();
    return p;
  }
  test::CliResult vmtune(const std::string& args) const { return test::run_vmtune(args, dir()); }
  /// The journal's state field ("rolled-back", "applied", ...), or "".
  std::string journal_state() const {
    if (!fs::exists(dir() / "j")) return "";
    for (const auto& e : fs::directory_iterator(dir() / "j")) {
      if (e.path().extension() == ".json")
        return Json::parse(test::slurp(e.path())).value("state", "");
    }
    return "";
  }

  const std::vector<std::string> kFiles = {
      "/proc/sys/vm/dirty_bytes", "/proc/sys/vm/dirty_ratio", "/proc/sys/vm/dirty_background_ratio",
      "/proc/sys/vm/dirty_background_bytes", "/proc/sys/vm/swappiness"};
  test::ProcSysRestore guard_;
  std::vector<std::string> before_;
  std::optional<core::TempDir> tmp_;
};

TEST_F(VerifyCli, AHarmfulValueIsRolledBackOnItsOwnAndSaysWhy) {
  CgroupWriter writer;
  if (!writer.ok()) GTEST_SKIP() << "no memory cgroup controller to hold the writer in";
  const auto r = vmtune("apply --plan " +
                        test::shell_quote(plan("vm.dirty_bytes", "65536", "R-DIRTY-2").string()) +
                        " --verify 5" + journal_arg());
  EXPECT_EQ(r.code, 7) << r.out << r.err;
  EXPECT_GT(writer.limit_hits(), 0u) << "the writer's cgroup never reached its limit";
  EXPECT_NE(r.out.find("vm.dirty_bytes (/proc/sys/vm/dirty_bytes): 0 -> 65536 (taken)"),
            std::string::npos)
      << r.out;
  // The writer is throttled in balance_dirty_pages: that is what rose, and why it went back
  // (measured by the eBPF writeback probe, or by PSI io where it cannot attach).
  const bool probe = r.out.find("writeback: balance_dirty_pages pauses (eBPF) (ms/s), decides") !=
                     std::string::npos;
  if (!probe) {
    EXPECT_NE(r.out.find("PSI io some decides for writeback"), std::string::npos) << r.out;
  }
  EXPECT_NE(r.out.find(probe ? "because: balance_dirty_pages pauses (eBPF) rose from "
                             : "because: PSI io some rose from "),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("verify: a symptom got worse; rolled back:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("vm.dirty_bytes: 65536 -> 0 (put back)"), std::string::npos) << r.out;
  // The reclaim the cgroup is in is measured too, before and after, side by side.
  EXPECT_NE(r.out.find(probe ? "direct_reclaim time in direct and memcg reclaim (eBPF)"
                             : "direct_reclaim direct reclaim entries (allocstall)"),
            std::string::npos)
      << r.out;
  expect_all_as_before();
  EXPECT_EQ(journal_state(), "rolled-back");
  const auto again = vmtune("rollback" + journal_arg());
  EXPECT_EQ(again.code, 0) << again.err;
  EXPECT_NE(again.out.find("already rolled back"), std::string::npos) << again.out;
}

TEST_F(VerifyCli, AHarmlessChangeUnderTheSameWorkloadIsKept) {
  CgroupWriter writer;
  if (!writer.ok()) GTEST_SKIP() << "no memory cgroup controller to hold the writer in";
  const std::string value = read("/proc/sys/vm/dirty_background_ratio") == "4\n" ? "3" : "4";
  const auto r =
      vmtune("apply --plan " +
             test::shell_quote(plan("vm.dirty_background_ratio", value, "R-DIRTY-1").string()) +
             " --verify 6" + journal_arg());
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("verify: no symptom got worse beyond the noise; the change is kept"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(read("/proc/sys/vm/dirty_background_ratio"), value + "\n");
  EXPECT_EQ(journal_state(), "applied");
  const auto back = vmtune("rollback" + journal_arg());
  EXPECT_EQ(back.code, 0) << back.out << back.err;
  expect_all_as_before();
}

TEST_F(VerifyCli, SecondsOutOfRangeAndDryRunAreUsageErrors) {
  EXPECT_EQ(vmtune("apply --verify 1" + journal_arg()).code, 3);
  EXPECT_EQ(vmtune("apply --verify nan" + journal_arg()).code, 3);
  const auto r = vmtune("apply --verify 5 --dry-run" + journal_arg());
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("excludes"), std::string::npos) << r.err;
  expect_all_as_before();
}

TEST_F(VerifyCli, CtrlCDuringTheBaselineWritesNothingAndAfterApplyingRollsBack) {
  const auto p =
      plan("vm.swappiness", read("/proc/sys/vm/swappiness") == "7\n" ? "8" : "7", "R-SWAP-1");
  const std::vector<std::string> args = {
      "apply", "--plan", p.string(), "--verify", "60", "--journal-dir", (dir() / "j").string()};
  pid_t pid = test::spawn_vmtune(args, dir());
  std::this_thread::sleep_for(std::chrono::seconds(1));
  ::kill(pid, SIGINT);
  EXPECT_EQ(test::wait_exit(pid), 130) << test::slurp(dir() / "stderr");
  EXPECT_NE(test::slurp(dir() / "stderr").find("nothing was written"), std::string::npos);
  EXPECT_EQ(journal_state(), "");
  expect_all_as_before();

  // Interrupted after the write: the journal is on disk and the value taken; Ctrl-C puts it back.
  const auto start = std::chrono::steady_clock::now();
  pid = test::spawn_vmtune(
      {"apply", "--plan", p.string(), "--verify", "5", "--journal-dir", (dir() / "j").string()},
      dir());
  while (test::slurp(dir() / "stdout").find("undo with:") == std::string::npos &&
         std::chrono::steady_clock::now() - start < std::chrono::seconds(60)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ::kill(pid, SIGINT);
  EXPECT_EQ(test::wait_exit(pid), 130)
      << test::slurp(dir() / "stdout") << test::slurp(dir() / "stderr");
  EXPECT_NE(test::slurp(dir() / "stdout").find("interrupted before the verdict; rolled back"),
            std::string::npos)
      << test::slurp(dir() / "stdout");
  EXPECT_EQ(journal_state(), "rolled-back");
  expect_all_as_before();
}

}  // namespace
}  // namespace vmtune
