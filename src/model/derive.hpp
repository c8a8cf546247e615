// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// Pure derivation: rates from two samples, the derived metrics of DOMAIN.md §0.3
// (model/derived.hpp), and the values the kernel derives that vmtune recomputes (unusable-free
// index). No I/O, no clock.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "model/context.hpp"
#include "model/derived.hpp"
#include "model/sample.hpp"

namespace vmtune::model {

/// Per-second rates between two samples. A counter that went backwards (reset, or a different
/// process with the same pid) is left out rather than reported negative.
struct Rates {
  double interval_s = 0;
  std::map<std::string, double> vmstat;  ///< counter name -> per second
  std::optional<double> psi_some_us_per_sec;
  std::optional<double> psi_full_us_per_sec;
  /// cgroup path -> memory.events / memory.stat event counter name -> per second
  std::map<std::string, std::map<std::string, double>> cgroup_events;
  struct ProcessRates {
    double minflt_per_sec = 0;
    double majflt_per_sec = 0;
  };
  std::map<int, ProcessRates> processes;  ///< pid -> fault rates
};

/// Everything downstream reads: the current sample, the one before it (if any), the rates and
/// the derived metrics. Build it with make_snapshot, which computes `rates` and `derived`.
struct Snapshot {
  Sample current;
  std::optional<Sample> previous;
  std::optional<Rates> rates;
  Derived derived;  ///< derive(*this), set by make_snapshot
  Context context;  ///< detect_context(current), set by make_snapshot
};

/// Rates from prev to cur. Returns nullopt when the interval is not positive.
std::optional<Rates> derive_rates(const Sample& prev, const Sample& cur);

/// The derived metrics of `s` (its current and previous samples and its rates; s.derived is not
/// read). Pure: the same snapshot always gives the same values and the same absent reasons.
Derived derive(const Snapshot& s);

/// Builds a Snapshot from one or two samples: rates, derived metrics and the context.
Snapshot make_snapshot(Sample current, std::optional<Sample> previous);

/// Unusable free space index for each order (Gorman & Whitcroft; debugfs unusable_index):
/// (total_free_pages - Σ_{k>=order} c_k·2^k) / total_free_pages, in [0, 1]. Index i is order i.
/// Empty when there are no free pages.
std::vector<double> unusable_free_index(const std::vector<std::uint64_t>& free_blocks);

}  // namespace vmtune::model
