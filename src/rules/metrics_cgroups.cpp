// SPDX-License-Identifier: GPL-2.0-or-later
// Registry tables for cgroups (the layout, and the cgroup nearest its memory.max: "worst") and
// for sums over processes.
#include <algorithm>
#include <utility>

#include "rules/metrics_registry.hpp"

namespace vmtune::rules::registry {
namespace {

using model::needs;
using model::Snapshot;

/// A limit or usage file of some cgroup could not be parsed: which cgroup is the worst is then
/// unknown (the damaged one may be it).
std::optional<std::string> cgroup_usage_damage(const Snapshot& s) {
  return model::damage(s, "cgroups", [](const model::Unavailable& u) {
    return u.field == "memory.max" || u.field == "memory.current";
  });
}

/// The damage entry for `file` of cgroup `path` ("/" is the root), if any.
std::optional<std::string> cgroup_file_damage(const Snapshot& s, const std::string& path,
                                              const std::string& file) {
  const std::string suffix = (path == "/" ? std::string() : path) + "/" + file;
  return model::damage(s, "cgroups",
                       [&](const model::Unavailable& u) { return ends_with(u.path, suffix); });
}

Eval cgroups_missing(const Snapshot& s) {
  return Eval::absent(needs(s.current.cgroups, "cgroups"));
}

Eval cgroup_count(const EvalContext& c) {
  const auto* g = get(c.snapshot.current.cgroups);
  if (g == nullptr) return cgroups_missing(c.snapshot);
  return num(static_cast<std::uint64_t>(g->groups.size()));
}

Eval cgroups_limited(const EvalContext& c) {
  const auto* g = get(c.snapshot.current.cgroups);
  if (g == nullptr) return cgroups_missing(c.snapshot);
  if (auto r = model::damage(c.snapshot, "cgroups",
                             [](const model::Unavailable& u) { return u.field == "memory.max"; })) {
    return Eval::absent(std::move(*r));
  }
  std::uint64_t n = 0;
  for (const auto& x : g->groups) n += (x.path != "/" && x.max && *x.max != kUnlimited) ? 1 : 0;
  return num(n);
}

/// A text fact of the cgroup layout.
Getter cgroups_text(std::string model::Cgroups::*field, std::string what) {
  return [field, what](const EvalContext& c) {
    const auto* g = get(c.snapshot.current.cgroups);
    if (g == nullptr) return cgroups_missing(c.snapshot);
    if (!what.empty() && (g->*field).empty()) return Eval::absent(what);
    return Eval::of(g->*field);
  };
}

/// Which cgroup a family of metrics is about: "worst" (nearest its memory.max) or "limit"
/// (the one whose memory.max limits vmtune's own cgroup), and why there is none.
struct Pick {
  const model::Cgroup* (*find)(const Snapshot&);
  Eval (*missing)(const Snapshot&);
};

const model::Cgroup* limit_cgroup(const Snapshot& s) {
  const auto* cg = get(s.current.cgroups);
  if (cg == nullptr || s.context.limit_from.empty()) return nullptr;
  for (const auto& g : cg->groups) {
    if (g.path == s.context.limit_from) return &g;
  }
  return nullptr;
}

Eval limit_missing(const Snapshot& s) {
  if (!s.current.cgroups.ok()) return cgroups_missing(s);
  if (s.context.limit_from.empty()) {
    return Eval::absent("vmtune's own cgroup has no memory.max limit up the tree");
  }
  return Eval::absent("cgroup " + s.context.limit_from + " was not read");
}

constexpr Pick kWorst{worst_cgroup, worst_missing};
constexpr Pick kLimit{limit_cgroup, limit_missing};

/// A memory.* file of the picked cgroup; a damaged file says why it is missing.
Getter cgroup_field(Pick pick, std::optional<std::uint64_t> model::Cgroup::*field,
                    std::string file) {
  return [pick, field, file](const EvalContext& c) {
    const auto* w = pick.find(c.snapshot);
    if (w == nullptr) return pick.missing(c.snapshot);
    if (!(w->*field)) {
      if (auto r = cgroup_file_damage(c.snapshot, w->path, file)) return Eval::absent(*r);
    }
    return opt(w->*field, file + " of " + w->path);
  };
}

Getter cgroup_path(Pick pick) {
  return [pick](const EvalContext& c) {
    const auto* w = pick.find(c.snapshot);
    if (w == nullptr) return pick.missing(c.snapshot);
    return Eval::of(w->path);
  };
}

Getter cgroup_usage_pct(Pick pick) {
  return [pick](const EvalContext& c) {
    const auto* w = pick.find(c.snapshot);
    if (w == nullptr) return pick.missing(c.snapshot);
    if (!w->current) return opt(w->current, "memory.current of " + w->path);
    if (!w->max || *w->max == kUnlimited || *w->max == 0) {
      return Eval::absent("cgroup " + w->path + " has no memory.max");
    }
    return Eval::of(100.0 * static_cast<double>(*w->current) / static_cast<double>(*w->max));
  };
}

Getter cgroup_high_set(Pick pick) {
  return [pick](const EvalContext& c) {
    const auto* w = pick.find(c.snapshot);
    if (w == nullptr) return pick.missing(c.snapshot);
    if (!w->high || *w->high == kUnlimited) return Eval::of(false);
    return Eval::of(!w->max || *w->max == kUnlimited || *w->high < *w->max);
  };
}

enum class Avg { avg10, avg60, avg300 };

/// memory.pressure of the picked cgroup.
Getter cgroup_pressure(Pick pick, bool some, Avg avg) {
  return [pick, some, avg](const EvalContext& c) {
    const auto* w = pick.find(c.snapshot);
    if (w == nullptr) return pick.missing(c.snapshot);
    if (!w->pressure || !(some ? w->pressure->some : w->pressure->full)) {
      if (auto r = cgroup_file_damage(c.snapshot, w->path, "memory.pressure")) {
        return Eval::absent(std::move(*r));
      }
    }
    if (!w->pressure) return Eval::absent("memory.pressure of " + w->path + " not reported");
    const auto& line = some ? w->pressure->some : w->pressure->full;
    if (!line) return Eval::absent("memory.pressure of " + w->path + " lacks the line");
    return Eval::of(avg == Avg::avg10   ? line->avg10
                    : avg == Avg::avg60 ? line->avg60
                                        : line->avg300);
  };
}

/// memory.events (events) or memory.stat key of the picked cgroup.
Eval cgroup_counter(Pick pick, const Snapshot& s, bool events, const std::string& key) {
  const auto* w = pick.find(s);
  if (w == nullptr) return pick.missing(s);
  const auto& m = events ? w->events : w->stat;
  const auto it = m.find(key);
  if (it != m.end()) return num(it->second);
  const std::string file = events ? "memory.events" : "memory.stat";
  const std::string suffix = (w->path == "/" ? std::string() : w->path) + "/" + file;
  if (auto r = model::damage(s, "cgroups", [&](const model::Unavailable& u) {
        return ends_with(u.path, suffix) && (u.field == key || u.field.empty() || u.field == file);
      })) {
    return Eval::absent(std::move(*r));
  }
  return Eval::absent(file + " of " + w->path + " has no " + key);
}

/// Per-second rate of a memory.events / memory.stat counter of the picked cgroup.
Eval cgroup_counter_rate(Pick pick, const Snapshot& s, const std::string& key) {
  const auto* w = pick.find(s);
  if (w == nullptr) return pick.missing(s);
  if (!s.rates) return Eval::absent(model::no_rates_reason(s));
  const auto g = s.rates->cgroup_events.find(w->path);
  if (g != s.rates->cgroup_events.end()) {
    const auto it = g->second.find(key);
    if (it != g->second.end()) return Eval::of(it->second);
  }
  return Eval::absent("no rate of " + key + " for cgroup " + w->path);
}

/// cgroups.<which>.*: one cgroup's files, usage and pressure.
void add_cgroup_family(Table& t, const std::string& which, Pick pick) {
  using G = model::Cgroup;
  const std::string p = "cgroups." + which + ".";
  t.push_back({p + "path", Type::string, "", cgroup_path(pick)});
  t.push_back(
      {p + "current", Type::number, "bytes", cgroup_field(pick, &G::current, "memory.current")});
  t.push_back({p + "max", Type::number, "bytes", cgroup_field(pick, &G::max, "memory.max")});
  t.push_back({p + "high", Type::number, "bytes", cgroup_field(pick, &G::high, "memory.high")});
  t.push_back({p + "low", Type::number, "bytes", cgroup_field(pick, &G::low, "memory.low")});
  t.push_back({p + "min", Type::number, "bytes", cgroup_field(pick, &G::min, "memory.min")});
  t.push_back({p + "peak", Type::number, "bytes", cgroup_field(pick, &G::peak, "memory.peak")});
  t.push_back({p + "usage_pct", Type::number, "%", cgroup_usage_pct(pick)});
  t.push_back({p + "high_set", Type::boolean, "", cgroup_high_set(pick)});
  for (const bool some : {true, false}) {
    const std::string q = p + "pressure." + (some ? "some." : "full.");
    t.push_back({q + "avg10", Type::number, "%", cgroup_pressure(pick, some, Avg::avg10)});
    t.push_back({q + "avg60", Type::number, "%", cgroup_pressure(pick, some, Avg::avg60)});
    t.push_back({q + "avg300", Type::number, "%", cgroup_pressure(pick, some, Avg::avg300)});
  }
}

// ---- context ------------------------------------------------------------------------------------

Getter context_flag(bool (*flag)(const model::Context&)) {
  return [flag](const EvalContext& c) { return Eval::of(flag(c.snapshot.context)); };
}

Eval context_memory_max(const EvalContext& c) {
  const auto& x = c.snapshot.context;
  if (!x.memory_max) {
    if (!c.snapshot.current.cgroups.ok()) return cgroups_missing(c.snapshot);
    return Eval::absent("vmtune's own cgroup has no memory.max limit up the tree");
  }
  return num(*x.memory_max);
}

// ---- processes ----------------------------------------------------------------------------------

/// Σ (or max, when `maximum`) over processes of `value(process)`.
Getter processes(double (*value)(const model::Process&), bool maximum = false) {
  return [value, maximum](const EvalContext& c) {
    const auto* ps = get(c.snapshot.current.processes);
    if (ps == nullptr) return Eval::absent(needs(c.snapshot.current.processes, "processes"));
    double v = 0;
    for (const auto& p : *ps) v = maximum ? std::max(v, value(p)) : v + value(p);
    return Eval::of(v);
  };
}

double bytes(const std::optional<std::uint64_t>& v) { return static_cast<double>(v.value_or(0)); }

}  // namespace

Table cgroup_metrics() {
  Table t = {
      {"cgroups.layout", Type::string, "", cgroups_text(&model::Cgroups::layout, "")},
      {"cgroups.count", Type::number, "", cgroup_count},
      {"cgroups.limited", Type::number, "", cgroups_limited},
      {"cgroups.self.path", Type::string, "",
       cgroups_text(&model::Cgroups::self_path, "own cgroup not known")},
      // Where vmtune runs (model/context.hpp).
      {"context.in_container", Type::boolean, "",
       context_flag([](const model::Context& x) { return x.in_container; })},
      {"context.cgroup_limited", Type::boolean, "",
       context_flag([](const model::Context& x) { return x.cgroup_limited; })},
      {"context.restricted", Type::boolean, "",
       context_flag([](const model::Context& x) { return x.restricted(); })},
      {"context.memory_high_set", Type::boolean, "",
       context_flag([](const model::Context& x) { return x.memory_high.has_value(); })},
      {"context.memory_max", Type::number, "bytes", context_memory_max},
  };
  add_cgroup_family(t, "worst", kWorst);
  add_cgroup_family(t, "limit", kLimit);
  return t;
}

std::vector<KeyedSection> cgroup_keyed_sections() {
  std::vector<KeyedSection> out;
  for (const auto& [which, pick] : {std::pair{"worst", kWorst}, std::pair{"limit", kLimit}}) {
    const std::string p = std::string("cgroups.") + which + ".";
    for (const bool events : {true, false}) {
      auto k =
          events
              ? keyed(p + "events.", "a cgroup v2 memory.events key", field_names().cgroup_events)
              : keyed(p + "stat.", "a cgroup v2 memory.stat key", field_names().cgroup_stat);
      k.make = [pick = pick, events](const std::string& key) -> Getter {
        return [pick, events, key](const EvalContext& c) {
          return cgroup_counter(pick, c.snapshot, events, key);
        };
      };
      k.make_rate = [pick = pick](const std::string& key) -> Getter {
        return [pick, key](const EvalContext& c) {
          return cgroup_counter_rate(pick, c.snapshot, key);
        };
      };
      out.push_back(std::move(k));
    }
  }
  return out;
}

Table process_metrics() {
  using P = model::Process;
  return {
      {"processes.count", Type::number, "", processes([](const P&) { return 1.0; })},
      {"processes.vm_pte_total", Type::number, "bytes",
       processes([](const P& p) { return bytes(p.vm_pte); })},
      {"processes.vm_swap_total", Type::number, "bytes",
       processes([](const P& p) { return bytes(p.vm_swap); })},
      {"processes.swapped", Type::number, "",
       processes([](const P& p) { return p.vm_swap.value_or(0) > 0 ? 1.0 : 0.0; })},
      {"processes.max_vm_pte", Type::number, "bytes",
       processes([](const P& p) { return bytes(p.vm_pte); }, true)},
      {"processes.anon_huge_total", Type::number, "bytes",
       processes([](const P& p) { return bytes(p.anon_huge_pages); })},
      {"processes.rss_shmem_total", Type::number, "bytes",
       processes([](const P& p) { return bytes(p.rss_shmem); })},
  };
}

// ---- shared with the other tables ---------------------------------------------------------------

const model::Cgroup* worst_cgroup(const Snapshot& s) {
  const auto* cg = get(s.current.cgroups);
  if (cg == nullptr) return nullptr;
  if (cgroup_usage_damage(s)) return nullptr;
  const model::Cgroup* best = nullptr;
  double best_ratio = -1;
  for (const auto& g : cg->groups) {
    if (g.path == "/" || !g.max || *g.max == kUnlimited || *g.max == 0 || !g.current) continue;
    const double r = static_cast<double>(*g.current) / static_cast<double>(*g.max);
    if (r > best_ratio) {
      best_ratio = r;
      best = &g;
    }
  }
  return best;
}

Eval worst_missing(const Snapshot& s) {
  if (!s.current.cgroups.ok()) return cgroups_missing(s);
  if (auto r = cgroup_usage_damage(s)) return Eval::absent(std::move(*r));
  return Eval::absent("no cgroup has a memory.max limit");
}

}  // namespace vmtune::rules::registry
