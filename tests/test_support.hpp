// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// Shared test helpers: where fixtures are, reading expected.json, skipping cleanly when the
// team's ../shared/fixtures is not beside the clone (a user's clone has none).

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace vmtune::test {

/// ../shared/fixtures (or $VMTUNE_SHARED_FIXTURES).
inline std::filesystem::path shared_fixtures() {
  if (const char* env = std::getenv("VMTUNE_SHARED_FIXTURES"); env != nullptr && *env != '\0') {
    return env;
  }
  return VMTUNE_SHARED_FIXTURES;
}

/// tests/data: fixture trees the project carries itself.
inline std::filesystem::path test_data() { return VMTUNE_TEST_DATA; }

inline std::filesystem::path vmtune_binary() { return VMTUNE_BINARY; }

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// The parsed shared expected.json, or null when absent.
inline const nlohmann::json& shared_expected() {
  static const nlohmann::json j = [] {
    const auto p = shared_fixtures() / "expected.json";
    if (!std::filesystem::exists(p)) return nlohmann::json();
    return nlohmann::json::parse(slurp(p));
  }();
  return j;
}

/// Writes one file of a fixture tree built in a temporary directory: the directories above
/// `path` are created, `text` is written as is (binary, no newline conversion).
inline void write_fixture(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

inline bool running_as_root() { return ::geteuid() == 0; }

struct CommandResult {
  int exit_code = -1;  ///< exit status, or 128+signal
  std::string out;     ///< standard output
};

/// Runs a shell command line, capturing stdout (stderr goes to `stderr_file` when given).
inline CommandResult run_command(const std::string& cmd, const std::string& stderr_file = {}) {
  CommandResult r;
  const std::string full = cmd + (stderr_file.empty() ? "" : " 2>" + stderr_file);
  FILE* p = ::popen(full.c_str(), "r");
  if (p == nullptr) return r;
  char buf[65536];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int st = ::pclose(p);
  if (WIFEXITED(st)) {
    r.exit_code = WEXITSTATUS(st);
  } else if (WIFSIGNALED(st)) {
    r.exit_code = 128 + WTERMSIG(st);
  }
  return r;
}

/// `s` in single quotes for /bin/sh.
inline std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

struct CliResult {
  int code = -1;  ///< exit status, or -1 when killed by a signal
  std::string out, err;
};

/// Runs `vmtune ARGS` (ARGS already quoted for the shell), its stdout and stderr kept in files
/// in `dir` (so a test failure can show both).
inline CliResult run_vmtune(const std::string& args, const std::filesystem::path& dir) {
  const auto out = dir / "stdout", err = dir / "stderr";
  const std::string cmd = shell_quote(vmtune_binary().string()) + " " + args + " >" +
                          shell_quote(out.string()) + " 2>" + shell_quote(err.string());
  const int st = std::system(cmd.c_str());
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, slurp(out), slurp(err)};
}

/// Compares `got` with the golden file `path`; with VMTUNE_UPDATE_GOLDEN=1 in the environment,
/// rewrites the file instead (and skips the test, saying so).
inline void check_golden_file(const std::filesystem::path& path, const std::string& got) {
  const char* update = std::getenv("VMTUNE_UPDATE_GOLDEN");
  if (update != nullptr && std::string(update) == "1") {
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << got;
    GTEST_SKIP() << "updated " << path;
  }
  ASSERT_TRUE(std::filesystem::exists(path)) << path << " missing: run with VMTUNE_UPDATE_GOLDEN=1";
  EXPECT_EQ(got, slurp(path)) << "differs from " << path;
}

/// Kills (SIGKILL) and reaps a child process when it goes out of scope, however the test ends.
struct ChildReaper {
  pid_t pid;
  explicit ChildReaper(pid_t child) : pid(child) {}
  ChildReaper(const ChildReaper&) = delete;
  ChildReaper& operator=(const ChildReaper&) = delete;
  ~ChildReaper() {
    if (pid <= 0) return;
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
};

/// Starts `vmtune ARGV...` in the background (no shell), stdout and stderr to `dir`/stdout and
/// `dir`/stderr; returns its pid (reap it with wait_exit).
inline pid_t spawn_vmtune(const std::vector<std::string>& args, const std::filesystem::path& dir) {
  const std::string bin = vmtune_binary().string();
  const std::string out = (dir / "stdout").string(), err = (dir / "stderr").string();
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(bin.c_str()));
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    const int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (o < 0 || e < 0 || ::dup2(o, 1) < 0 || ::dup2(e, 2) < 0) ::_exit(126);
    ::execv(bin.c_str(), argv.data());
    ::_exit(127);
  }
  return pid;
}

/// Waits for `pid`: its exit status, or 128 + the signal that killed it.
inline int wait_exit(pid_t pid) {
  int st = 0;
  if (::waitpid(pid, &st, 0) != pid) return -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : -1;
}

}  // namespace vmtune::test

/// Skips the test when ../shared/fixtures is absent (one-line reason).
#define VMTUNE_REQUIRE_SHARED_FIXTURES()                                                      \
  do {                                                                                        \
    if (!std::filesystem::exists(::vmtune::test::shared_fixtures() / "expected.json")) {      \
      GTEST_SKIP() << "shared fixtures not present at " << ::vmtune::test::shared_fixtures(); \
    }                                                                                         \
  } while (0)

#define VMTUNE_REQUIRE_ROOT()                                             \
  do {                                                                    \
    if (!::vmtune::test::running_as_root()) GTEST_SKIP() << "needs root"; \
  } while (0)
