// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// model::Sample: one raw reading of the machine, plain data only (no I/O, no third-party
// types). Collectors fill it; derive() turns two of them into rates; the rules engine and the
// front ends read it. Field names stay as the kernel spells them, kB values are bytes, and
// fields vmtune does not know are kept (maps keyed by the kernel's name), because new kernels
// add fields.
//
// Every section is a Source<T>: a value when it could be read, and a state plus core::Error
// when not.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "model/bpf_stats.hpp"
#include "model/postgres.hpp"

namespace vmtune::model {

/// Why a source has no (or partial) value.
enum class SourceState { ok, missing, permission_denied, unsupported, parse_error, not_collected };
const char* to_string(SourceState state) noexcept;

/// One thing vmtune could not measure: which source, which file, and why (in words a user can
/// act on). `line` and `field` are set for parse errors.
struct Unavailable {
  std::string source;  ///< section name, e.g. "meminfo", "processes", "bpf.reclaim"
  std::string path;    ///< logical path, e.g. "/proc/pressure/memory"
  int line = 0;
  std::string field;
  std::string reason;
};

/// One section of a Sample: its value when it could be read, and why not (or, with a value,
/// the first problem met on a single line) as a core::Error, so a reader that needs the path
/// or line takes it from the error rather than from prose.
template <typename T>
struct Source {
  SourceState state = SourceState::not_collected;
  std::optional<T> value;  ///< set when state is ok (and possibly for partial parse errors)
  /// Why the value is missing, or the first damaged line of a partly read source; empty when
  /// the source was read whole or not collected without a word.
  std::optional<core::Error> error;
  bool ok() const noexcept { return value.has_value(); }
  /// The error as a user reads it ("/proc/meminfo:3: field \"Dirty\": ..."); empty without one.
  std::string reason() const { return error ? error->to_string() : std::string(); }
};

/// Ordered name -> unsigned value map (stable JSON output).
using Counters = std::map<std::string, std::uint64_t>;

/// /proc/meminfo. Values in bytes for "kB" fields; HugePages_* are counts, as the kernel
/// prints them.
struct MemInfo {
  Counters fields;  ///< "MemTotal" -> bytes, "HugePages_Total" -> pages, ...
};

/// /proc/vmstat: every counter and gauge as printed (pages, or events; pgpgin/out in KiB).
struct VmStat {
  Counters counters;
};

/// One zone of /proc/zoneinfo. Page counts as the kernel prints them (pages).
struct Zone {
  int node = 0;
  std::string name;                    ///< "DMA", "DMA32", "Normal", "Movable", "Device"
  std::optional<std::uint64_t> free;   ///< "pages free"
  std::optional<std::uint64_t> boost;  ///< "boost" (5.0+)
  std::optional<std::uint64_t> min;    ///< watermark, pages
  std::optional<std::uint64_t> low;    ///< watermark, pages
  std::optional<std::uint64_t> high;   ///< watermark, pages
  std::optional<std::uint64_t> spanned;
  std::optional<std::uint64_t> present;
  std::optional<std::uint64_t> managed;
  std::optional<std::uint64_t> cma;
  std::vector<std::uint64_t> protection;  ///< "protection: (a, b, c, ...)" (lowmem_reserve)
  Counters stats;                         ///< the zone's nr_* and numa_* counters
  Counters node_stats;  ///< "per-node stats" block, when the kernel printed it under this zone
  std::optional<bool> node_unreclaimable;
};

/// One line of /proc/buddyinfo: free blocks per order (order 0..N-1).
struct BuddyZone {
  int node = 0;
  std::string zone;
  std::vector<std::uint64_t> free_blocks;  ///< count of free 2^order-page blocks
};

/// A PSI resource file (/proc/pressure/memory, cgroup memory.pressure).
struct PsiLine {
  double avg10 = 0;  ///< percent of wall time
  double avg60 = 0;
  double avg300 = 0;
  std::uint64_t total_us = 0;  ///< cumulative stall time, microseconds
};
struct Psi {
  std::optional<PsiLine> some;
  std::optional<PsiLine> full;
};

/// /proc/sys/vm/* and a few kernel.* keys: "vm.swappiness" -> "60" (raw text, trimmed;
/// multi-value files such as lowmem_reserve_ratio keep their whitespace-separated text).
struct Sysctl {
  std::map<std::string, std::string> values;
};

/// One assignment in a sysctl.d file, in systemd-sysctl's apply order.
struct SysctlAssignment {
  std::string file;            ///< logical path, e.g. "/etc/sysctl.d/99-db.conf"; untrusted text
  int line = 0;                ///< 1-based
  std::string key;             ///< normalised to dots ("vm.swappiness"); may hold a glob ('*')
  std::string value;           ///< trimmed text after '='; untrusted text
  bool ignore_errors = false;  ///< the line had the "-key" prefix
};

/// What systemd-sysctl (and `sysctl --system`) apply at boot: /etc, /run, /usr/local/lib,
/// /usr/lib and /lib sysctl.d/*.conf (same file name: the earlier directory masks the later),
/// sorted by file name, then /etc/sysctl.conf. Later assignments win. Plus the facts that say
/// whether sysctls can be changed from where vmtune runs.
struct SysctlConf {
  std::vector<std::string> files;             ///< logical paths, apply order
  std::vector<std::string> masked;            ///< files hidden by a same-named file earlier
  std::vector<SysctlAssignment> assignments;  ///< every assignment, apply order
  /// /proc/sys is mounted read-only (/proc/self/mountinfo): usual inside containers.
  std::optional<bool> proc_sys_read_only;
  /// Container manager named by /run/systemd/container ("docker", "lxc", "podman"...) or
  /// "podman" for /run/.containerenv; empty when neither exists.
  std::string container;
  /// The active tuned profile (/etc/tuned/active_profile, first line); empty without tuned.
  /// Untrusted text.
  std::string tuned_profile;
};

/// /sys/kernel/mm/transparent_hugepage. Selected values (the bracketed word) plus raw files.
struct Thp {
  std::string enabled;        ///< "always" | "madvise" | "never"
  std::string defrag;         ///< "always" | "defer" | "defer+madvise" | "madvise" | "never"
  std::string shmem_enabled;  ///< "always" | "within_size" | "advise" | "never" | "deny" | "force"
  std::optional<std::uint64_t> hpage_pmd_size;  ///< bytes
  std::optional<std::uint64_t> use_zero_page;
  std::map<std::string, std::string> khugepaged;  ///< file name -> trimmed text
  /// mTHP per size (6.8+): "hugepages-64kB" -> {"enabled": "inherit", "shmem_enabled": ...}
  std::map<std::string, std::map<std::string, std::string>> per_size;
};

/// One hugetlb pool (/sys/kernel/mm/hugepages/hugepages-<size>kB or the per-node variant).
struct HugePagePool {
  std::uint64_t page_size = 0;              ///< bytes
  std::optional<std::uint64_t> nr;          ///< nr_hugepages
  std::optional<std::uint64_t> free;        ///< free_hugepages
  std::optional<std::uint64_t> resv;        ///< resv_hugepages (global only)
  std::optional<std::uint64_t> surplus;     ///< surplus_hugepages
  std::optional<std::uint64_t> overcommit;  ///< nr_overcommit_hugepages (global only)
};

struct NumaNode {
  int id = 0;
  Counters meminfo;   ///< nodeN/meminfo without the "Node N " prefix; kB -> bytes
  Counters numastat;  ///< numa_hit, numa_miss, ...
  std::vector<std::uint32_t> distance;
  std::string cpulist;
  std::vector<HugePagePool> hugepages;
  Counters vmstat;  ///< nodeN/vmstat (pgscan_kswapd, pgsteal_direct, ... on kernels that have them)
};

struct Numa {
  std::string online;  ///< /sys/devices/system/node/online, e.g. "0-1"
  std::vector<NumaNode> nodes;
};

/// A line of /proc/swaps.
struct SwapDevice {
  std::string filename;    ///< untrusted text: escape before printing
  std::string type;        ///< "partition" | "file"
  std::uint64_t size = 0;  ///< bytes
  std::uint64_t used = 0;  ///< bytes
  std::int64_t priority = 0;
};

/// One cgroup v2 directory with a memory controller.
struct Cgroup {
  std::string path;  ///< relative to the cgroup2 mount, "/" for the root; untrusted text
  std::optional<std::uint64_t> current;  ///< memory.current, bytes
  std::optional<std::uint64_t> peak;     ///< memory.peak, bytes
  /// Limits: absent when the file is missing; UINT64_MAX when the file says "max".
  std::optional<std::uint64_t> max, high, low, min;
  std::optional<std::uint64_t> swap_current, swap_max;
  Counters stat;                ///< memory.stat (bytes for amounts, counts for events)
  Counters events;              ///< memory.events
  std::optional<Psi> pressure;  ///< memory.pressure
};

/// Cgroup layout of the host: "v1", "v2" (unified), "hybrid" (v1 controllers plus a cgroup2
/// mount, usually at unified/), or "none".
struct Cgroups {
  std::string layout;
  std::string v2_mount;   ///< relative to /sys, e.g. "fs/cgroup" or "fs/cgroup/unified"
  std::string self_path;  ///< this process's (or the captured reader's) v2 cgroup, "0::" line
  std::vector<Cgroup> groups;
};

/// One process. Amounts in bytes; counts as the kernel prints them.
struct Process {
  int pid = 0;
  int ppid = 0;
  std::string comm;  ///< /proc/PID/stat comm (at most 15 bytes); untrusted text
  /// /proc/PID/cmdline split at its NULs, one element per argument (trailing NULs, which
  /// setproctitle leaves as padding, dropped); empty for kernel threads. Untrusted text.
  std::vector<std::string> cmdline;
  char state = '?';  ///< stat state letter: R, S, D, Z, T, t, X, I ...; '?' when unknown
  std::uint64_t minflt = 0;
  std::uint64_t majflt = 0;
  std::optional<std::uint64_t> vm_rss, rss_anon, rss_file, rss_shmem;
  std::optional<std::uint64_t> vm_pte;  ///< page-table bytes (VmPTE)
  std::optional<std::uint64_t> vm_swap;
  std::optional<std::uint64_t> hugetlb;          ///< HugetlbPages (status)
  std::optional<std::uint64_t> anon_huge_pages;  ///< smaps_rollup AnonHugePages
  std::optional<std::uint64_t> pss;              ///< smaps_rollup Pss
  std::optional<std::uint64_t> swap_pss;         ///< smaps_rollup SwapPss
  std::string cgroup;  ///< v2 path from /proc/PID/cgroup ("0::/..."), empty if none
  /// NUMA nodes the process may allocate from (status Mems_allowed_list, "0-1"): validated as
  /// an id list, else empty.
  std::string mems_allowed;
};

/// Host facts parsers need: from uname/sysconf live, from the snapshot's meta when replaying.
struct HostInfo {
  std::string hostname;  ///< untrusted text; empty when redacted
  std::string kernel_release;
  std::string arch;
  std::uint64_t page_size = 4096;
  std::uint32_t cpus = 0;
  std::uint32_t clk_tck = 100;
  std::int64_t time_unix_ms = 0;  ///< wall clock when the sample was taken
  std::string vmtune_version;
};

struct Sample {
  HostInfo host;
  double monotonic_s = 0;  ///< CLOCK_MONOTONIC seconds; only differences are meaningful
  Source<MemInfo> meminfo;
  Source<VmStat> vmstat;
  Source<std::vector<Zone>> zones;
  Source<std::vector<BuddyZone>> buddyinfo;
  Source<Psi> psi;
  Source<Sysctl> sysctl;
  Source<SysctlConf> sysctl_conf;  ///< sysctl.d files (provenance) and container facts
  Source<Thp> thp;
  Source<std::vector<HugePagePool>> hugepages;
  Source<Numa> numa;
  Source<std::vector<SwapDevice>> swaps;
  Source<Cgroups> cgroups;
  Source<std::vector<Process>> processes;
  Source<BpfStats> bpf;  ///< filled by `trace` / `audit --trace`
  Source<PostgresFacts> postgres;
  std::vector<Unavailable> unavailable;  ///< everything not measured, with the reason
};

}  // namespace vmtune::model
