// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// hugetlb pools: /sys/kernel/mm/hugepages/hugepages-<size>kB/{nr,free,resv,surplus}_hugepages and
// nr_overcommit_hugepages. The same reader serves the per-node pools under
// /sys/devices/system/node/nodeN/hugepages (which have no resv/overcommit files).
// Also home of the one-value sysfs helpers the THP and NUMA collectors share.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "core/root_fs.hpp"
#include "model/sample.hpp"

namespace vmtune::collect {

/// A one-value sysfs file ("2000\n"): the unsigned number, or a parse error naming the path,
/// line 1 and `field` (the file's name, so a rule needing it can say why it is absent). An
/// empty file ("file is empty") is an error, never 0.
core::Result<std::uint64_t> parse_sysfs_u64(std::string_view text, const std::string& logical_path,
                                            const std::string& field = {});

/// "hugepages-2048kB" -> 2097152 (bytes). Error for any other shape.
core::Result<std::uint64_t> parse_hugepage_dir_size(std::string_view name,
                                                    const std::string& logical_path);

/// Reads every hugepages-<size>kB directory under `rel_dir` (relative to /sys), sorted by page
/// size. Missing count files stay absent; unreadable or malformed ones are reported in `bad`.
/// Fails only when `rel_dir` itself cannot be listed.
core::Result<std::vector<model::HugePagePool>> read_hugepage_pools(const core::RootFs& fs,
                                                                   const std::string& rel_dir,
                                                                   std::vector<core::Error>* bad);

/// Fills sample.hugepages from /sys/kernel/mm/hugepages. A kernel without hugetlbfs has no such
/// directory: the source is then unsupported, with that reason.
void read_hugepages(const core::RootFs& fs, model::Sample& sample);

}  // namespace vmtune::collect
