// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// Sysctl values vmtune reasons about: every regular file directly in /proc/sys/vm, plus
// kernel.shmmax, kernel.shmall, kernel.shmmni, kernel.numa_balancing and kernel.osrelease.
// Keys are sysctl(8) names ("vm.swappiness"); values are the raw text, trimmed, with internal
// runs of whitespace (lowmem_reserve_ratio's tabs, multi-line files) collapsed to one space.
//
// Write-only files (vm.compact_memory, vm.drop_caches: mode --w-------) are skipped without
// being opened: reading them fails even for root, and that is not a problem worth reporting.
// Nothing here ever writes to /proc/sys. Reading vm.stat_refresh (root only) folds the per-CPU
// vmstat counters into the global ones, which is harmless and even helpful.

#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "core/root_fs.hpp"
#include "model/sample.hpp"

namespace vmtune::collect {

/// The kernel.* keys read besides /proc/sys/vm, as paths relative to /proc/sys.
const std::vector<std::string>& sysctl_kernel_keys();

/// "vm/page-cluster" (relative to /proc/sys) -> "vm.page-cluster".
std::string sysctl_name(std::string_view rel_to_proc_sys);

/// Pure parser for one sysctl file: trims, collapses whitespace runs to single spaces.
/// Control bytes other than whitespace, or invalid content (NUL), are a parse error naming the
/// file, the line and the sysctl key. An empty value (vm.stat_refresh reads as "") is valid.
core::Result<std::string> parse_sysctl_value(std::string_view text,
                                             const std::string& logical_path,
                                             const std::string& key);

void read_sysctl(const core::RootFs& fs, model::Sample& sample);

}  // namespace vmtune::collect
