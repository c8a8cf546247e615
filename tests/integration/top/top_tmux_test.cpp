// SPDX-License-Identifier: GPL-2.0-or-later
// `vmtune top` in a real terminal: tmux runs it (send-keys to type, capture-pane to read the
// screen). On fixture roots: the panels show the tree's values; s and / change the process
// table; Enter shows a finding's evidence; a resize redraws; 40x12 gets the size message; q and
// SIGTERM exit 0 with the terminal as it was (stty -a before and after). Live: a process that
// faults hard rises to the top of the faults/s column.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <regex>
#include <sstream>
#include <thread>

#include "core/temp_dir.hpp"
#include "test_support.hpp"

namespace vmtune {
namespace {

namespace fs = std::filesystem;
using test::shell_quote;

bool have_tmux() { return std::system("command -v tmux >/dev/null 2>&1") == 0; }

/// One tmux session running `vmtune ARGS` inside a small shell script that records the
/// terminal settings before and after, the exit status, and the pid (for signals).
class TopSession {
 public:
  TopSession(const std::string& args, int w, int h, const std::string& locale = "C.UTF-8") {
    auto t = core::TempDir::create("vmtune-top-it-");
    EXPECT_TRUE(t.ok());
    dir_.emplace(std::move(*t));
    name_ = "vmtune-top-" + std::to_string(::getpid()) + "-" + std::to_string(++count_);
    // A server of its own (no user config, this process's environment: ASAN_OPTIONS too).
    tmux_ = "tmux -L " + name_ + " -f /dev/null ";
    const auto d = dir_->path();
    const std::string script =
        "stty -a > " + shell_quote((d / "before").string()) + "; LANG=" + locale +
        " LC_ALL=" + locale + " sh -c " +
        shell_quote("echo $$ > " + shell_quote((d / "pid").string()) + "; exec " +
                    shell_quote(test::vmtune_binary().string()) + " " + args) +
        " 2>" + shell_quote((d / "stderr").string()) + "; rc=$?; stty -a > " +
        shell_quote((d / "after").string()) + "; echo $rc > " +
        shell_quote((d / "status").string()) + "; sleep 600";
    run(tmux_ + "new-session -d -s " + name_ + " -x " + std::to_string(w) + " -y " +
        std::to_string(h) + " " + shell_quote(script));
  }
  ~TopSession() { run(tmux_ + "kill-server 2>/dev/null"); }

  std::string screen() const {
    return test::run_command(tmux_ + "capture-pane -p -t " + name_).out;
  }
  void keys(const std::string& k) const { run(tmux_ + "send-keys -t " + name_ + " " + k); }
  void resize(int w, int h) const {
    run(tmux_ + "resize-window -t " + name_ + " -x " + std::to_string(w) + " -y " +
        std::to_string(h));
  }
  /// Waits up to 15 s for the screen to satisfy `ok`; returns the last screen.
  std::string wait_for(const std::function<bool(const std::string&)>& ok) const {
    std::string s;
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (std::chrono::steady_clock::now() < until) {
      s = screen();
      if (ok(s)) return s;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return s;
  }
  std::string wait_for_text(const std::string& text) const {
    return wait_for([&](const std::string& s) { return s.find(text) != std::string::npos; });
  }
  /// The exit status once vmtune has ended, or -1 after 15 s.
  /// What vmtune wrote to stderr (sanitizer reports, errors): shown when a check fails.
  std::string errors() const { return test::slurp(dir_->path() / "stderr"); }
  int status() const {
    for (int i = 0; i < 150; ++i) {
      const auto s = test::slurp(dir_->path() / "status");
      if (!s.empty()) return std::stoi(s);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return -1;
  }
  pid_t pid() const {
    for (int i = 0; i < 50; ++i) {
      const auto s = test::slurp(dir_->path() / "pid");
      if (!s.empty()) return std::stoi(s);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return -1;
  }
  /// stty -a before and after, without the window size (a resize changes it on purpose).
  std::pair<std::string, std::string> stty() const {
    const auto strip = [](std::string s) {
      return std::regex_replace(s, std::regex("rows [0-9]+; columns [0-9]+;"), "");
    };
    return {strip(test::slurp(dir_->path() / "before")),
            strip(test::slurp(dir_->path() / "after"))};
  }

 private:
  static void run(const std::string& cmd) { std::system(cmd.c_str()); }
  std::optional<core::TempDir> dir_;
  std::string name_, tmux_;
  static inline int count_ = 0;
};

const fs::path kPg = test::test_data() / "postgres" / "pg15_hugepages_off";
const fs::path kLive = test::test_data() / "live-debian12";

std::string root(const fs::path& p) { return "--root " + shell_quote(p.string()) + " top"; }

TEST(TopTmux, TableSortsAndFiltersAndQRestoresTheTerminal) {
  if (!have_tmux()) GTEST_SKIP() << "tmux is not installed (scripts/install-deps installs it)";
  TopSession t(root(kPg), 120, 40);
  auto s = t.wait_for_text("sort minflt/s");
  for (const char* panel :
       {"Memory", "Rates (per second)", "PSI memory", "Findings", "Processes", "still picture"}) {
    EXPECT_NE(s.find(panel), std::string::npos) << panel << "\n" << s;
  }
  t.keys("s");
  s = t.wait_for_text("sort majflt/s");
  EXPECT_NE(s.find("sort majflt/s"), std::string::npos) << s;
  const auto shown = [](const std::string& screen) {
    std::smatch m;
    return std::regex_search(screen, m, std::regex("([0-9]+) shown")) ? std::stoi(m[1]) : -1;
  };
  const int all = shown(s);
  t.keys("/ p o s t g r e s Enter");
  s = t.wait_for_text("filter \"postgres\"");
  EXPECT_NE(s.find("filter \"postgres\""), std::string::npos) << s;
  EXPECT_LT(shown(s), all) << "proc/1 is not PostgreSQL\n" << s;
  EXPECT_GT(shown(s), 0) << s;
  t.keys("q");
  EXPECT_EQ(t.status(), 0) << t.errors();
  const auto [before, after] = t.stty();
  EXPECT_FALSE(before.empty());
  EXPECT_EQ(before, after);
}

TEST(TopTmux, DetailResizeSmallTerminalAndSigterm) {
  if (!have_tmux()) GTEST_SKIP() << "tmux is not installed (scripts/install-deps installs it)";
  TopSession t(root(kLive), 120, 40);
  t.wait_for_text("R-SWAP-4");
  t.keys("Tab Enter");
  auto s = t.wait_for_text("Evidence");
  EXPECT_NE(s.find("Evidence"), std::string::npos) << s;
  EXPECT_NE(s.find("SwapTotal"), std::string::npos) << s;
  t.keys("Escape");
  s = t.wait_for_text("Processes");
  t.resize(100, 30);
  // Redrawn for the new size: the header's right end ("? help") is at column 100 now.
  s = t.wait_for([](const std::string& x) {
    const auto first = x.substr(0, x.find('\n'));
    return first.size() >= 6 && first.ends_with("? help") &&
           x.find("Processes") != std::string::npos;
  });
  EXPECT_TRUE(s.substr(0, s.find('\n')).ends_with("? help")) << s;
  t.resize(40, 12);
  s = t.wait_for_text("needs at least 80x24");
  EXPECT_NE(s.find("needs at least 80x24;"), std::string::npos) << s;
  EXPECT_NE(s.find("terminal is 40x12"), std::string::npos) << s;
  t.resize(120, 40);
  s = t.wait_for_text("Processes");
  EXPECT_EQ(s.find("needs at least"), std::string::npos) << "redrawn cleanly\n" << s;
  const pid_t pid = t.pid();
  ASSERT_GT(pid, 0);
  ::kill(pid, SIGTERM);
  EXPECT_EQ(t.status(), 0);
  const auto [before, after] = t.stty();
  EXPECT_EQ(before, after);
}

// A locale that is not UTF-8: ASCII only (bars, rules, symbols), nothing garbled; and the
// smallest terminals still get a message, not a crash.
TEST(TopTmux, NonUtf8LocaleDrawsAsciiAndTinyTerminalsSurvive) {
  if (!have_tmux()) GTEST_SKIP() << "tmux is not installed (scripts/install-deps installs it)";
  TopSession t(root(kLive), 120, 40, "C");
  const auto s = t.wait_for_text("Processes");
  EXPECT_NE(s.find("-- Processes"), std::string::npos) << s;
  EXPECT_TRUE(std::all_of(s.begin(), s.end(), [](char c) { return (c & 0x80) == 0; })) << s;
  t.resize(20, 5);
  t.wait_for_text("needs");
  t.keys("q");
  EXPECT_EQ(t.status(), 0);
}

TEST(TopTmux, LiveAProcessThatFaultsHardRisesToTheTop) {
  if (!have_tmux()) GTEST_SKIP() << "tmux is not installed (scripts/install-deps installs it)";
  const pid_t child = ::fork();
  if (child == 0) {
    for (;;) {  // 64 MiB touched page by page, then given back: minor faults without end
      const std::size_t len = 64u << 20;
      void* p = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED) ::_exit(1);
      ::madvise(p, len, MADV_NOHUGEPAGE);  // a fault per 4 KiB page even with THP "always"
      for (std::size_t i = 0; i < len; i += 4096) static_cast<volatile char*>(p)[i] = 1;
      ::munmap(p, len);
    }
  }
  ASSERT_GT(child, 0);
  const test::ChildReaper reap{child};
  TopSession t("top --no-trace --no-pg", 200, 50);
  const std::regex first_row(R"(PID +minflt/s[^\n]*\n *([0-9]+) )");
  const auto s = t.wait_for([&](const std::string& x) {
    std::smatch m;
    return std::regex_search(x, m, first_row) && std::stoi(m[1]) == child;
  });
  std::smatch m;
  ASSERT_TRUE(std::regex_search(s, m, first_row)) << s;
  EXPECT_EQ(std::stoi(m[1]), child) << s;
  t.keys("q");
  EXPECT_EQ(t.status(), 0);
}

}  // namespace
}  // namespace vmtune
