// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// Transparent huge pages: /sys/kernel/mm/transparent_hugepage/{enabled,defrag,shmem_enabled}
// (the bracketed word is the selection), hpage_pmd_size, use_zero_page, every khugepaged/* file
// and the per-size mTHP directories hugepages-<size>kB/{enabled,shmem_enabled} (6.8+).

#include <string>
#include <string_view>

#include "core/result.hpp"
#include "core/root_fs.hpp"
#include "model/sample.hpp"

namespace vmtune::collect {

/// "always [madvise] never" -> "madvise". A file without a bracketed word (empty, cut short)
/// is a parse error naming the path and `field` (the file's path below transparent_hugepage).
core::Result<std::string> parse_thp_selection(std::string_view text,
                                              const std::string& logical_path,
                                              const std::string& field = {});
/// A khugepaged/* file: an unsigned number, kept as its trimmed text. Anything else (empty,
/// not a number) is a parse error naming the path and `field`.
core::Result<std::string> parse_khugepaged_value(std::string_view text,
                                                 const std::string& logical_path,
                                                 const std::string& field = {});

/// Fills sample.thp. A kernel without THP (no transparent_hugepage directory) makes the source
/// unsupported with that reason; single unreadable or malformed files are recorded and skipped.
void read_thp(const core::RootFs& fs, model::Sample& sample);

}  // namespace vmtune::collect
