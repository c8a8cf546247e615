// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// /proc/meminfo: "Key:   <n> kB" lines. kB values become bytes; HugePages_* stay counts.

#include <string>
#include <string_view>
#include <vector>

#include "core/parse.hpp"
#include "core/result.hpp"
#include "core/root_fs.hpp"
#include "model/sample.hpp"

namespace vmtune::collect {

/// The unit each meminfo field carries (fs/proc/meminfo.c, mm/hugetlb.c): every field is
/// "<n> kB" except the hugetlb pool counts HugePages_{Total,Free,Rsvd,Surp}, which have none.
/// The same holds for the per-node files (drivers/base/node.c).
core::KbUnit meminfo_unit(std::string_view key) noexcept;

/// Pure parser. Bad lines go to `bad` (file, line, field) and their field is left out: a
/// field without the unit its format has ("MemTotal:  2468", a line cut short), with another
/// unit, or whose value is not a number (empty, trailing characters, out of range) is absent,
/// never a guess. A file with no valid line at all (an empty file) is an error.
core::Result<model::MemInfo> parse_meminfo(std::string_view text, const std::string& logical_path,
                                           std::vector<core::Error>* bad);
void read_meminfo(const core::RootFs& fs, model::Sample& sample);

}  // namespace vmtune::collect
