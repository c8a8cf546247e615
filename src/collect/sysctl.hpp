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

#include <optional>
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

/// True for keys whose value is one or more integers: every vm.* knob except
/// vm.numa_zonelist_order (a word) and vm.stat_refresh (reads empty), and kernel.shmmax,
/// shmall, shmmni and numa_balancing. Other keys are not known to vmtune and are not checked.
bool sysctl_is_numeric(std::string_view key) noexcept;
/// True for the one key that reads as empty: vm.stat_refresh.
bool sysctl_may_be_empty(std::string_view key) noexcept;

/// Checks that `text` is one or more integers (signed, or unsigned up to 2^64-1) separated by
/// blanks or newlines. Returns the error for the first bad word, naming the file, the line
/// (counted from `first_line`) and `key`, with the problem (empty, not a number, trailing
/// characters, out of range) but never the word itself.
std::optional<core::Error> check_sysctl_numbers(std::string_view text,
                                                const std::string& logical_path,
                                                const std::string& key, int first_line);

/// Pure parser for one sysctl file: trims, collapses whitespace runs to single spaces.
/// A parse error naming the file, the line and the sysctl key, for: control bytes other than
/// whitespace (NUL), a numeric key (sysctl_is_numeric) whose value is not integers (`abc`,
/// `12x`, empty), and an empty value for any other key but vm.stat_refresh (an empty read is
/// damage, such as a snapshot extracted onto a full disk). The message describes the
/// problem without quoting the content.
core::Result<std::string> parse_sysctl_value(std::string_view text, const std::string& logical_path,
                                             const std::string& key);

void read_sysctl(const core::RootFs& fs, model::Sample& sample);

}  // namespace vmtune::collect
