// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// NUMA nodes: /sys/devices/system/node/online and, per node, nodeN/{meminfo, numastat, distance,
// cpulist, hugepages/*}. numastat's "name value" lines go through parse_counters
// (collect/counters.hpp). Per-node vmstat is not read (the global /proc/vmstat has the same
// counters summed).

#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "core/root_fs.hpp"
#include "model/sample.hpp"

namespace vmtune::collect {

/// Kernel list syntax "0-2,4" -> {0,1,2,4}. Empty text is an empty list; anything else that is
/// not a list (or a range of more than 65536 ids) is an error.
core::Result<std::vector<int>> parse_id_list(std::string_view text,
                                             const std::string& logical_path);

/// nodeN/meminfo: "Node <n> Key:  <v> [kB]" -> Key -> bytes (counts for HugePages_*).
/// A line for another node id, or without the prefix, goes to `bad`. No valid line is an error.
core::Result<model::Counters> parse_node_meminfo(std::string_view text, int node,
                                                 const std::string& logical_path,
                                                 std::vector<core::Error>* bad);

/// nodeN/distance: "10 21" -> {10, 21}.
core::Result<std::vector<std::uint32_t>> parse_node_distance(std::string_view text,
                                                             const std::string& logical_path);

/// Fills sample.numa. Without /sys/devices/system/node (CONFIG_NUMA off) the source is
/// unsupported; when `online` is absent (captured trees) the nodeN directories are listed.
void read_numa(const core::RootFs& fs, model::Sample& sample);

}  // namespace vmtune::collect
