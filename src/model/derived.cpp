// SPDX-License-Identifier: GPL-2.0-or-later
// model::derive: DOMAIN.md §0.3 from a Snapshot. Each metric is a few lines over the field
// lookups of model/lookup.hpp, so its absent reason is the reason of the field it lacks.
#include <algorithm>
#include <array>
#include <cmath>

#include "model/derive.hpp"
#include "model/lookup.hpp"

namespace vmtune::model {
namespace {

/// a / b for shares of counters: 0 when nothing happened (0/0), so a quiet machine is quiet.
Measure share(const Measure& a, const Measure& b) {
  if (!a.ok()) return a;
  if (!b.ok()) return b;
  return Measure::of(*b > 0 ? *a / *b : 0.0);
}

Measure add(const Measure& a, const Measure& b) {
  if (!a.ok()) return a;
  if (!b.ok()) return b;
  return Measure::of(*a + *b);
}

/// 100 · a / b, absent when b is 0 ("meminfo MemTotal is 0").
Measure percent_of_total(const Measure& a, const Measure& total) {
  if (!a.ok()) return a;
  if (!total.ok()) return total;
  if (*total <= 0) return Measure::absent("meminfo MemTotal is 0");
  return Measure::of(100.0 * *a / *total);
}

Measure reclaim_efficiency(const Snapshot& s) {
  const auto steal = add(vmstat_rate(s, "pgsteal_kswapd"), vmstat_rate(s, "pgsteal_direct"));
  const auto scan = add(vmstat_rate(s, "pgscan_kswapd"), vmstat_rate(s, "pgscan_direct"));
  if (steal.ok() && scan.ok() && *scan <= 0) return Measure::of(1.0);
  return share(steal, scan);
}

Measure file_refault_ratio(const Snapshot& s) {
  auto refault = vmstat_rate(s, "workingset_refault_file");
  if (!refault.ok()) {
    auto old = vmstat_rate(s, "workingset_refault");  // before 5.9
    if (old.ok()) refault = old;
  }
  auto steal = vmstat_rate(s, "pgsteal_file");  // 5.8+
  if (!steal.ok()) steal = add(vmstat_rate(s, "pgsteal_kswapd"), vmstat_rate(s, "pgsteal_direct"));
  return share(refault, steal);
}

Measure oom_kills_in_window(const Snapshot& s) {
  auto r = vmstat_rate(s, "oom_kill");
  if (!r.ok()) return r;
  return Measure::of(std::round(*r * s.rates->interval_s));
}

Measure dirty_utilization(const Snapshot& s) {
  const auto dirty = add(vmstat_field(s, "nr_dirty"), vmstat_field(s, "nr_writeback"));
  const auto thresh = vmstat_field(s, "nr_dirty_threshold");
  if (!dirty.ok()) return dirty;
  if (!thresh.ok()) return thresh;
  if (*thresh <= 0) return Measure::absent("vmstat nr_dirty_threshold is 0");
  return Measure::of(*dirty / *thresh);
}

Measure dirty_freerun_ceiling(const Snapshot& s) {
  const auto sum =
      add(vmstat_field(s, "nr_dirty_threshold"), vmstat_field(s, "nr_dirty_background_threshold"));
  if (!sum.ok()) return sum;
  return Measure::of(std::floor(*sum / 2));
}

Measure pagetables_pct(const Snapshot& s) {
  auto pt = meminfo_field(s, "PageTables");
  if (!pt.ok()) return pt;
  if (auto sec = meminfo_field(s, "SecPageTables"); sec.ok()) pt = add(pt, sec);  // 6.0+
  return percent_of_total(pt, meminfo_field(s, "MemTotal"));
}

/// a − b over two meminfo fields; clamped at 0 when `clamp`.
Measure meminfo_difference(const Snapshot& s, const char* a, const char* b, bool clamp) {
  const auto x = meminfo_field(s, a);
  const auto y = meminfo_field(s, b);
  if (!x.ok()) return x;
  if (!y.ok()) return y;
  return Measure::of(clamp ? std::max(0.0, *x - *y) : *x - *y);
}

Measure swap_used_pct(const Snapshot& s) {
  const auto total = meminfo_field(s, "SwapTotal");
  const auto used = meminfo_difference(s, "SwapTotal", "SwapFree", true);
  if (!used.ok()) return used;
  if (*total <= 0) return Measure::of(0.0);
  return Measure::of(100.0 * *used / *total);
}

Measure high_watermark_pct(const Snapshot& s) {
  const auto& zones = s.current.zones;
  if (!zones.value) return Measure::absent(needs(zones, "zoneinfo"));
  if (auto r = zone_damage(s, "high")) return Measure::absent(std::move(*r));
  const auto total = meminfo_field(s, "MemTotal");
  if (!total.ok()) return total;
  double high = 0;
  for (const auto& z : *zones.value) high += static_cast<double>(z.high.value_or(0));
  return percent_of_total(Measure::of(high * static_cast<double>(s.current.host.page_size)), total);
}

}  // namespace

Derived derive(const Snapshot& s) {
  Derived d;
  d.direct_reclaim_per_sec = vmstat_rate_prefix(s, "allocstall_");
  const auto direct = vmstat_rate(s, "pgscan_direct");
  d.direct_scan_share = share(direct, add(direct, vmstat_rate(s, "pgscan_kswapd")));
  d.reclaim_efficiency = reclaim_efficiency(s);
  d.file_refault_ratio = file_refault_ratio(s);
  d.swap_in_pages_per_sec = vmstat_rate(s, "pswpin");
  d.swap_out_pages_per_sec = vmstat_rate(s, "pswpout");
  d.compact_stalls_per_sec = vmstat_rate(s, "compact_stall");
  d.compact_fail_ratio = share(vmstat_rate(s, "compact_fail"), d.compact_stalls_per_sec);
  const auto fallback = vmstat_rate(s, "thp_fault_fallback");
  d.thp_fallback_ratio = share(fallback, add(fallback, vmstat_rate(s, "thp_fault_alloc")));
  const auto miss = vmstat_rate(s, "numa_miss");
  d.numa_remote_ratio = share(miss, add(miss, vmstat_rate(s, "numa_hit")));
  d.oom_kills_in_window = oom_kills_in_window(s);
  d.interval_s = s.rates ? Measure::of(s.rates->interval_s) : Measure::absent(no_rates_reason(s));
  d.dirty_utilization = dirty_utilization(s);
  d.dirty_freerun_ceiling_pages = dirty_freerun_ceiling(s);
  d.pagetables_pct = pagetables_pct(s);
  d.file_cache_bytes = meminfo_difference(s, "Cached", "Shmem", true);
  d.commit_headroom_bytes = meminfo_difference(s, "CommitLimit", "Committed_AS", false);
  d.mem_available_pct =
      percent_of_total(meminfo_field(s, "MemAvailable"), meminfo_field(s, "MemTotal"));
  d.swap_used_bytes = meminfo_difference(s, "SwapTotal", "SwapFree", true);
  d.swap_used_pct = swap_used_pct(s);
  d.high_watermark_pct = high_watermark_pct(s);
  return d;
}

std::span<const DerivedField> derived_fields() noexcept {
  static constexpr std::array<DerivedField, 21> kFields = {{
      {"direct_reclaim_rate", "stalls/s", &Derived::direct_reclaim_per_sec},
      {"direct_scan_share", "", &Derived::direct_scan_share},
      {"reclaim_efficiency", "", &Derived::reclaim_efficiency},
      {"file_refault_ratio", "", &Derived::file_refault_ratio},
      {"swap_in_rate", "pages/s", &Derived::swap_in_pages_per_sec},
      {"swap_out_rate", "pages/s", &Derived::swap_out_pages_per_sec},
      {"compact_stall_rate", "stalls/s", &Derived::compact_stalls_per_sec},
      {"compact_fail_ratio", "", &Derived::compact_fail_ratio},
      {"thp_fallback_ratio", "", &Derived::thp_fallback_ratio},
      {"numa_remote_ratio", "", &Derived::numa_remote_ratio},
      {"oom_kills_in_window", "kills", &Derived::oom_kills_in_window},
      {"interval_s", "s", &Derived::interval_s},
      {"dirty_utilization", "", &Derived::dirty_utilization},
      {"dirty_freerun_ceiling", "pages", &Derived::dirty_freerun_ceiling_pages},
      {"pagetables_pct", "%", &Derived::pagetables_pct},
      {"file_cache_bytes", "bytes", &Derived::file_cache_bytes},
      {"commit_headroom", "bytes", &Derived::commit_headroom_bytes},
      {"mem_available_pct", "%", &Derived::mem_available_pct},
      {"swap_used_bytes", "bytes", &Derived::swap_used_bytes},
      {"swap_used_pct", "%", &Derived::swap_used_pct},
      {"high_watermark_pct", "%", &Derived::high_watermark_pct},
  }};
  return kFields;
}

}  // namespace vmtune::model
