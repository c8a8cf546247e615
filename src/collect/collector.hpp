// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// collect_sample(): runs every file-based collector against one RootFs and returns a Sample.
// eBPF and PostgreSQL data are added by their own collectors (collect/bpf, collect/postgres).

#include <cstdint>
#include <optional>

#include "collect/processes.hpp"
#include "core/root_fs.hpp"
#include "model/sample.hpp"

namespace vmtune::collect {

struct CollectOptions {
  bool processes = true;  ///< scan /proc/PID
  /// Whose /proc/PID/smaps_rollup to read live (it walks page tables under the mmap lock).
  SmapsRollup smaps = SmapsRollup::selected;
  bool cgroups = true;
  /// Host facts to use instead of reading them (snapshots carry their own in meta.json).
  std::optional<model::HostInfo> host;
  /// Replay: the reading's own clock values (from meta.json) instead of the current time.
  std::optional<double> monotonic_s;
  std::optional<std::int64_t> time_unix_ms;
};

/// Host facts of the running machine (uname, sysconf, clock).
model::HostInfo live_host_info();
/// Host facts for a tree without meta.json: kernel release from proc/sys/kernel/osrelease,
/// page size 4096, the rest unknown.
model::HostInfo tree_host_info(const core::RootFs& fs);

/// Reads every source. Never throws for bad data: problems land in sample.unavailable.
model::Sample collect_sample(const core::RootFs& fs, const CollectOptions& options);

}  // namespace vmtune::collect
