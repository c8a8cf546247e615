// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// /proc/vmstat: "name value" lines. Every counter is kept as printed (pages or events;
// pgpgin/pgpgout are KiB), including names vmtune does not know, because new kernels add them.

#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "core/root_fs.hpp"
#include "model/sample.hpp"

namespace vmtune::collect {

/// Pure parser. Bad lines go to `bad` (file, line, field) and are skipped; a file with no
/// valid line at all is an error.
core::Result<model::VmStat> parse_vmstat(std::string_view text, const std::string& logical_path,
                                         std::vector<core::Error>* bad);
void read_vmstat(const core::RootFs& fs, model::Sample& sample);

}  // namespace vmtune::collect
