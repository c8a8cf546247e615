// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// What the eBPF probes measured over a trace window, decoded into plain data. No BPF types
// appear here: src/collect/bpf/ decodes map contents into these structs.
//
// Names used by `vmtune trace`, the audit rules (bpf.hist.*, bpf.counter.*, bpf.probe.*) and
// the JSON schema:
//   histograms: direct_reclaim_us, memcg_reclaim_us, compaction_us, direct_compaction_us,
//               writeback_pause_us
//   top:        direct_reclaim, memcg_reclaim (pages = pages reclaimed),
//               direct_compaction (count = direct compaction entries, order = largest order),
//               writeback_throttle (pages = pages dirtied), thp_collapse (count = collapses,
//               pages = successful collapses)
//   counters:   see src/collect/bpf/<probe>.cpp (kswapd_wakes, lru_scanned_file, ...)

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace vmtune::model {

/// Log2 histogram: slots[i] counts events with value in [2^i, 2^(i+1)) (slot 0 also holds 0).
struct Log2Histogram {
  std::string unit;  ///< "us" or "pages" etc.
  std::vector<std::uint64_t> slots;
  std::uint64_t count = 0;
  std::uint64_t sum = 0;
  std::uint64_t max = 0;
};

/// Status of one probe group ("reclaim", "compaction", "thp", "writeback", "oom", "faults"),
/// and of capabilities the kernel may lack ("fault_latency").
struct ProbeStatus {
  std::string name;
  bool attached = false;
  std::string mode;    ///< "tp_btf", "tp", "tp_btf+tp" (mixed), or empty when not attached
  std::string reason;  ///< why it is unavailable, in words a user can act on
  std::vector<std::string> events;  ///< tracepoints attached, "vmscan:mm_vmscan_kswapd_wake"
  std::vector<std::string> notes;   ///< optional tracepoints that could not attach, and why
};

/// Per-process aggregate for one kind of stall or event.
struct ProcessStall {
  int pid = 0;
  std::string comm;  ///< untrusted text
  std::uint64_t cgroup_id = 0;  ///< cgroup v2 id (kernfs inode) at the first event
  std::string cgroup;           ///< its path under the cgroup2 mount, when found; untrusted text
  std::uint64_t count = 0;
  std::uint64_t total_us = 0;
  std::uint64_t max_us = 0;
  std::uint64_t pages = 0;  ///< pages reclaimed / dirtied, or successful collapses (per kind)
  std::optional<std::uint32_t> order;  ///< largest allocation order (direct_compaction)
  std::vector<std::uint64_t> latency_slots;  ///< per-process log2 us histogram, when kept
};

/// One stall longer than the trace's threshold, with the process that suffered it.
struct StallEvent {
  std::string kind;  ///< "direct_reclaim", "memcg_reclaim", "compaction", "direct_compaction",
                     ///< "writeback_throttle"
  std::int64_t time_unix_ms = 0;
  int pid = 0;
  int tid = 0;
  std::string comm;  ///< untrusted text
  std::uint64_t cgroup_id = 0;
  std::uint64_t latency_us = 0;
  std::uint64_t pages = 0;  ///< pages reclaimed (reclaim), pages dirtied (writeback)
  std::optional<std::int32_t> order;   ///< allocation order (reclaim, direct compaction)
  std::optional<std::int32_t> status;  ///< compaction result (enum compact_result)
  std::string detail;  ///< e.g. compaction result name, writeback device; untrusted text
};

/// An OOM kill seen by oom:mark_victim.
struct OomKill {
  std::int64_t time_unix_ms = 0;
  int pid = 0;
  std::string comm;  ///< untrusted text
  /// Memory of the victim (bytes); absent when the kernel's tracepoint does not carry it.
  std::optional<std::uint64_t> total_vm, anon_rss, file_rss, shmem_rss, pgtables;
  std::optional<std::int32_t> oom_score_adj;
  std::optional<std::uint32_t> uid;
  std::optional<std::uint64_t> memcg_id;  ///< kernfs id of the victim's memory cgroup
  std::string cgroup;  ///< memory cgroup path (v1 "memory:/x" or v2 "/x"), when found; untrusted
  int trigger_pid = 0;        ///< the task whose allocation invoked the OOM killer
  std::string trigger_comm;   ///< untrusted text
};

/// Page faults, from exceptions:page_fault_user / page_fault_kernel.
struct FaultCounts {
  std::uint64_t user_read = 0;
  std::uint64_t user_write = 0;
  std::uint64_t kernel_read = 0;
  std::uint64_t kernel_write = 0;
  std::uint64_t total = 0;
};
struct ProcessFaults {
  int pid = 0;
  std::string comm;  ///< untrusted text
  std::uint64_t cgroup_id = 0;
  std::string cgroup;  ///< untrusted text
  FaultCounts faults;
};
struct CgroupFaults {
  std::uint64_t cgroup_id = 0;
  std::string cgroup;  ///< path under the cgroup2 mount when found; untrusted text
  std::uint64_t processes = 0;
  FaultCounts faults;
};

struct BpfStats {
  double duration_s = 0;
  std::vector<ProbeStatus> probes;
  std::map<std::string, Log2Histogram> histograms;  ///< "direct_reclaim_us", ...
  std::map<std::string, std::vector<ProcessStall>> top;  ///< "direct_reclaim", ...
  std::map<std::string, std::uint64_t> counters;  ///< "kswapd_wakes", "lru_scanned_file", ...
  std::vector<OomKill> oom_kills;
  std::vector<StallEvent> slow_events;  ///< stalls over `slow_threshold_us`, oldest first
  std::uint64_t slow_threshold_us = 0;
  std::vector<ProcessFaults> faults;          ///< top processes by faults (probe "faults")
  std::vector<CgroupFaults> cgroup_faults;    ///< every cgroup seen (probe "faults")
};

}  // namespace vmtune::model
