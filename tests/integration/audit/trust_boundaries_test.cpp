// SPDX-License-Identifier: GPL-2.0-or-later
// What an unprivileged local user can put in root's way, tried for real: a process named
// "postgres" (running as nobody) whose working directory holds a FIFO, a symlink to a root-only
// file, or a file owned by someone else as postmaster.pid; and a --root tree whose links point
// out of it. vmtune must neither hang, nor crash, nor read through.
#include <grp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <thread>
#include <utility>
#include <vector>

#include "core/temp_dir.hpp"
#include "test_support.hpp"

namespace vmtune {
namespace {

constexpr uid_t kNobody = 65534;

/// A world-traversable directory owned by nobody, removed at the end.
struct UserDir {
  std::filesystem::path path;
  UserDir() {
    std::string tmpl = "/tmp/vmtune-trust-XXXXXX";
    path = ::mkdtemp(tmpl.data());
    ::chmod(path.c_str(), 0755);
    if (::chown(path.c_str(), kNobody, kNobody) != 0) path.clear();
  }
  ~UserDir() {
    std::error_code ec;
    if (!path.empty()) std::filesystem::remove_all(path, ec);
  }
};

/// A process running as nobody, named "postgres" (its comm), with `dir` as working directory.
struct FakePostgres {
  pid_t pid = -1;
  explicit FakePostgres(const std::filesystem::path& dir) {
    // comm is the executable's file name: a copy of sleep called "postgres".
    std::filesystem::copy_file("/bin/sleep", dir / "postgres");
    ::chmod((dir / "postgres").c_str(), 0755);
    pid = ::fork();
    if (pid == 0) {
      if (::chdir(dir.c_str()) != 0 || ::setgroups(0, nullptr) != 0 || ::setgid(kNobody) != 0 ||
          ::setuid(kNobody) != 0) {
        ::_exit(127);
      }
      const std::string exe = (dir / "postgres").string();
      ::execl(exe.c_str(), "postgres", "300", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    // Wait until it runs as "postgres".
    for (int i = 0; i < 300; ++i) {
      std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
      std::string name;
      std::getline(comm, name);
      if (name == "postgres") return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  ~FakePostgres() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
};

/// vmtune with a hard deadline: a hang is a failure (exit 124 from timeout), not a stuck ctest.
test::CommandResult vmtune(const std::string& args) {
  return test::run_command("timeout -s KILL 60 " + test::vmtune_binary().string() + " " + args +
                           " 2>&1");
}

class PostmasterPidTrap : public ::testing::Test {
 protected:
  void SetUp() override {
    VMTUNE_REQUIRE_ROOT();
    ASSERT_FALSE(dir_.path.empty()) << "cannot chown a directory to nobody";
  }
  // Runs collect (JSON) and audit against the live machine with the fake server present.
  void expect_refused(const std::string& why) {
    FakePostgres pg(dir_.path);
    ASSERT_GT(pg.pid, 0);
    const std::string where = "/proc/" + std::to_string(pg.pid) + "/cwd/postmaster.pid";
    for (const std::string args :
         {"collect --format json --no-processes", "audit --window 0 --format json"}) {
      const auto r = vmtune(args);
      EXPECT_NE(r.exit_code, 124) << args << " hung";
      EXPECT_LT(r.exit_code, 3) << args << ":\n" << r.out.substr(0, 2000);
      EXPECT_NE(r.out.find(where), std::string::npos) << args << ": no entry names " << where;
      EXPECT_NE(r.out.find(why), std::string::npos) << args << ": expected \"" << why << "\"";
      EXPECT_EQ(r.out.find("root:"), std::string::npos) << args << ": read /etc/shadow";
      EXPECT_EQ(r.out.find("secret-of-root"), std::string::npos) << args << ": read root's file";
    }
  }
  UserDir dir_;
};

TEST_F(PostmasterPidTrap, FifoDoesNotHang) {
  ASSERT_EQ(::mkfifo((dir_.path / "postmaster.pid").c_str(), 0644), 0);
  ASSERT_EQ(::chown((dir_.path / "postmaster.pid").c_str(), kNobody, kNobody), 0);
  expect_refused("refused: a FIFO, not a regular file");
}

TEST_F(PostmasterPidTrap, SymlinkToShadowIsNotFollowed) {
  std::filesystem::create_symlink("/etc/shadow", dir_.path / "postmaster.pid");
  ASSERT_EQ(::lchown((dir_.path / "postmaster.pid").c_str(), kNobody, kNobody), 0);
  // The data directory's base/ pointing at / must not be walked either.
  std::filesystem::create_directory_symlink("/", dir_.path / "base");
  expect_refused("refused: a symbolic link");
}

TEST_F(PostmasterPidTrap, AnotherUsersFileIsNotRead) {
  // A root-owned file in the user's directory (as a hard link to a root file would be).
  std::ofstream(dir_.path / "postmaster.pid") << "secret-of-root\n";
  ::chmod((dir_.path / "postmaster.pid").c_str(), 0600);
  expect_refused("refused: owned by uid 0, expected uid 65534");
}

TEST_F(PostmasterPidTrap, GarbageIsNotQuoted) {
  std::ofstream(dir_.path / "postmaster.pid") << "secret-of-root\nline2\n";
  ASSERT_EQ(::chown((dir_.path / "postmaster.pid").c_str(), kNobody, kNobody), 0);
  expect_refused("expected the postmaster PID (a positive number)");
}

TEST(RootTreeTrap, LinksOutOfTheTreeAreNotFollowed) {
  auto tmp = core::TempDir::create("vmtune-trust-tree-");
  ASSERT_TRUE(tmp.ok());
  const auto tree = tmp->path() / "tree";
  std::filesystem::copy(test::test_data() / "live-debian12", tree,
                        std::filesystem::copy_options::recursive);
  std::ofstream(tmp->path() / "secret") << "secret-of-root 1\n";
  std::filesystem::remove(tree / "proc/sys/vm/swappiness");
  std::filesystem::create_symlink(tmp->path() / "secret", tree / "proc/sys/vm/swappiness");
  std::filesystem::remove(tree / "proc/meminfo");
  std::filesystem::create_symlink("../../secret", tree / "proc/meminfo");
  ASSERT_EQ(::mkfifo((tree / "proc/vmstat.tmp").c_str(), 0644), 0);
  std::filesystem::remove(tree / "proc/vmstat");
  std::filesystem::rename(tree / "proc/vmstat.tmp", tree / "proc/vmstat");
  for (const std::string args : {"collect --format json", "audit --window 0 --format json"}) {
    const auto r = vmtune("--root " + tree.string() + " " + args);
    EXPECT_NE(r.exit_code, 124) << args << " hung on a FIFO";
    EXPECT_LT(r.exit_code, 3) << args << ":\n" << r.out.substr(0, 2000);
    EXPECT_EQ(r.out.find("secret-of-root"), std::string::npos) << args << " read outside the tree";
    EXPECT_NE(r.out.find("refused: a FIFO, not a regular file"), std::string::npos) << args;
  }
}

TEST(OptionTrap, NonFiniteAndOutOfRangeDurationsAreUsageErrorsNamingTheOption) {
  struct Case {
    std::string args;
    std::string option;
  };
  for (const auto& c : std::vector<Case>{{"collect --interval nan --count 2", "--interval"},
                                         {"collect --interval -1 --count 2", "--interval"},
                                         {"audit --window inf", "--window"},
                                         {"audit --trace 1e400", "--trace"},
                                         {"trace --duration nan", "--duration"},
                                         {"trace --threshold-ms -inf", "--threshold-ms"},
                                         {"snapshot -o /tmp/x.tar.gz --window nan", "--window"}}) {
    const auto r = vmtune(c.args);
    EXPECT_EQ(r.exit_code, 3) << c.args << ":\n" << r.out;
    EXPECT_EQ(r.out.rfind(c.option + ": expected a finite number from ", 0), 0u) << c.args << ":\n"
                                                                                 << r.out;
  }
}

TEST(OptionTrap, OutputRefusesWhatIsNotARegularFile) {
  auto tmp = core::TempDir::create("vmtune-trust-out-");
  ASSERT_TRUE(tmp.ok());
  const auto d = tmp->path();
  ASSERT_EQ(::mkfifo((d / "fifo").c_str(), 0644), 0);
  std::ofstream(d / "target") << "keep\n";
  std::filesystem::create_symlink(d / "target", d / "link");
  std::vector<std::pair<std::string, std::string>> cases = {
      {(d / "fifo").string(), "a FIFO exists there"},
      {(d / "link").string(), "a symbolic link exists there"},
      {d.string(), "a directory exists there"},
      {"''", "empty file name"}};
  if (test::running_as_root()) cases.push_back({"/dev/null", "a character device exists there"});
  for (const auto& [target, why] : cases) {
    for (const std::string cmd : {"collect", "audit --window 0", "snapshot --window 0"}) {
      const auto r = vmtune(cmd + " -o " + target);
      EXPECT_EQ(r.exit_code, 3) << cmd << " -o " << target << ":\n" << r.out;
      EXPECT_NE(r.out.find(why), std::string::npos) << cmd << " -o " << target << ":\n" << r.out;
    }
  }
  EXPECT_EQ(test::slurp(d / "target"), "keep\n");
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(d)) ++entries;
  EXPECT_EQ(entries, 3u) << "a temporary file was left behind";
  // A regular file is replaced atomically, and nothing else is left beside it.
  const auto r = vmtune("collect --format json --no-processes -o " + (d / "target").string());
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(test::slurp(d / "target").front(), '{');
}

TEST(OptionTrap, UnknownCommandIsNamed) {
  const auto r = vmtune("--root /tmp frobnicate");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.out,
            "vmtune: unknown command 'frobnicate' (commands: collect snapshot audit sysctl apply "
            "rollback top trace); see "
            "vmtune --help\n");
}

TEST(OptionTrap, NoCursorControlUnderTermDumb) {
  // script(1) gives vmtune a terminal on stderr; the progress line must not use \r\033[K there
  // under TERM=dumb, and does under a real terminal type (so the test can fail).
  const auto bin = test::vmtune_binary().string();
  const auto dumb = test::run_command("TERM=dumb timeout 60 script -qec '" + bin +
                                      " audit --window 1 --no-pg --no-processes' /dev/null");
  ASSERT_LT(dumb.exit_code, 3) << dumb.out;
  EXPECT_EQ(dumb.out.find("\033[K"), std::string::npos);
  const auto xterm = test::run_command("TERM=xterm timeout 60 script -qec '" + bin +
                                       " audit --window 1 --no-pg --no-processes' /dev/null");
  ASSERT_LT(xterm.exit_code, 3) << xterm.out;
  EXPECT_NE(xterm.out.find("\033[K"), std::string::npos);
}

}  // namespace
}  // namespace vmtune
