// SPDX-License-Identifier: GPL-2.0-or-later
#include "model/derive.hpp"

#include <utility>

namespace vmtune::model {

const char* to_string(SourceState state) noexcept {
  switch (state) {
    case SourceState::ok:
      return "ok";
    case SourceState::missing:
      return "missing";
    case SourceState::permission_denied:
      return "permission_denied";
    case SourceState::unsupported:
      return "unsupported";
    case SourceState::parse_error:
      return "parse_error";
    case SourceState::not_collected:
      return "not_collected";
  }
  return "unknown";
}

namespace {

std::optional<double> per_sec(std::uint64_t a, std::uint64_t b, double dt) {
  if (b < a) return std::nullopt;
  return static_cast<double>(b - a) / dt;
}

// memory.stat keys that are event counters (not amounts), so a rate is meaningful.
bool is_cgroup_event_counter(const std::string& key) {
  static const char* const kPrefixes[] = {"pg", "workingset_", "thp_", "zswp", "pswp"};
  for (const char* p : kPrefixes) {
    if (key.rfind(p, 0) == 0) return true;
  }
  return false;
}

}  // namespace

std::optional<Rates> derive_rates(const Sample& prev, const Sample& cur) {
  const double dt = cur.monotonic_s - prev.monotonic_s;
  if (!(dt > 0)) return std::nullopt;
  Rates r;
  r.interval_s = dt;
  if (prev.vmstat.value && cur.vmstat.value) {
    const auto& a = prev.vmstat.value->counters;
    for (const auto& [name, v] : cur.vmstat.value->counters) {
      const auto it = a.find(name);
      if (it == a.end()) continue;
      if (auto x = per_sec(it->second, v, dt)) r.vmstat[name] = *x;
    }
  }
  if (prev.psi.value && cur.psi.value) {
    const auto& a = *prev.psi.value;
    const auto& b = *cur.psi.value;
    if (a.some && b.some) r.psi_some_us_per_sec = per_sec(a.some->total_us, b.some->total_us, dt);
    if (a.full && b.full) r.psi_full_us_per_sec = per_sec(a.full->total_us, b.full->total_us, dt);
  }
  if (prev.cgroups.value && cur.cgroups.value) {
    std::map<std::string, const Cgroup*> before;
    for (const auto& g : prev.cgroups.value->groups) before[g.path] = &g;
    for (const auto& g : cur.cgroups.value->groups) {
      const auto it = before.find(g.path);
      if (it == before.end()) continue;
      auto& out = r.cgroup_events[g.path];
      for (const auto& [k, v] : g.events) {
        const auto jt = it->second->events.find(k);
        if (jt == it->second->events.end()) continue;
        if (auto x = per_sec(jt->second, v, dt)) out[k] = *x;
      }
      for (const auto& [k, v] : g.stat) {
        if (!is_cgroup_event_counter(k)) continue;
        const auto jt = it->second->stat.find(k);
        if (jt == it->second->stat.end()) continue;
        if (auto x = per_sec(jt->second, v, dt)) out[k] = *x;
      }
    }
  }
  if (prev.processes.value && cur.processes.value) {
    std::map<int, const Process*> before;
    for (const auto& p : *prev.processes.value) before[p.pid] = &p;
    for (const auto& p : *cur.processes.value) {
      const auto it = before.find(p.pid);
      if (it == before.end() || it->second->comm != p.comm) continue;
      const auto mn = per_sec(it->second->minflt, p.minflt, dt);
      const auto mj = per_sec(it->second->majflt, p.majflt, dt);
      if (mn && mj) r.processes[p.pid] = Rates::ProcessRates{*mn, *mj};
    }
  }
  return r;
}

Snapshot make_snapshot(Sample current, std::optional<Sample> previous) {
  Snapshot s;
  if (previous) s.rates = derive_rates(*previous, current);
  s.current = std::move(current);
  s.previous = std::move(previous);
  s.derived = derive(s);
  s.context = detect_context(s.current);
  return s;
}

std::vector<double> unusable_free_index(const std::vector<std::uint64_t>& free_blocks) {
  long double total = 0;
  for (std::size_t k = 0; k < free_blocks.size(); ++k) {
    total += static_cast<long double>(free_blocks[k]) * static_cast<long double>(1ULL << k);
  }
  std::vector<double> out;
  if (total <= 0) return out;
  long double suitable = total;  // free pages in blocks of order >= o
  for (std::size_t o = 0; o < free_blocks.size(); ++o) {
    out.push_back(static_cast<double>((total - suitable) / total));
    suitable -= static_cast<long double>(free_blocks[o]) * static_cast<long double>(1ULL << o);
  }
  return out;
}

}  // namespace vmtune::model
