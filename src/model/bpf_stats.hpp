// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// What the eBPF probes measured over a trace window, decoded into plain data. No BPF types
// appear here: src/collect/bpf/ decodes map contents into these structs.

#include <cstdint>
#include <map>
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

/// Status of one probe group ("reclaim", "compaction", "thp", "writeback", "oom", "faults").
struct ProbeStatus {
  std::string name;
  bool attached = false;
  std::string mode;    ///< "tp_btf", "tp", or empty when not attached
  std::string reason;  ///< why it is unavailable, in words a user can act on
};

/// Per-process aggregate for one kind of stall or event.
struct ProcessStall {
  int pid = 0;
  std::string comm;  ///< untrusted text
  std::uint64_t cgroup_id = 0;
  std::uint64_t count = 0;
  std::uint64_t total_us = 0;
  std::uint64_t max_us = 0;
  std::uint64_t pages = 0;  ///< pages reclaimed, or order for compaction, as documented per kind
};

/// An OOM kill seen by oom:mark_victim.
struct OomKill {
  std::int64_t time_unix_ms = 0;
  int pid = 0;
  std::string comm;  ///< untrusted text
  std::uint64_t total_vm = 0, anon_rss = 0, file_rss = 0, shmem_rss = 0;  ///< bytes
  std::uint64_t pgtables = 0;  ///< bytes
  std::int32_t oom_score_adj = 0;
};

struct BpfStats {
  double duration_s = 0;
  std::vector<ProbeStatus> probes;
  std::map<std::string, Log2Histogram> histograms;  ///< "direct_reclaim_us", ...
  std::map<std::string, std::vector<ProcessStall>> top;  ///< "direct_reclaim", ...
  std::map<std::string, std::uint64_t> counters;  ///< "kswapd_wakes", "lru_scanned_file", ...
  std::vector<OomKill> oom_kills;
};

}  // namespace vmtune::model
