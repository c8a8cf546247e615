// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// The derived metrics of DOMAIN.md §0.3 as typed fields: what a dashboard, the audit and the
// rules all read, computed once per Snapshot by model::derive (model/derive.hpp). Each is a
// Measure: a number, or the reason it could not be derived, in words a user can act on.
//
// Shares of counters (a / b over the window) are 0 when the denominator did not move (0/0),
// so a quiet machine reads as quiet; reclaim_efficiency is 1 when nothing was scanned.

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace vmtune::model {

/// A number vmtune derived, or why it is absent ("needs /proc/vmstat: missing", "needs two
/// samples a window apart (rates; ...)", "vmstat.pgsteal_file is absent on this kernel").
struct Measure {
  std::optional<double> value;
  /// Empty when value is set. A Snapshot not built by make_snapshot has no derived values.
  std::string why_absent = "not derived (the snapshot was not built by make_snapshot)";

  static Measure of(double v) { return Measure{v, {}}; }
  static Measure absent(std::string why) { return Measure{std::nullopt, std::move(why)}; }
  bool ok() const noexcept { return value.has_value(); }
  /// The value; only when ok().
  double operator*() const { return *value; }
};

/// DOMAIN.md §0.3, plus the window length. Rates need two samples (Snapshot::rates); the
/// others read the current sample. Names in rule files: derived_fields() below.
struct Derived {
  /// Σ Δallocstall_* / Δt: direct-reclaim stalls per second (all zones).
  Measure direct_reclaim_per_sec;
  /// Δpgscan_direct / (Δpgscan_direct + Δpgscan_kswapd), 0..1.
  Measure direct_scan_share;
  /// (Δpgsteal_kswapd + Δpgsteal_direct) / (Δpgscan_kswapd + Δpgscan_direct), 0..1.
  Measure reclaim_efficiency;
  /// Δworkingset_refault_file (workingset_refault before 5.9) / Δpgsteal_file (or the sum of
  /// pgsteal_kswapd and pgsteal_direct where the per-type counters do not exist).
  Measure file_refault_ratio;
  Measure swap_in_pages_per_sec;   ///< Δpswpin / Δt
  Measure swap_out_pages_per_sec;  ///< Δpswpout / Δt
  Measure compact_stalls_per_sec;  ///< Δcompact_stall / Δt
  Measure compact_fail_ratio;      ///< Δcompact_fail / Δcompact_stall
  /// Δthp_fault_fallback / (Δthp_fault_alloc + Δthp_fault_fallback).
  Measure thp_fallback_ratio;
  /// Δnuma_miss / (Δnuma_hit + Δnuma_miss), system-wide (/proc/vmstat).
  Measure numa_remote_ratio;
  Measure oom_kills_in_window;  ///< Δoom_kill over the window (kills)
  Measure interval_s;           ///< length of the window, seconds
  /// (nr_dirty + nr_writeback) / nr_dirty_threshold (pages, /proc/vmstat).
  Measure dirty_utilization;
  /// floor((nr_dirty_threshold + nr_dirty_background_threshold) / 2), pages: below this,
  /// writers are never throttled.
  Measure dirty_freerun_ceiling_pages;
  /// 100 · (PageTables + SecPageTables) / MemTotal.
  Measure pagetables_pct;
  /// max(0, Cached − Shmem), bytes: page cache without tmpfs/shmem.
  Measure file_cache_bytes;
  /// CommitLimit − Committed_AS, bytes (may be negative; meaningful in overcommit mode 2).
  Measure commit_headroom_bytes;
  Measure mem_available_pct;  ///< 100 · MemAvailable / MemTotal
  Measure swap_used_bytes;    ///< max(0, SwapTotal − SwapFree)
  Measure swap_used_pct;      ///< 100 · swap_used_bytes / SwapTotal; 0 without swap
  /// 100 · Σ zone high watermarks (pages × page size) / MemTotal.
  Measure high_watermark_pct;
};

/// One derived metric: its name in rule files (DOMAIN.md §0.3), unit and field.
struct DerivedField {
  std::string_view name;  ///< "direct_reclaim_rate"
  std::string_view unit;  ///< "stalls/s", "pages/s", "bytes", "%", "" for ratios
  Measure Derived::*field;
};

/// Every field of Derived, in DOMAIN.md §0.3 order.
std::span<const DerivedField> derived_fields() noexcept;

}  // namespace vmtune::model
