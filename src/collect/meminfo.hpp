// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// /proc/meminfo: "Key:   <n> kB" lines. kB values become bytes; HugePages_* stay counts.

#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "core/root_fs.hpp"
#include "model/sample.hpp"

namespace vmtune::collect {

/// Pure parser. Bad lines go to `bad` (file, line, field) and are skipped; a file with no
/// valid line at all is an error.
core::Result<model::MemInfo> parse_meminfo(std::string_view text, const std::string& logical_path,
                                           std::vector<core::Error>* bad);
void read_meminfo(const core::RootFs& fs, model::Sample& sample);

}  // namespace vmtune::collect
