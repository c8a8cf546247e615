// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// /proc/zoneinfo (mm/vmstat.c zoneinfo_show_print). Per zone: "pages free", the watermark
// block (boost, min, low, high, promo, spanned, present, managed, cma), "protection: (..)",
// the zone's nr_*/numa_* counters, the per-CPU "pagesets" block (skipped), and the tail
// (node_unreclaimable, start_pfn). Since 4.8 the node's "per-node stats" block is printed
// under the node's first populated zone; it is kept in that zone's `node_stats`.
//
// Older kernels (PCP's 3.x captures) print "scanned", "all_unreclaimable" and
// "inactive_ratio"; all_unreclaimable maps to node_unreclaimable (its zone-level ancestor), the
// rest go to `stats` as printed, as do keys vmtune does not model ("promo", "start_pfn").
// A value the zone does not print stays absent: Movable/Device zones often have no
// nr_free_pages and no "pages free" in some kernels, which is not the same as 0.

#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "core/root_fs.hpp"
#include "model/sample.hpp"

namespace vmtune::collect {

/// Pure parser. Bad lines go to `bad` (file, line, field) and are skipped; lines after a
/// malformed "Node" header are skipped with it. A file with no zone is an error.
core::Result<std::vector<model::Zone>> parse_zoneinfo(std::string_view text,
                                                      const std::string& logical_path,
                                                      std::vector<core::Error>* bad);
void read_zoneinfo(const core::RootFs& fs, model::Sample& sample);

}  // namespace vmtune::collect
