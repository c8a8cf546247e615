// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// /proc/pressure/memory (and any PSI resource file of the same format, such as a cgroup's
// memory.pressure): "some avg10=.. avg60=.. avg300=.. total=<us>" and the same for "full".
// A kernel without PSI has no file; a file with only a "some" line leaves `full` absent.

#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "core/root_fs.hpp"
#include "model/sample.hpp"

namespace vmtune::collect {

/// Pure parser. A bad line goes to `bad` (file, line, field) and its kind stays absent; a
/// file with neither a valid "some" nor "full" line is an error.
core::Result<model::Psi> parse_psi(std::string_view text, const std::string& logical_path,
                                   std::vector<core::Error>* bad);
void read_psi(const core::RootFs& fs, model::Sample& sample);

}  // namespace vmtune::collect
