// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// A real, private PostgreSQL 15 for the integration tests: initdb into a temporary directory as
// the postgres user, a private socket directory and port, stopped (pg_ctl, then SIGKILL by pid)
// and removed whatever happens. Also an RAII guard for vm.nr_hugepages.

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace vmtune::test {

/// Output and exit status of a shell command.
struct Command {
  int status = -1;
  std::string out;  ///< stdout and stderr
};
Command pg_shell(const std::string& cmd);  // stdout and stderr together

/// Single-quotes `s` for /bin/sh.
std::string sh_quote(const std::string& s);

class PgServer {
 public:
  static constexpr const char* kBin = "/usr/lib/postgresql/15/bin";
  /// Password of the non-superuser role `vmtune_ro` (member of nothing until granted).
  static constexpr const char* kPassword = "right-password";

  /// initdb (trust over the socket, scram-sha-256 over TCP) on a free port >= 54329.
  /// Empty when PostgreSQL 15 is not installed or initdb fails (reason in *why).
  static std::optional<PgServer> create(std::string* why);
  PgServer(PgServer&& other) noexcept;
  PgServer& operator=(PgServer&&) = delete;
  PgServer(const PgServer&) = delete;
  PgServer& operator=(const PgServer&) = delete;
  ~PgServer();

  /// Starts (or restarts) with these settings (an empty one: postgresql.conf's); listens on the
  /// socket and 127.0.0.1.
  /// `extra`: more server options ("-c max_connections=200"), after the defaults.
  bool start(const std::string& huge_pages, const std::string& shared_buffers, std::string* why,
             const std::string& extra = "");
  void stop() noexcept;

  int port() const noexcept { return port_; }
  const std::filesystem::path& dir() const noexcept { return dir_; }
  std::filesystem::path data_dir() const { return dir_ / "data"; }
  std::filesystem::path socket_dir() const { return dir_ / "sock"; }
  pid_t postmaster_pid() const;

  /// psql -Atc as the superuser over the socket; the trimmed output.
  Command psql(const std::string& sql, const std::string& db = "postgres") const;
  /// pgbench as the postgres user with these arguments (database "postgres").
  Command pgbench(const std::string& args) const;
  /// Conninfo for the superuser over the socket.
  std::string socket_conninfo() const;

 private:
  PgServer(std::filesystem::path dir, int port) : dir_(std::move(dir)), port_(port) {}
  std::filesystem::path dir_;
  int port_ = 0;
  pid_t last_pid_ = 0;
};

/// Restores a /proc/sys file (e.g. vm/nr_hugepages) to its value at construction.
class SysctlGuard {
 public:
  explicit SysctlGuard(std::filesystem::path path);
  ~SysctlGuard();
  SysctlGuard(const SysctlGuard&) = delete;
  SysctlGuard& operator=(const SysctlGuard&) = delete;
  bool write(const std::string& value) const;
  std::string read() const;
  const std::string& original() const noexcept { return original_; }

 private:
  std::filesystem::path path_;
  std::string original_;
};

/// Drops the page cache of every file under dir (POSIX_FADV_DONTNEED; clean pages only).
void drop_file_cache(const std::filesystem::path& dir);

}  // namespace vmtune::test
