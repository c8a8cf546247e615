// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// "name value" files: /proc/vmstat, /sys/devices/system/node/nodeN/numastat, a cgroup's
// memory.stat and memory.events. One parser for all of them.

#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "model/sample.hpp"

namespace vmtune::collect {

/// Pure parser of "name value" lines, values u64 as printed (above INT64_MAX kept); a name seen
/// twice keeps its last value. Bad lines go to `bad` (file, line, field) and are skipped. An
/// empty file, or one without any valid line, is an error: "no <format> line found".
core::Result<model::Counters> parse_counters(std::string_view text, const std::string& logical_path,
                                             std::vector<core::Error>* bad,
                                             std::string_view format = "\"name value\"");

}  // namespace vmtune::collect
