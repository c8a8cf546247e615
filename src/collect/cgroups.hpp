// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// Cgroups: the layout of /sys/fs/cgroup (v2, v1, hybrid or none), this reader's own v2 cgroup
// (/proc/self/cgroup "0::" line) and, for the v2 hierarchy, every cgroup's memory.* files:
// current, peak, max, high, low, min, swap.current, swap.max, stat, events and pressure
// (stat and events through parse_counters, collect/counters.hpp).
// The walk is bounded (kMaxCgroupDepth levels, kMaxCgroups groups); a truncated walk says so
// in sample.unavailable.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "core/root_fs.hpp"
#include "model/sample.hpp"

namespace vmtune::collect {

inline constexpr int kMaxCgroupDepth = 4;         ///< levels below the v2 root
inline constexpr std::size_t kMaxCgroups = 2000;  ///< groups read per sample

/// Where the cgroup hierarchies are, as found in a mount table or a directory tree.
struct CgroupLayout {
  std::string layout;    ///< "v2", "v1", "hybrid" or "none"
  std::string v2_mount;  ///< relative to the sys tree ("fs/cgroup/unified"); empty without v2
};

/// Layout from /proc/self/mountinfo text. `sys_prefix` is the logical sys root ("/sys"); only
/// cgroup mounts below it count. Returns layout "none" when no cgroup mount is listed.
CgroupLayout parse_cgroup_mountinfo(std::string_view text, std::string_view sys_prefix);

/// Layout from the shape of the sys tree (for captured trees without a mount table):
/// fs/cgroup/cgroup.controllers -> v2; fs/cgroup/unified/cgroup.controllers -> hybrid; a v1
/// controller directory such as fs/cgroup/memory -> v1.
CgroupLayout detect_cgroup_layout_from_tree(const core::RootFs& fs);

/// A one-value limit file (memory.max, high, low, min, swap.max): "max" -> UINT64_MAX, else an
/// unsigned byte count. Empty, negative or other text is a parse error naming the path and
/// `field` (the file's name), without quoting the content.
core::Result<std::uint64_t> parse_cgroup_limit(std::string_view text,
                                               const std::string& logical_path,
                                               const std::string& field = {});

/// The v2 path from /proc/<pid>/cgroup: the "0::<path>" line, empty when there is none.
std::string parse_cgroup_v2_path(std::string_view text);

/// Reads the memory files of one cgroup directory (`rel_dir` relative to the sys tree; `path`
/// is the name to record, "/" for the root). Missing files stay absent; other problems go to
/// `bad`. `any` is set when at least one memory file was read.
model::Cgroup read_cgroup_memory(const core::RootFs& fs, const std::string& rel_dir,
                                 const std::string& path, std::vector<core::Error>* bad, bool* any);

/// Fills sample.cgroups.
void read_cgroups(const core::RootFs& fs, model::Sample& sample);

}  // namespace vmtune::collect
