// SPDX-License-Identifier: GPL-2.0-or-later
// Root-only: the real `vmtune trace` binary as a non-root user (plain, and with file
// capabilities), and detaching on SIGINT/SIGTERM.
#include <poll.h>
#include <signal.h>
#include <spawn.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "bpf_test_util.hpp"
#include "core/temp_dir.hpp"

extern char** environ;

namespace vmtune::test::bpf {
namespace {

struct RunResult {
  int status = -1;
  std::string out;
};

RunResult run(const std::string& cmd) {
  RunResult r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int rc = ::pclose(p);
  r.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  return r;
}

/// A temporary user without a home directory, removed afterwards, and a world-executable copy
/// of the vmtune binary it can run.
class TempUser {
 public:
  TempUser() {
    name_ = "vmtbpf" + std::to_string(::getpid() % 100000);
    ok_ = sh("useradd -M -s /usr/sbin/nologin " + name_ + " >/dev/null 2>&1") == 0;
    auto dir = core::TempDir::create("vmtune-bpf-user-");
    if (!dir) {
      ok_ = false;
      return;
    }
    dir_.emplace(std::move(*dir));
    ::chmod(dir_->path().c_str(), 0755);
    binary_ = (dir_->path() / "vmtune").string();
    std::error_code ec;
    std::filesystem::copy_file(vmtune_binary(), binary_, ec);
    ::chmod(binary_.c_str(), 0755);
    ok_ = ok_ && !ec;
  }
  ~TempUser() { sh("userdel " + name_ + " >/dev/null 2>&1"); }
  bool ok() const { return ok_; }
  RunResult trace(const std::string& args) const {
    return run("runuser -u " + name_ + " -- " + binary_ + " trace " + args + " 2>/dev/null");
  }
  const std::string& binary() const { return binary_; }

 private:
  std::string name_, binary_;
  std::optional<core::TempDir> dir_;
  bool ok_ = false;
};

TEST(BpfCli, NonRootUserGetsReasonsAndExitCode6) {
  VMTUNE_REQUIRE_ROOT();
  TempUser user;
  ASSERT_TRUE(user.ok()) << "could not create a temporary user";
  const auto r = user.trace("--duration 1 --format json --probes all");
  EXPECT_EQ(r.status, 6) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  const auto disabled = read_file("/proc/sys/kernel/unprivileged_bpf_disabled");
  ASSERT_EQ(j.at("probes").size(), 7u);
  for (const auto& p : j.at("probes")) {
    EXPECT_FALSE(p.at("attached").get<bool>());
    const auto reason = p.at("reason").get<std::string>();
    EXPECT_NE(reason.find("needs root, or CAP_BPF+CAP_PERFMON"), std::string::npos) << reason;
    if (disabled != "0\n") {
      EXPECT_NE(reason.find("kernel.unprivileged_bpf_disabled="), std::string::npos) << reason;
    }
  }
  // Text output says the same, and nothing is left loaded.
  const auto text = user.trace("--duration 1");
  EXPECT_EQ(text.status, 6);
  EXPECT_NE(text.out.find("reclaim: unavailable: needs root"), std::string::npos) << text.out;
}

TEST(BpfCli, SetcapCapBpfPerfmonIsEnoughForTpBtf) {
  VMTUNE_REQUIRE_ROOT();
  TempUser user;
  ASSERT_TRUE(user.ok());
  ASSERT_EQ(sh("setcap cap_bpf,cap_perfmon=ep " + user.binary()), 0) << "setcap failed";
  const auto r = user.trace("--duration 1 --format json");
  ASSERT_EQ(r.status, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.at("probes").size(), 5u);
  for (const auto& p : j.at("probes")) {
    EXPECT_TRUE(p.at("attached").get<bool>()) << p.dump();
    EXPECT_EQ(p.at("mode"), "tp_btf") << p.dump();
  }
  // Classic tracepoints need root: forcing them reports that, per probe.
  const auto tp = user.trace("--duration 1 --format json --attach tp --probes reclaim");
  EXPECT_EQ(tp.status, 6);
  const auto jt = nlohmann::json::parse(tp.out);
  EXPECT_NE(jt.at("probes")[0].at("reason").get<std::string>().find("classic tracepoints need root"),
            std::string::npos)
      << tp.out;
}

/// Starts `vmtune trace` for 60 s, waits until it says it is tracing, sends `sig`, and checks
/// that every program it loaded is gone once it exits.
void signal_detaches(int sig) {
  const auto before = vmtune_program_ids();
  int err_pipe[2];
  ASSERT_EQ(::pipe(err_pipe), 0);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, err_pipe[1], 2);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addclose(&fa, err_pipe[0]);
  const std::string bin = vmtune_binary().string();
  std::vector<std::string> args = {bin, "trace", "--duration", "60", "--probes", "all"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  ASSERT_EQ(posix_spawn(&pid, bin.c_str(), &fa, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&fa);
  ::close(err_pipe[1]);
  std::string err;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (err.find("tracing") == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    pollfd pfd{err_pipe[0], POLLIN, 0};
    if (::poll(&pfd, 1, 200) > 0) {
      char buf[512];
      const ssize_t n = ::read(err_pipe[0], buf, sizeof buf);
      if (n <= 0) break;
      err.append(buf, static_cast<std::size_t>(n));
    }
  }
  ASSERT_NE(err.find("tracing"), std::string::npos) << err;
  std::set<std::uint32_t> ours;
  for (auto id : vmtune_program_ids()) {
    if (!before.count(id)) ours.insert(id);
  }
  EXPECT_GE(ours.size(), 6u) << "vmtune trace loaded no programs";
  ASSERT_EQ(::kill(pid, sig), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ::close(err_pipe[0]);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
  // The kernel frees released programs asynchronously (RCU): give it a moment.
  auto after = vmtune_program_ids();
  for (int i = 0; i < 50; ++i) {
    bool left = false;
    for (auto id : ours) left = left || after.count(id) != 0;
    if (!left) break;
    ::usleep(100000);
    after = vmtune_program_ids();
  }
  for (auto id : ours) EXPECT_EQ(after.count(id), 0u) << "program " << id << " still loaded";
}

TEST(BpfCli, SigintDetachesEverything) {
  VMTUNE_REQUIRE_ROOT();
  signal_detaches(SIGINT);
}

TEST(BpfCli, SigtermDetachesEverything) {
  VMTUNE_REQUIRE_ROOT();
  signal_detaches(SIGTERM);
}

}  // namespace
}  // namespace vmtune::test::bpf
