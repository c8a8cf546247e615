// SPDX-License-Identifier: GPL-2.0-or-later
#include "rules/effects.hpp"

#include <algorithm>
#include <cmath>

#include "core/parse.hpp"

namespace vmtune::rules {
namespace {

std::optional<std::uint64_t> sysctl_u64(const model::Sample& s, const std::string& key) {
  if (!s.sysctl.value) return std::nullopt;
  const auto it = s.sysctl.value->values.find(key);
  if (it == s.sysctl.value->values.end()) return std::nullopt;
  return core::parse_u64(core::trim(it->second));
}

std::optional<std::uint64_t> parse_proposed(const std::string& text) {
  return core::parse_u64(core::trim(text));
}

bool is_highmem_or_movable(const std::string& zone) {
  return zone == "HighMem" || zone == "Movable";
}

// mult_frac(x, n, d): x * n / d without overflowing the intermediate.
std::uint64_t mult_frac(std::uint64_t x, std::uint64_t n, std::uint64_t d) {
  const std::uint64_t q = x / d;
  const std::uint64_t r = x % d;
  return q * n + r * n / d;
}

std::uint64_t div_round_up(std::uint64_t n, std::uint64_t d) { return (n + d - 1) / d; }

PredictedEffect effect(std::string name, std::uint64_t before, std::uint64_t after,
                       std::uint64_t scale) {
  return PredictedEffect{std::move(name), static_cast<double>(before * scale),
                         static_cast<double>(after * scale), "bytes"};
}

}  // namespace

std::uint64_t total_reserve_pages(const std::vector<model::Zone>& zones) {
  std::uint64_t total = 0;
  for (const auto& z : zones) {
    std::uint64_t max = 0;
    // zone->lowmem_reserve[j] for j >= this zone's index: the zoneinfo "protection" entries
    // at or after the zone's own position are exactly those (earlier ones are 0).
    for (auto v : z.protection) max = std::max(max, v);
    const std::uint64_t boost = z.boost.value_or(0);
    const std::uint64_t high = z.high.value_or(0);
    max += high >= boost ? high - boost : 0;
    const std::uint64_t managed = z.managed.value_or(0);
    total += std::min(max, managed);
  }
  return total;
}

std::optional<DirtyInputs> dirty_inputs(const model::Sample& s) {
  if (!s.meminfo.value || !s.vmstat.value || !s.zones.value) return std::nullopt;
  const auto& mi = s.meminfo.value->fields;
  const auto& vm = s.vmstat.value->counters;
  const auto free = mi.find("MemFree");
  const auto active = vm.find("nr_active_file");
  const auto inactive = vm.find("nr_inactive_file");
  if (free == mi.end() || active == vm.end() || inactive == vm.end()) return std::nullopt;
  DirtyInputs in;
  in.page_size = s.host.page_size == 0 ? 4096 : s.host.page_size;
  in.free_pages = free->second / in.page_size;
  in.active_file = active->second;
  in.inactive_file = inactive->second;
  in.total_reserve = total_reserve_pages(*s.zones.value);
  return in;
}

std::optional<DirtySettings> dirty_settings(const model::Sample& s) {
  const auto ratio = sysctl_u64(s, "vm.dirty_ratio");
  const auto bytes = sysctl_u64(s, "vm.dirty_bytes");
  const auto bg_ratio = sysctl_u64(s, "vm.dirty_background_ratio");
  const auto bg_bytes = sysctl_u64(s, "vm.dirty_background_bytes");
  if (!ratio || !bytes || !bg_ratio || !bg_bytes) return std::nullopt;
  return DirtySettings{*ratio, *bytes, *bg_ratio, *bg_bytes};
}

DirtyLimits dirty_limits(const DirtyInputs& in, const DirtySettings& s) {
  DirtyLimits out;
  const std::uint64_t page = in.page_size == 0 ? 4096 : in.page_size;
  std::uint64_t x = in.free_pages;
  x -= std::min(x, in.total_reserve);
  x += in.inactive_file + in.active_file;
  out.dirtyable = x + 1;  // "Ensure that we never return 0"
  // Ratios are converted to per-PAGE_SIZE units first "for higher precision".
  const std::uint64_t ratio = s.ratio * page / 100;
  const std::uint64_t bg_ratio = s.background_ratio * page / 100;
  out.thresh = s.bytes != 0 ? div_round_up(s.bytes, page) : ratio * out.dirtyable / page;
  out.bg_thresh =
      s.background_bytes != 0 ? div_round_up(s.background_bytes, page) : bg_ratio * out.dirtyable / page;
  constexpr std::uint64_t kUintMax = 0xffffffffULL;
  if (out.thresh > kUintMax) out.thresh = kUintMax;
  if (out.bg_thresh >= out.thresh) out.bg_thresh = out.thresh / 2;
  return out;
}

std::vector<ZoneWatermarks> zone_watermarks(const std::vector<model::Zone>& zones,
                                            std::uint64_t min_free_kbytes,
                                            std::uint64_t watermark_scale_factor,
                                            std::uint64_t page_size) {
  unsigned shift = 0;
  for (std::uint64_t p = page_size == 0 ? 4096 : page_size; p > 1024; p >>= 1) ++shift;
  const std::uint64_t pages_min = min_free_kbytes >> shift;
  std::uint64_t lowmem_pages = 0;
  for (const auto& z : zones) {
    if (!is_highmem_or_movable(z.name)) lowmem_pages += z.managed.value_or(0);
  }
  std::vector<ZoneWatermarks> out;
  for (const auto& z : zones) {
    ZoneWatermarks w;
    w.node = z.node;
    w.zone = z.name;
    w.managed = z.managed.value_or(0);
    std::uint64_t tmp = lowmem_pages == 0 ? 0 : pages_min * w.managed / lowmem_pages;
    if (is_highmem_or_movable(z.name)) {
      constexpr std::uint64_t kSwapClusterMax = 32;
      w.min = std::clamp<std::uint64_t>(w.managed / 1024, kSwapClusterMax, 128);
    } else {
      w.min = tmp;
    }
    tmp = std::max(tmp >> 2, mult_frac(w.managed, watermark_scale_factor, 10000));
    w.low = w.min + tmp;
    w.high = w.low + tmp;
    out.push_back(std::move(w));
  }
  return out;
}

std::optional<std::uint64_t> commit_limit_bytes(const model::MemInfo& meminfo,
                                                std::uint64_t overcommit_ratio,
                                                std::uint64_t overcommit_kbytes,
                                                std::uint64_t page_size) {
  const auto& f = meminfo.fields;
  const auto total = f.find("MemTotal");
  if (total == f.end()) return std::nullopt;
  const std::uint64_t page = page_size == 0 ? 4096 : page_size;
  const auto get = [&](const char* k) {
    const auto it = f.find(k);
    return it == f.end() ? std::uint64_t{0} : it->second;
  };
  std::uint64_t allowed = 0;
  if (overcommit_kbytes != 0) {
    allowed = overcommit_kbytes * 1024 / page;
  } else {
    const std::uint64_t ram = total->second / page;
    const std::uint64_t huge = get("Hugetlb") / page;
    allowed = (ram > huge ? ram - huge : 0) * overcommit_ratio / 100;
  }
  allowed += get("SwapTotal") / page;
  return allowed * page;
}

void attach_effects(Evaluation& eval, const model::Sample& s) {
  const std::uint64_t page = s.host.page_size == 0 ? 4096 : s.host.page_size;
  // Every dirty proposal of the evaluation, applied together (writing *_bytes zeroes *_ratio
  // and the other way round, as the kernel's sysctl handlers do).
  const auto dirty_now = dirty_settings(s);
  std::optional<DirtySettings> dirty_after = dirty_now;
  bool dirty_proposed = false;
  for (const auto& f : eval.findings) {
    for (const auto& r : f.recommendations) {
      if (r.kind != RecommendationKind::sysctl || !dirty_after) continue;
      const auto v = parse_proposed(r.proposed);
      if (!v) continue;
      if (r.key == "vm.dirty_ratio") {
        dirty_after->ratio = *v;
        dirty_after->bytes = 0;
      } else if (r.key == "vm.dirty_bytes") {
        dirty_after->bytes = *v;
        dirty_after->ratio = 0;
      } else if (r.key == "vm.dirty_background_ratio") {
        dirty_after->background_ratio = *v;
        dirty_after->background_bytes = 0;
      } else if (r.key == "vm.dirty_background_bytes") {
        dirty_after->background_bytes = *v;
        dirty_after->background_ratio = 0;
      } else {
        continue;
      }
      dirty_proposed = true;
    }
  }
  const auto inputs = dirty_inputs(s);

  for (auto& f : eval.findings) {
    for (auto& r : f.recommendations) {
      if (r.kind != RecommendationKind::sysctl) continue;
      const auto proposed = parse_proposed(r.proposed);
      if (!proposed) continue;
      const std::string& k = r.key;
      if (k.rfind("vm.dirty_", 0) == 0 && (k.find("ratio") != std::string::npos ||
                                           k.find("bytes") != std::string::npos)) {
        if (!dirty_proposed || !inputs || !dirty_now) continue;
        const auto before = dirty_limits(*inputs, *dirty_now);
        const auto after = dirty_limits(*inputs, *dirty_after);
        r.effects.push_back(effect("dirty threshold (writers throttled)", before.thresh,
                                   after.thresh, page));
        r.effects.push_back(effect("dirty background threshold (flushers start)",
                                   before.bg_thresh, after.bg_thresh, page));
      } else if (k == "vm.min_free_kbytes" || k == "vm.watermark_scale_factor") {
        const auto mfk = sysctl_u64(s, "vm.min_free_kbytes");
        const auto wsf = sysctl_u64(s, "vm.watermark_scale_factor");
        if (!mfk || !wsf || !s.zones.value) continue;
        const auto before = zone_watermarks(*s.zones.value, *mfk, *wsf, page);
        const auto after = k == "vm.min_free_kbytes"
                               ? zone_watermarks(*s.zones.value, *proposed, *wsf, page)
                               : zone_watermarks(*s.zones.value, *mfk, *proposed, page);
        for (std::size_t i = 0; i < before.size() && i < after.size(); ++i) {
          if (before[i].managed == 0) continue;  // unpopulated zone
          const std::string z =
              "node " + std::to_string(before[i].node) + " " + before[i].zone + " watermark ";
          r.effects.push_back(effect(z + "min", before[i].min, after[i].min, page));
          r.effects.push_back(effect(z + "low", before[i].low, after[i].low, page));
          r.effects.push_back(effect(z + "high", before[i].high, after[i].high, page));
        }
      } else if (k == "vm.overcommit_ratio" || k == "vm.overcommit_kbytes") {
        const auto ratio = sysctl_u64(s, "vm.overcommit_ratio");
        const auto kbytes = sysctl_u64(s, "vm.overcommit_kbytes");
        if (!ratio || !kbytes || !s.meminfo.value) continue;
        const auto before = commit_limit_bytes(*s.meminfo.value, *ratio, *kbytes, page);
        const auto after = k == "vm.overcommit_ratio"
                               ? commit_limit_bytes(*s.meminfo.value, *proposed, 0, page)
                               : commit_limit_bytes(*s.meminfo.value, 0, *proposed, page);
        if (!before || !after) continue;
        r.effects.push_back(effect("CommitLimit", *before, *after, 1));
      }
    }
  }
}

}  // namespace vmtune::rules
