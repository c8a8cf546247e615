// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// Per-process memory: for every numeric /proc directory, stat (pid, comm, state, ppid, minflt,
// majflt), cmdline, status (VmRSS, RssAnon, RssFile, RssShmem, VmPTE, VmSwap, HugetlbPages),
// smaps_rollup where readable (AnonHugePages, Pss, SwapPss) and the v2 path from cgroup.
//
// A process that exits during the scan is skipped silently. Permission denied on smaps_rollup
// (a non-root reader looking at other users' processes) is recorded once for the whole scan.
// Kernel threads (empty cmdline, no VmRSS) are kept, with their RSS fields absent.
//
// Two scanners: the RootFs one (every tree: live, captured, --root) and a libproc2 one (live
// /proc only, hard-coded by the library). bench/process_scan_bench measures both; the live path
// uses the faster, see kLiveScanUsesLibproc2.

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

struct ProcessScanStats {
  std::size_t scanned = 0;                 ///< numeric /proc entries looked at
  std::size_t exited = 0;                  ///< vanished during the scan (skipped)
  std::size_t smaps_denied = 0;            ///< smaps_rollup permission denied
  bool smaps_denied_even_to_root = false;  ///< ... and root itself was refused
};

/// Scans through RootFs (works for any tree). Fails only when the proc root cannot be listed.
core::Result<std::vector<model::Process>> scan_processes_rootfs(const core::RootFs& fs,
                                                                bool smaps_rollup,
                                                                std::vector<core::Error>* bad,
                                                                ProcessScanStats* stats = nullptr);

/// Scans the live /proc with libproc2's pids API (VmPTE and HugetlbPages, which libproc2 4.0
/// does not offer, are read from status directly). Live machine only.
core::Result<std::vector<model::Process>> scan_processes_libproc2(
    bool smaps_rollup, std::vector<core::Error>* bad, ProcessScanStats* stats = nullptr);

/// Which scanner the live path uses: decided by bench/process_scan_bench (see scripts/bench).
inline constexpr bool kLiveScanUsesLibproc2 = false;

/// Fills sample.processes, sorted by pid.
void read_processes(const core::RootFs& fs, model::Sample& sample, bool smaps_rollup);

}  // namespace vmtune::collect
