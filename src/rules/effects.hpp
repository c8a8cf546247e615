// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// Predicted effects: values the kernel derives from a sysctl, recomputed with the kernel's own
// integer formulas (DOMAIN.md §6) so a recommendation can show them before and after.
//   dirty thresholds      mm/page-writeback.c  global_dirtyable_memory(), domain_dirty_limits()
//   reserve pages         mm/page_alloc.c      calculate_totalreserve_pages()
//   zone watermarks       mm/page_alloc.c      __setup_per_zone_wmarks()
//   CommitLimit           mm/util.c            vm_commit_limit()
// Pure functions, no I/O. Counts are pages unless a name says bytes.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/sample.hpp"
#include "rules/finding.hpp"

namespace vmtune::rules {

/// The kernel's reserve (totalreserve_pages): per zone, the largest lowmem_reserve ("protection")
/// towards higher zones plus the zone's high watermark without boost, capped at managed pages.
std::uint64_t total_reserve_pages(const std::vector<model::Zone>& zones);

struct DirtyInputs {
  std::uint64_t free_pages = 0;     ///< NR_FREE_PAGES as the kernel sums it
  std::uint64_t active_file = 0;    ///< nr_active_file
  std::uint64_t inactive_file = 0;  ///< nr_inactive_file
  std::uint64_t total_reserve = 0;  ///< total_reserve_pages()
  std::uint64_t page_size = 4096;
};

/// vm.dirty_* settings; `ratio`s in percent, `bytes` in bytes (0 = unset, as the kernel shows).
struct DirtySettings {
  std::uint64_t ratio = 20;
  std::uint64_t bytes = 0;
  std::uint64_t background_ratio = 10;
  std::uint64_t background_bytes = 0;
};

struct DirtyLimits {
  std::uint64_t dirtyable = 0;  ///< pages, global_dirtyable_memory()
  std::uint64_t thresh = 0;     ///< pages, /proc/vmstat nr_dirty_threshold
  std::uint64_t bg_thresh = 0;  ///< pages, /proc/vmstat nr_dirty_background_threshold
};

/// Inputs from a sample: free pages from meminfo MemFree (si_meminfo's free RAM, the counter
/// global_dirtyable_memory() reads; on stock kernels it equals vmstat nr_free_pages), file LRU
/// sizes from vmstat, the reserve from zoneinfo. nullopt when a source is missing.
std::optional<DirtyInputs> dirty_inputs(const model::Sample& sample);
/// The vm.dirty_* values of the sample; nullopt when any of the four is missing or not a number.
std::optional<DirtySettings> dirty_settings(const model::Sample& sample);
/// domain_dirty_limits() for a non-real-time task, in the kernel's integer arithmetic.
DirtyLimits dirty_limits(const DirtyInputs& in, const DirtySettings& s);

struct ZoneWatermarks {
  int node = 0;
  std::string zone;
  std::uint64_t managed = 0;
  std::uint64_t min = 0, low = 0, high = 0;  ///< pages, without boost
};
/// __setup_per_zone_wmarks() for every zone in `zones` (all nodes), given min_free_kbytes and
/// watermark_scale_factor. Zones named "HighMem" and "Movable" get the capped minimum.
std::vector<ZoneWatermarks> zone_watermarks(const std::vector<model::Zone>& zones,
                                            std::uint64_t min_free_kbytes,
                                            std::uint64_t watermark_scale_factor,
                                            std::uint64_t page_size);

/// vm_commit_limit() in bytes: (MemTotal - Hugetlb) * ratio / 100 + SwapTotal, or
/// overcommit_kbytes + SwapTotal, in whole pages as the kernel computes it.
/// nullopt when MemTotal is missing.
std::optional<std::uint64_t> commit_limit_bytes(const model::MemInfo& meminfo,
                                                std::uint64_t overcommit_ratio,
                                                std::uint64_t overcommit_kbytes,
                                                std::uint64_t page_size);

/// Adds PredictedEffect entries (before/after, in bytes) to the sysctl recommendations of
/// `eval` that move a derived value: vm.dirty_{,background_}{ratio,bytes} (all dirty proposals
/// of the evaluation applied together), vm.min_free_kbytes and vm.watermark_scale_factor
/// (min/low/high of every populated zone), vm.overcommit_{ratio,kbytes} (CommitLimit).
/// Recommendations whose inputs are missing from the sample get no effects.
void attach_effects(Evaluation& eval, const model::Sample& sample);

}  // namespace vmtune::rules
