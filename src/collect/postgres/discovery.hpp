// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// PostgreSQL discovery without a connection: postmasters from the /proc process tree
// (comm "postgres"/"postmaster" whose parent is not one), their postmaster.pid (read through
// /proc/PID/cwd, which is the data directory), backends (children), the main shared segment
// from smaps, and Σ VmPTE / RssShmem / HugetlbPages over the postmaster and its children.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "core/root_fs.hpp"
#include "model/sample.hpp"

namespace vmtune::collect::postgres {

/// $PGDATA/postmaster.pid (PostgreSQL 10+ layout; lines after the data directory may be
/// absent in older or starting servers).
struct PostmasterPid {
  int pid = 0;                                  ///< line 1
  std::string data_dir;                         ///< line 2
  std::optional<std::int64_t> start_time_unix;  ///< line 3
  std::optional<int> port;                      ///< line 4
  std::string socket_dir;                       ///< line 5 (first unix_socket_directories entry)
  std::string listen_address;                   ///< line 6 (first listen_addresses entry)
  std::string shmem_key;                        ///< line 7 ("key id" of the small SysV segment)
  std::string status;  ///< line 8 ("ready", "starting", "stopping", "standby")
};
core::Result<PostmasterPid> parse_postmaster_pid(std::string_view text,
                                                 const std::string& logical_path);

/// The memory fields of /proc/PID/status discovery sums (bytes), and the real uid.
struct StatusMemory {
  std::optional<std::uint64_t> vm_pte, rss_shmem, rss_anon, hugetlb;
  std::optional<std::uint32_t> uid;
};
core::Result<StatusMemory> parse_status_memory(std::string_view text,
                                               const std::string& logical_path);

/// "postgres -D /data -p 5433" -> data dir and port from the command line (NUL-separated).
struct CmdlineHints {
  std::string data_dir;
  std::optional<int> port;
};
CmdlineHints parse_postgres_cmdline(std::string_view cmdline_nul);

/// Finds every postmaster under fs's /proc. Problems (unreadable postmaster.pid, smaps, …)
/// are appended to sample.unavailable under source "postgres"; the rest is still returned.
/// `resolve_users` maps uids to names with getpwuid (live machine only).
std::vector<model::PgInstance> discover_instances(const core::RootFs& fs, model::Sample& sample,
                                                  bool resolve_users);

}  // namespace vmtune::collect::postgres
