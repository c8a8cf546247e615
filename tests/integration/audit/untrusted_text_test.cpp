// SPDX-License-Identifier: GPL-2.0-or-later
// The text policy end to end (vmtune(8), "Untrusted text"): a real process whose argv[0] and
// comm hold invalid UTF-8, an escape sequence and a newline, in a real cgroup v2 directory named
// with such bytes, on a host whose name (in a private UTS namespace) holds them too. The built
// binary's collect (JSON and text), audit (Markdown and JSON) and snapshot/--root replay must
// exit normally, produce valid UTF-8 without a raw ESC, and show the documented escapes.
// Runs as root: it writes a cgroup and a UTS namespace's host name.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/escape.hpp"
#include "core/temp_dir.hpp"
#include "test_support.hpp"

namespace vmtune {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

const std::string kArgv0 = "\xff\x1b[31mevil\nname";  // as `exec -a $'\xff\e[31mevil\nname'`
const std::string kArgv0Escaped = "\\xff\\x1b[31mevil\\x0aname";
// Written to /proc/self/comm (at most 15 bytes). The newline is last: bash's printf flushes at
// a newline, and a second write to comm would replace the first.
const std::string kComm = "\xfe\x1b[2Jcomm\n";
const std::string kCommEscaped = "\\xfe\\x1b[2Jcomm\\x0a";
const std::string kHost = "h\xff\x1b]0;t\x07";  // ESC ] 0 ; title BEL: sets a terminal's title
const std::string kHostEscaped = "h\\xff\\x1b]0;t\\x07";

// Valid UTF-8, judged by nlohmann's strict serialiser (it throws type_error.316 otherwise).
bool valid_utf8(const std::string& s) {
  try {
    (void)Json(s).dump();
    return true;
  } catch (const Json::type_error&) {
    return false;
  }
}

std::string read_file(const fs::path& p) { return test::slurp(p); }

bool write_file(const fs::path& p, const std::string& data) {
  const int fd = ::open(p.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const auto n = ::write(fd, data.data(), data.size());
  ::close(fd);
  return n == static_cast<ssize_t>(data.size());
}

// The cgroup2 mount point from /proc/self/mountinfo ("/sys/fs/cgroup" on a unified host,
// "/sys/fs/cgroup/unified" on a hybrid one), or empty.
fs::path cgroup2_mount() {
  std::istringstream in(read_file("/proc/self/mountinfo"));
  for (std::string line; std::getline(in, line);) {
    const auto dash = line.find(" - ");
    if (dash == std::string::npos || line.compare(dash + 3, 8, "cgroup2 ") != 0) continue;
    std::istringstream f(line.substr(0, dash));
    std::string id, parent, dev, root, mount;
    f >> id >> parent >> dev >> root >> mount;
    return mount;
  }
  return {};
}

fs::path bash_binary() {
  for (const char* p : {"/usr/bin/bash", "/bin/bash"}) {
    if (::access(p, X_OK) == 0) return p;
  }
  return {};
}

// The kernel lets only a process itself write its /proc/PID/comm, and exec resets comm: so the
// process is a bash started with the hostile argv[0] (as `exec -a` does) that writes its own
// comm, then blocks reading a pipe nobody writes to.
const std::string kScript = "printf %s \"$1\" >/proc/self/comm && read -r _";

// A real process with a hostile argv[0], comm and (when cgroup v2 is writable) cgroup. Killed,
// reaped and its cgroup removed on every path out of the test.
class HostileProcess {
 public:
  HostileProcess() = default;
  HostileProcess(const HostileProcess&) = delete;
  HostileProcess& operator=(const HostileProcess&) = delete;
  ~HostileProcess() { stop(); }

  /// Starts it, in a new cgroup when `in_cgroup` and cgroup v2 is writable; returns what
  /// failed, or empty.
  std::string start(bool in_cgroup) {
    const auto bin = bash_binary();
    if (bin.empty()) return "no bash";
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return std::string("pipe: ") + std::strerror(errno);
    hold_ = fds[1];
    pid_ = ::fork();
    if (pid_ < 0) return std::string("fork: ") + std::strerror(errno);
    if (pid_ == 0) {
      ::dup2(fds[0], 0);
      std::vector<char*> argv{const_cast<char*>(kArgv0.c_str()),  const_cast<char*>("-c"),
                              const_cast<char*>(kScript.c_str()), const_cast<char*>("vmtune-test"),
                              const_cast<char*>(kComm.c_str()),   nullptr};
      ::execv(bin.c_str(), argv.data());
      ::_exit(127);
    }
    ::close(fds[0]);
    const fs::path proc = "/proc/" + std::to_string(pid_);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (read_file(proc / "comm") != kComm + "\n") {
      if (std::chrono::steady_clock::now() > deadline) return "the process did not set its comm";
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (const auto mount = in_cgroup ? cgroup2_mount() : fs::path(); !mount.empty()) {
      const auto dir = mount / ("vmtune-test-\xff\x1b[31m-" + std::to_string(pid_));
      if (::mkdir(dir.c_str(), 0755) == 0) {
        cgroup_ = dir;
        cgroup_rel_ = "/" + dir.filename().string();
        if (!write_file(dir / "cgroup.procs", std::to_string(pid_))) {
          return "cannot move the process into " + core::escape_text(dir.string());
        }
      }
    }
    return {};
  }

  void stop() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int st = 0;
      while (::waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
      }
      pid_ = -1;
    }
    if (hold_ >= 0) {
      ::close(hold_);
      hold_ = -1;
    }
    if (!cgroup_.empty()) {
      // The cgroup empties asynchronously after the reap: retry briefly.
      for (int i = 0; i < 200 && ::rmdir(cgroup_.c_str()) != 0 && errno == EBUSY; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      cgroup_.clear();
    }
  }

  pid_t pid() const { return pid_; }
  /// The cgroup path vmtune reports (relative to the cgroup2 mount), or empty when none.
  const std::string& cgroup() const { return cgroup_rel_; }

 private:
  pid_t pid_ = -1;
  int hold_ = -1;  ///< write end of the process's stdin: kept open so `read` blocks
  fs::path cgroup_;
  std::string cgroup_rel_;
};

struct Outcome {
  bool exited = false;
  int code = -1;   ///< exit status when exited
  int signal = 0;  ///< terminating signal otherwise
  std::string out;
  std::string err;
};

// Runs the built binary with `args`, in a private UTS namespace whose host name is kHost,
// killed by SIGALRM after `timeout_s` (which then shows as a signal, and fails the test).
Outcome run_vmtune(const std::vector<std::string>& args, const fs::path& tmp, int timeout_s = 120) {
  const auto out_path = tmp / "stdout";
  const auto err_path = tmp / "stderr";
  Outcome o;
  const pid_t pid = ::fork();
  if (pid < 0) return o;
  if (pid == 0) {
    if (::unshare(CLONE_NEWUTS) != 0 || ::sethostname(kHost.data(), kHost.size()) != 0) {
      ::_exit(125);
    }
    const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (out < 0 || err < 0 || ::dup2(out, 1) < 0 || ::dup2(err, 2) < 0) ::_exit(126);
    ::setenv("NO_COLOR", "1", 1);
    ::alarm(static_cast<unsigned>(timeout_s));
    const std::string bin = test::vmtune_binary().string();
    std::vector<char*> argv{const_cast<char*>(bin.c_str())};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(bin.c_str(), argv.data());
    ::_exit(127);
  }
  int st = 0;
  while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  o.exited = WIFEXITED(st);
  o.code = o.exited ? WEXITSTATUS(st) : -1;
  o.signal = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
  o.out = read_file(out_path);
  o.err = read_file(err_path);
  return o;
}

void expect_clean(const Outcome& o, const char* what) {
  EXPECT_EQ(o.out.find('\x1b'), std::string::npos) << what << ": raw ESC in the output";
  EXPECT_EQ(o.err.find('\x1b'), std::string::npos) << what << ": raw ESC on stderr";
  EXPECT_TRUE(valid_utf8(o.out)) << what << ": invalid UTF-8 in the output";
  EXPECT_TRUE(valid_utf8(o.err)) << what << ": invalid UTF-8 on stderr";
}

const Json* find_process(const Json& doc, pid_t pid) {
  if (!doc.contains("processes") || !doc["processes"].is_array()) return nullptr;
  for (const auto& p : doc["processes"]) {
    if (p.value("pid", 0) == pid) return &p;
  }
  return nullptr;
}

class UntrustedText : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!test::running_as_root()) GTEST_SKIP() << "needs root (writes /proc/PID/comm, cgroups)";
    auto t = core::TempDir::create("vmtune-untrusted-it-");
    ASSERT_TRUE(t.ok());
    tmp_.emplace(std::move(*t));
    const auto failed = proc_.start(in_cgroup());
    ASSERT_TRUE(failed.empty()) << failed;
  }
  void check_process_json(const Json& doc, const char* what) {
    const Json* p = find_process(doc, proc_.pid());
    ASSERT_NE(p, nullptr) << what << ": process " << proc_.pid() << " not in the document";
    EXPECT_EQ(p->at("comm"), kCommEscaped) << what;
    ASSERT_TRUE(p->at("cmdline").is_array()) << what;
    EXPECT_EQ(p->at("cmdline"), (Json{kArgv0Escaped, "-c", kScript, "vmtune-test", kCommEscaped}))
        << what;
    EXPECT_EQ(p->at("state"), "S") << what;
    if (!proc_.cgroup().empty()) {
      EXPECT_EQ(p->at("cgroup"), core::escape_text(proc_.cgroup())) << what;
      EXPECT_NE(p->at("cgroup").get<std::string>().find("\\xff\\x1b[31m"), std::string::npos);
    }
    // Reversible: unescaping gives the bytes back.
    EXPECT_EQ(core::unescape_text(p->at("cmdline")[0].get<std::string>()), kArgv0);
    EXPECT_EQ(core::unescape_text(p->at("comm").get<std::string>()), kComm);
    EXPECT_EQ(doc.at("kernel").at("hostname"), kHostEscaped) << what;
  }
  virtual bool in_cgroup() const { return true; }
  const fs::path& dir() const { return tmp_->path(); }

  // Snapshot, then read the archive back with --root: the bytes survive both ways.
  void snapshot_and_replay() {
    const auto snap = (dir() / "snap.tar.gz").string();
    const auto w = run_vmtune({"snapshot", "-o", snap, "--window", "0", "--no-pg"}, dir());
    ASSERT_TRUE(w.exited) << "snapshot killed by signal " << w.signal << "\n" << w.err;
    ASSERT_EQ(w.code, 0) << w.err;
    expect_clean(w, "snapshot");
    const auto r = run_vmtune({"--root", snap, "collect", "--format", "json", "--no-pg"}, dir());
    ASSERT_TRUE(r.exited) << "replay killed by signal " << r.signal << "\n" << r.err;
    EXPECT_EQ(r.code, 0) << r.err;
    expect_clean(r, "--root FILE collect --format json");
    Json doc;
    ASSERT_NO_THROW(doc = Json::parse(r.out));
    check_process_json(doc, "--root FILE collect --format json");
  }
  HostileProcess proc_;
  std::optional<core::TempDir> tmp_;
};

TEST_F(UntrustedText, CollectJsonParsesAndShowsTheEscapedNames) {
  const auto r = run_vmtune({"collect", "--format", "json", "--no-pg"}, dir());
  ASSERT_TRUE(r.exited) << "killed by signal " << r.signal << "\n" << r.err;
  EXPECT_EQ(r.code, 0) << r.err;
  expect_clean(r, "collect --format json");
  Json doc;
  ASSERT_NO_THROW(doc = Json::parse(r.out));
  EXPECT_EQ(doc.at("schema"), 2);
  check_process_json(doc, "collect --format json");
}

TEST_F(UntrustedText, CollectTextShowsEscapesOnly) {
  const auto r = run_vmtune({"collect", "--no-pg"}, dir());
  ASSERT_TRUE(r.exited) << "killed by signal " << r.signal << "\n" << r.err;
  EXPECT_EQ(r.code, 0) << r.err;
  expect_clean(r, "collect");
  EXPECT_NE(r.out.find("host " + kHostEscaped), std::string::npos) << r.out;
}

TEST_F(UntrustedText, AuditMarkdownAndJsonExitNormally) {
  for (const char* format : {"markdown", "json"}) {
    const auto r = run_vmtune({"audit", "--format", format, "--window", "1", "--no-pg"}, dir());
    ASSERT_TRUE(r.exited) << format << ": killed by signal " << r.signal << "\n" << r.err;
    EXPECT_TRUE(r.code == 0 || r.code == 1 || r.code == 2) << format << ": " << r.code << "\n"
                                                           << r.err;
    expect_clean(r, format);
    if (std::string(format) == "markdown") {
      // escape_markdown doubles the backslashes: rendered, it reads as the text escape.
      EXPECT_NE(r.out.find("# vmtune audit: h\\\\xff\\\\x1b\\]0;t\\\\x07"), std::string::npos)
          << r.out.substr(0, 200);
    } else {
      Json doc;
      ASSERT_NO_THROW(doc = Json::parse(r.out));
      EXPECT_EQ(doc.at("host").at("hostname"), kHostEscaped);
    }
  }
}

TEST_F(UntrustedText, SnapshotAndReplayKeepTheBytes) { snapshot_and_replay(); }

// The same without the cgroup: process names and the host name are file contents in the
// archive, a cgroup's name is an entry's path.
class UntrustedTextNoCgroup : public UntrustedText {
 protected:
  bool in_cgroup() const override { return false; }
};

TEST_F(UntrustedTextNoCgroup, SnapshotAndReplayKeepProcessNames) { snapshot_and_replay(); }

}  // namespace
}  // namespace vmtune
