// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// Helpers for the root-only eBPF integration tests: kernel counters, RAII guards that restore
// whatever a test changed (sysctls, cgroups, users, files), and the list of loaded programs.

#include <bpf/bpf.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace vmtune::test::bpf {

inline std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline bool write_file(const std::string& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  return ok;
}

inline std::map<std::string, std::uint64_t> vmstat() {
  std::map<std::string, std::uint64_t> out;
  std::istringstream in(read_file("/proc/vmstat"));
  std::string k;
  std::uint64_t v;
  while (in >> k >> v) out[k] = v;
  return out;
}

inline std::uint64_t delta(const std::map<std::string, std::uint64_t>& a,
                           const std::map<std::string, std::uint64_t>& b, const std::string& key) {
  const auto ia = a.find(key), ib = b.find(key);
  if (ia == a.end() || ib == b.end() || ib->second < ia->second) return 0;
  return ib->second - ia->second;
}

/// IDs of loaded BPF programs whose name starts with "vmt_" (vmtune's prefix).
inline std::set<std::uint32_t> vmtune_program_ids() {
  std::set<std::uint32_t> ids;
  std::uint32_t id = 0;
  while (bpf_prog_get_next_id(id, &id) == 0) {
    const int fd = bpf_prog_get_fd_by_id(id);
    if (fd < 0) continue;
    bpf_prog_info info{};
    std::uint32_t len = sizeof info;
    if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && std::strncmp(info.name, "vmt_", 4) == 0) {
      ids.insert(id);
    }
    ::close(fd);
  }
  return ids;
}

/// Saves sysctl files and writes them back in reverse order of saving, whatever happens.
class SysctlGuard {
 public:
  void save(const std::string& path) { saved_.emplace_back(path, read_file(path)); }
  ~SysctlGuard() {
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) write_file(it->first, it->second);
  }

 private:
  std::vector<std::pair<std::string, std::string>> saved_;
};

/// A v1 memory cgroup (this host is cgroup-hybrid) with a hard limit; removed afterwards.
class MemcgV1 {
 public:
  explicit MemcgV1(std::uint64_t limit_bytes) {
    name_ = "vmtune-bpf-test-" + std::to_string(::getpid());
    path_ = "/sys/fs/cgroup/memory/" + name_;
    ok_ = std::filesystem::exists("/sys/fs/cgroup/memory/memory.limit_in_bytes") &&
          ::mkdir(path_.c_str(), 0755) == 0 &&
          write_file(path_ + "/memory.limit_in_bytes", std::to_string(limit_bytes));
  }
  ~MemcgV1() {
    // Members have exited by now; retry briefly while the kernel tears them down.
    for (int i = 0; i < 50 && ::rmdir(path_.c_str()) != 0 && errno == EBUSY; ++i) ::usleep(100000);
  }
  bool ok() const { return ok_; }
  const std::string& name() const { return name_; }
  /// A counter file of the cgroup ("memory.failcnt"), or 0.
  std::uint64_t read_u64(const std::string& file) const {
    return std::strtoull(read_file(path_ + "/" + file).c_str(), nullptr, 10);
  }
  /// Moves the calling process into the cgroup (call in the child).
  bool join() const { return write_file(path_ + "/cgroup.procs", "0"); }

 private:
  std::string name_, path_;
  bool ok_ = false;
};

/// fork()s and runs fn in the child (exit status = fn's return); returns the child's pid.
template <typename F>
pid_t spawn_child(F&& fn) {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(fn());
  return pid;
}

/// The kernel log from now on (/dev/kmsg, positioned at its end when constructed).
class Kmsg {
 public:
  Kmsg() : fd_(::open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC)) {
    if (fd_ >= 0) ::lseek(fd_, 0, SEEK_END);
  }
  ~Kmsg() {
    if (fd_ >= 0) ::close(fd_);
  }
  /// Messages logged since construction (text after the "prio,seq,ts,flags;" header).
  std::vector<std::string> read_new() {
    std::vector<std::string> out;
    char buf[8192];
    for (;;) {
      const ssize_t n = fd_ < 0 ? -1 : ::read(fd_, buf, sizeof buf);
      if (n < 0) {
        if (errno == EPIPE) continue;  // overwritten records: keep reading
        break;
      }
      std::string rec(buf, static_cast<std::size_t>(n));
      const auto semi = rec.find(';');
      out.push_back(semi == std::string::npos ? rec : rec.substr(semi + 1));
    }
    return out;
  }

 private:
  int fd_;
};

/// Runs a shell command, returns its exit status (or -1).
inline int sh(const std::string& cmd) {
  const int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

}  // namespace vmtune::test::bpf
