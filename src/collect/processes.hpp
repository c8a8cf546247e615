// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// Per-process memory: for every numeric /proc directory, stat (pid, comm, state, ppid, minflt,
// majflt), cmdline, status (VmRSS, RssAnon, RssFile, RssShmem, VmPTE, VmSwap, HugetlbPages),
// smaps_rollup where readable (AnonHugePages, Pss, SwapPss) and the v2 path from cgroup.
//
// A process gone before its stat is read is skipped silently; one that exits after it keeps
// what was read (the rest absent), as a replay of the captured tree sees it. Permission denied
// on smaps_rollup
// (a non-root reader looking at other users' processes) is recorded once for the whole scan.
// Kernel threads (empty cmdline, no VmRSS) are kept, with their RSS fields absent.
//
// smaps_rollup walks the process's page tables under its mmap lock (45 ms for one process with
// 4 GiB resident, against 0.03 ms for status), so the live scan reads it only where its fields
// decide something: SmapsRollup::selected. Everything else comes from stat and status.
//
// Every read goes through RootFs, so a captured tree replays exactly. (libproc2 was measured
// against this and dropped: it reads /proc by hard-coded paths, bypassing the root prefix and
// the no-follow, bounded reads, and was 9 % slower over 1,076 processes.)

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "core/root_fs.hpp"
#include "model/sample.hpp"

namespace vmtune::collect {

/// The fields of /proc/PID/stat vmtune uses.
struct ProcStat {
  int pid = 0;
  std::string comm;  ///< between the first '(' and the LAST ')': may hold spaces, parens, '\n'
  char state = '?';
  int ppid = 0;
  std::uint64_t minflt = 0;
  std::uint64_t majflt = 0;
};

/// Parses /proc/PID/stat. A truncated or malformed line is an error naming the field.
core::Result<ProcStat> parse_proc_stat(std::string_view text, const std::string& logical_path);

/// Fills the status fields (kB -> bytes) that are present; absent ones stay absent.
void parse_proc_status(std::string_view text, model::Process& process);

/// Fills AnonHugePages, Pss and SwapPss (kB -> bytes) from smaps_rollup text.
void parse_smaps_rollup(std::string_view text, model::Process& process);

/// /proc/PID/cmdline -> its arguments: split at each NUL; trailing NULs (the last argument's
/// terminator, and the padding setproctitle leaves) dropped first. "" -> {} (kernel thread).
std::vector<std::string> parse_cmdline(std::string_view raw);

/// Which processes' smaps_rollup to read.
enum class SmapsRollup {
  none,      ///< none (a dashboard refresh)
  selected,  ///< select_for_smaps(): the live default
  all,       ///< every process that has one (captured trees: files cost nothing to read)
};

/// How many of the largest anonymous-memory users select_for_smaps() picks.
inline constexpr std::size_t kSmapsLargestAnon = 8;
/// How many children of each PostgreSQL postmaster it picks (the lowest pids).
inline constexpr std::size_t kSmapsBackendsPerPostmaster = 4;

/// Indexes (ascending) into `processes` whose smaps_rollup is worth its cost: the
/// kSmapsLargestAnon largest by RssAnon, every PostgreSQL postmaster (comm postgres or
/// postmaster, parent not one) and kSmapsBackendsPerPostmaster of its children.
std::vector<std::size_t> select_for_smaps(const std::vector<model::Process>& processes);

struct ProcessScanStats {
  std::size_t scanned = 0;                 ///< numeric /proc entries looked at
  std::size_t exited = 0;                  ///< vanished during the scan (skipped)
  std::size_t smaps_read = 0;              ///< smaps_rollup files read or refused
  std::size_t smaps_denied = 0;            ///< smaps_rollup permission denied
  bool smaps_denied_even_to_root = false;  ///< ... and root itself was refused
};

/// Scans through RootFs (works for any tree). Fails only when the proc root cannot be listed.
core::Result<std::vector<model::Process>> scan_processes_rootfs(const core::RootFs& fs,
                                                                SmapsRollup smaps,
                                                                std::vector<core::Error>* bad,
                                                                ProcessScanStats* stats = nullptr);

/// Fills sample.processes, sorted by pid.
void read_processes(const core::RootFs& fs, model::Sample& sample, SmapsRollup smaps);

}  // namespace vmtune::collect
