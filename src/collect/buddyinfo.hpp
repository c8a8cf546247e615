// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// /proc/buddyinfo: "Node N, zone NAME c0 c1 ... c10", the count of free 2^order-page blocks
// per order. The unusable-free index is derived from it by model::unusable_free_index.

#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "core/root_fs.hpp"
#include "model/sample.hpp"

namespace vmtune::collect {

/// Pure parser. Bad lines go to `bad` (file, line, field) and are skipped; a file with no
/// valid line at all is an error.
core::Result<std::vector<model::BuddyZone>> parse_buddyinfo(std::string_view text,
                                                            const std::string& logical_path,
                                                            std::vector<core::Error>* bad);
void read_buddyinfo(const core::RootFs& fs, model::Sample& sample);

}  // namespace vmtune::collect
