// SPDX-License-Identifier: GPL-2.0-or-later
#include "rules/metrics.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <map>
#include <utility>

namespace vmtune::rules {
namespace {

using core::ErrorKind;
using model::Snapshot;

constexpr std::uint64_t kUnlimited = std::numeric_limits<std::uint64_t>::max();

core::Error name_error(std::string message) {
  return core::make_error(ErrorKind::invalid_argument, "", std::move(message));
}

// "needs /proc/pressure/memory: missing" from a Source's state and reason. The reason of a
// failed source starts with the logical path the collector tried ("<path>: <message>").
template <typename T>
std::string needs(const model::Source<T>& src, const std::string& section) {
  const std::string state = model::to_string(src.state);
  if (src.state == model::SourceState::not_collected) return "needs " + section + ": not collected";
  const auto& r = src.reason;
  if (!r.empty() && r[0] == '/') {
    const auto colon = r.find(": ");
    if (colon != std::string::npos) return "needs " + r.substr(0, colon) + ": " + state;
  }
  return "needs " + section + ": " + state + (r.empty() ? "" : " (" + r + ")");
}

template <typename T>
const T* get(const model::Source<T>& src) {
  return src.value ? &*src.value : nullptr;
}

Eval num(std::uint64_t v) { return Eval::of(static_cast<double>(v)); }

/// A sysctl or other text value: a number when the whole text is numeric. Empty text is not a
/// value (an empty read is damage, such as a snapshot extracted onto a full disk): it is "not
/// measured", so `!= 0` on it can never be true.
Eval text_value(const std::string& text, const std::string& what) {
  if (text.empty()) return Eval::absent(what + " is empty (not measured)");
  if (auto x = parse_number(text)) return Eval::of(*x);
  return Eval::of(text);
}

// ---- damaged fields ---------------------------------------------------------------------------
// A collector that cannot parse a field (no unit, not a number, an empty file) leaves it absent
// and lists why in sample.unavailable (source, path, line, field, reason). These find that
// entry, so a rule needing the field is "not evaluated" with the collector's reason, and an
// aggregate over a partly damaged file (a sum over zones, a count of swap devices) is not
// computed from what happened to survive.

/// "needs /proc/meminfo:3: field "MemTotal": expected "<n> kB": the unit is missing"
std::string needs_entry(const model::Unavailable& u) {
  std::string out = "needs " + u.path;
  if (u.line > 0) out += ":" + std::to_string(u.line);
  out += ": ";
  if (!u.field.empty()) out += "field \"" + u.field + "\": ";
  return out + u.reason;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// The first entry of `source` in the current sample (and the previous one, for rates) that
/// `pred` accepts, as an absent reason.
template <typename Pred>
std::optional<std::string> damage(const Snapshot& s, const std::string& source, Pred pred,
                                  bool previous_too = false) {
  const auto scan = [&](const model::Sample& sample) -> std::optional<std::string> {
    for (const auto& u : sample.unavailable) {
      if (u.source == source && pred(u)) return needs_entry(u);
    }
    return std::nullopt;
  };
  if (auto r = scan(s.current)) return r;
  if (previous_too && s.previous) return scan(*s.previous);
  return std::nullopt;
}

/// The entry for one named field of `source`.
std::optional<std::string> field_damage(const Snapshot& s, const std::string& source,
                                        const std::string& field, bool previous_too = false) {
  return damage(
      s, source, [&](const model::Unavailable& u) { return u.field == field; }, previous_too);
}

/// Any entry of `source` (for aggregates over the whole file).
std::optional<std::string> any_damage(const Snapshot& s, const std::string& source,
                                      bool previous_too = false) {
  return damage(
      s, source, [](const model::Unavailable&) { return true; }, previous_too);
}

/// zoneinfo: the field summed or counted over zones, or a zone header (a bad header drops the
/// zone's whole block), or a line the parser could not attribute.
std::optional<std::string> zone_damage(const Snapshot& s, const std::string& field) {
  return damage(s, "zoneinfo", [&](const model::Unavailable& u) {
    return u.field == field || u.field == "zone" || u.field.empty();
  });
}

/// A PSI file's "some" or "full" line ("some.avg10", "some") or an unknown line.
std::optional<std::string> psi_damage(const Snapshot& s, const std::string& source,
                                      const std::string& kind, bool previous_too = false) {
  return damage(
      s, source,
      [&](const model::Unavailable& u) {
        return u.field.empty() || u.field == kind || u.field.rfind(kind + ".", 0) == 0;
      },
      previous_too);
}

/// Absent with the damage reason when there is one, else with `otherwise`.
Eval absent_field(const Snapshot& s, const std::string& source, const std::string& field,
                  std::string otherwise, bool previous_too = false) {
  if (auto r = field_damage(s, source, field, previous_too)) return Eval::absent(std::move(*r));
  // A line without a recognisable key may have been this field.
  if (auto r = damage(
          s, source, [](const model::Unavailable& u) { return u.field.empty() && u.line > 0; },
          previous_too)) {
    return Eval::absent(otherwise + "; " + *r);
  }
  return Eval::absent(std::move(otherwise));
}

// ---- rates ------------------------------------------------------------------------------------

std::string no_rates_reason(const Snapshot& s) {
  if (!s.previous) return "needs two samples a window apart (rates; counters only with --window 0)";
  return "needs two samples with a positive interval between them (rates)";
}

/// Per-second rate of a vmstat counter, or absent with the reason.
Eval vmstat_rate(const Snapshot& s, const std::string& key) {
  const auto* vs = get(s.current.vmstat);
  if (vs == nullptr) return Eval::absent(needs(s.current.vmstat, "vmstat"));
  if (!s.rates) return Eval::absent(no_rates_reason(s));
  const auto it = s.rates->vmstat.find(key);
  if (it != s.rates->vmstat.end()) return Eval::of(it->second);
  if (auto r = field_damage(s, "vmstat", key, true)) return Eval::absent(std::move(*r));
  if (vs->counters.count(key) == 0) {
    return absent_field(s, "vmstat", key, "vmstat has no counter " + key + " on this kernel");
  }
  return Eval::absent("vmstat " + key + " is not in both samples, or went backwards");
}

/// Σ rates of vmstat counters starting with `prefix`; absent when none exist.
Eval vmstat_rate_prefix(const Snapshot& s, const std::string& prefix) {
  const auto* vs = get(s.current.vmstat);
  if (vs == nullptr) return Eval::absent(needs(s.current.vmstat, "vmstat"));
  if (!s.rates) return Eval::absent(no_rates_reason(s));
  // A damaged counter of the family would make the sum silently smaller.
  if (auto r = damage(
          s, "vmstat", [&](const model::Unavailable& u) { return u.field.rfind(prefix, 0) == 0; },
          true)) {
    return Eval::absent(std::move(*r));
  }
  double sum = 0;
  bool any = false;
  for (const auto& [k, v] : s.rates->vmstat) {
    if (k.rfind(prefix, 0) == 0) {
      sum += v;
      any = true;
    }
  }
  if (!any) return Eval::absent("vmstat has no " + prefix + "* counters on this kernel");
  return Eval::of(sum);
}

double d(const Eval& e) { return std::get<double>(*e.value); }

/// a / b for shares of counters: 0 when nothing happened (0/0), so a quiet machine is quiet.
Eval share(const Eval& a, const Eval& b) {
  if (!a.ok()) return a;
  if (!b.ok()) return b;
  return Eval::of(d(b) > 0 ? d(a) / d(b) : 0.0);
}

Eval add(const Eval& a, const Eval& b) {
  if (!a.ok()) return a;
  if (!b.ok()) return b;
  return Eval::of(d(a) + d(b));
}

// ---- current-sample lookups -------------------------------------------------------------------

Eval meminfo(const Snapshot& s, const std::string& key) {
  const auto* m = get(s.current.meminfo);
  if (m == nullptr) return Eval::absent(needs(s.current.meminfo, "meminfo"));
  const auto it = m->fields.find(key);
  if (it == m->fields.end()) {
    return absent_field(s, "meminfo", key, "meminfo has no field " + key + " on this kernel");
  }
  return num(it->second);
}

Eval vmstat(const Snapshot& s, const std::string& key) {
  const auto* v = get(s.current.vmstat);
  if (v == nullptr) return Eval::absent(needs(s.current.vmstat, "vmstat"));
  const auto it = v->counters.find(key);
  if (it == v->counters.end()) {
    return absent_field(s, "vmstat", key, "vmstat has no counter " + key + " on this kernel");
  }
  return num(it->second);
}

Eval sysctl(const Snapshot& s, const std::string& key) {
  const auto* v = get(s.current.sysctl);
  if (v == nullptr) return Eval::absent(needs(s.current.sysctl, "sysctl"));
  const auto it = v->values.find(key);
  if (it == v->values.end()) {
    if (auto r = field_damage(s, "sysctl", key)) return Eval::absent(std::move(*r));
    return Eval::absent("sysctl " + key + " is not present on this kernel");
  }
  return text_value(it->second, "sysctl " + key);
}

/// A limit or usage file of some cgroup could not be parsed: which cgroup is the worst is then
/// unknown (the damaged one may be it).
std::optional<std::string> cgroup_usage_damage(const Snapshot& s) {
  return damage(s, "cgroups", [](const model::Unavailable& u) {
    return u.field == "memory.max" || u.field == "memory.current";
  });
}

/// The cgroup with the highest memory.current / memory.max; null when none has a limit, or
/// when a limit or usage file is damaged (worst_missing says which).
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
  if (!s.current.cgroups.ok()) return Eval::absent(needs(s.current.cgroups, "cgroups"));
  if (auto r = cgroup_usage_damage(s)) return Eval::absent(std::move(*r));
  return Eval::absent("no cgroup has a memory.max limit");
}

const model::HugePagePool* pool_by_size(const Snapshot& s, std::uint64_t bytes) {
  const auto* pools = get(s.current.hugepages);
  if (pools == nullptr) return nullptr;
  for (const auto& p : *pools) {
    if (p.page_size == bytes) return &p;
  }
  return nullptr;
}

const model::PgInstance* pg_first(const Snapshot& s) {
  const auto* pg = get(s.current.postgres);
  if (pg == nullptr || pg->instances.empty()) return nullptr;
  return &pg->instances.front();
}

Eval pg_missing(const Snapshot& s) {
  if (!s.current.postgres.ok()) return Eval::absent(needs(s.current.postgres, "postgres"));
  return Eval::absent("no PostgreSQL instance found");
}

Eval opt(const std::optional<std::uint64_t>& v, const std::string& what) {
  if (!v) return Eval::absent(what + " not reported");
  return num(*v);
}

/// The damage entry for `file` of cgroup `path` ("/" is the root), if any.
std::optional<std::string> cgroup_file_damage(const Snapshot& s, const std::string& path,
                                              const std::string& file) {
  const std::string suffix = (path == "/" ? std::string() : path) + "/" + file;
  return damage(s, "cgroups",
                [&](const model::Unavailable& u) { return ends_with(u.path, suffix); });
}

/// opt() for a cgroup file: a damaged file says why.
Eval cgroup_opt(const Snapshot& s, const model::Cgroup& g, const std::optional<std::uint64_t>& v,
                const std::string& file) {
  if (!v) {
    if (auto r = cgroup_file_damage(s, g.path, file)) return Eval::absent(std::move(*r));
  }
  return opt(v, file + " of " + g.path);
}

// ---- registry ----------------------------------------------------------------------------------

using Getter = std::function<Eval(const EvalContext&)>;

struct Fixed {
  Type type;
  std::string unit;
  Getter get;
};

// Derived metrics (DOMAIN.md §0.3). Shares of counters are 0 when the denominator did not move.
const std::map<std::string, Fixed>& derived() {
  static const std::map<std::string, Fixed> k = {
      {"direct_reclaim_rate",
       {Type::number, "stalls/s",
        [](const EvalContext& c) { return vmstat_rate_prefix(c.snapshot, "allocstall_"); }}},
      {"direct_scan_share",
       {Type::number, "",
        [](const EvalContext& c) {
          const auto& s = c.snapshot;
          const auto dir = vmstat_rate(s, "pgscan_direct");
          return share(dir, add(dir, vmstat_rate(s, "pgscan_kswapd")));
        }}},
      {"reclaim_efficiency",
       {Type::number, "",
        [](const EvalContext& c) {
          const auto& s = c.snapshot;
          const auto steal =
              add(vmstat_rate(s, "pgsteal_kswapd"), vmstat_rate(s, "pgsteal_direct"));
          const auto scan = add(vmstat_rate(s, "pgscan_kswapd"), vmstat_rate(s, "pgscan_direct"));
          if (steal.ok() && scan.ok() && d(scan) <= 0) return Eval::of(1.0);
          return share(steal, scan);
        }}},
      {"file_refault_ratio",
       {Type::number, "",
        [](const EvalContext& c) {
          const auto& s = c.snapshot;
          auto refault = vmstat_rate(s, "workingset_refault_file");
          if (!refault.ok()) {
            auto old = vmstat_rate(s, "workingset_refault");  // before 5.9
            if (old.ok()) refault = old;
          }
          auto steal = vmstat_rate(s, "pgsteal_file");
          if (!steal.ok())
            steal = add(vmstat_rate(s, "pgsteal_kswapd"), vmstat_rate(s, "pgsteal_direct"));
          return share(refault, steal);
        }}},
      {"swap_in_rate",
       {Type::number, "pages/s",
        [](const EvalContext& c) { return vmstat_rate(c.snapshot, "pswpin"); }}},
      {"swap_out_rate",
       {Type::number, "pages/s",
        [](const EvalContext& c) { return vmstat_rate(c.snapshot, "pswpout"); }}},
      {"compact_stall_rate",
       {Type::number, "stalls/s",
        [](const EvalContext& c) { return vmstat_rate(c.snapshot, "compact_stall"); }}},
      {"compact_fail_ratio",
       {Type::number, "",
        [](const EvalContext& c) {
          return share(vmstat_rate(c.snapshot, "compact_fail"),
                       vmstat_rate(c.snapshot, "compact_stall"));
        }}},
      {"thp_fallback_ratio",
       {Type::number, "",
        [](const EvalContext& c) {
          const auto fb = vmstat_rate(c.snapshot, "thp_fault_fallback");
          return share(fb, add(fb, vmstat_rate(c.snapshot, "thp_fault_alloc")));
        }}},
      {"numa_remote_ratio",
       {Type::number, "",
        [](const EvalContext& c) {
          const auto miss = vmstat_rate(c.snapshot, "numa_miss");
          return share(miss, add(miss, vmstat_rate(c.snapshot, "numa_hit")));
        }}},
      {"oom_kills_in_window",
       {Type::number, "kills",
        [](const EvalContext& c) {
          auto r = vmstat_rate(c.snapshot, "oom_kill");
          if (!r.ok()) return r;
          return Eval::of(std::round(d(r) * c.snapshot.rates->interval_s));
        }}},
      {"interval_s",
       {Type::number, "s",
        [](const EvalContext& c) {
          if (!c.snapshot.rates) return Eval::absent(no_rates_reason(c.snapshot));
          return Eval::of(c.snapshot.rates->interval_s);
        }}},
      {"dirty_utilization",
       {Type::number, "",
        [](const EvalContext& c) {
          const auto& s = c.snapshot;
          const auto dirty = add(vmstat(s, "nr_dirty"), vmstat(s, "nr_writeback"));
          const auto thresh = vmstat(s, "nr_dirty_threshold");
          if (!dirty.ok()) return dirty;
          if (!thresh.ok()) return thresh;
          if (d(thresh) <= 0) return Eval::absent("vmstat nr_dirty_threshold is 0");
          return Eval::of(d(dirty) / d(thresh));
        }}},
      {"dirty_freerun_ceiling",
       {Type::number, "pages",
        [](const EvalContext& c) {
          const auto sum = add(vmstat(c.snapshot, "nr_dirty_threshold"),
                               vmstat(c.snapshot, "nr_dirty_background_threshold"));
          if (!sum.ok()) return sum;
          return Eval::of(std::floor(d(sum) / 2));
        }}},
      {"pagetables_pct",
       {Type::number, "%",
        [](const EvalContext& c) {
          const auto& s = c.snapshot;
          auto pt = meminfo(s, "PageTables");
          if (!pt.ok()) return pt;
          if (auto sec = meminfo(s, "SecPageTables"); sec.ok()) pt = add(pt, sec);
          const auto total = meminfo(s, "MemTotal");
          if (!total.ok()) return total;
          if (d(total) <= 0) return Eval::absent("meminfo MemTotal is 0");
          return Eval::of(100.0 * d(pt) / d(total));
        }}},
      {"file_cache_bytes",
       {Type::number, "bytes",
        [](const EvalContext& c) {
          const auto cached = meminfo(c.snapshot, "Cached");
          const auto shmem = meminfo(c.snapshot, "Shmem");
          if (!cached.ok()) return cached;
          if (!shmem.ok()) return shmem;
          return Eval::of(std::max(0.0, d(cached) - d(shmem)));
        }}},
      {"commit_headroom",
       {Type::number, "bytes",
        [](const EvalContext& c) {
          const auto limit = meminfo(c.snapshot, "CommitLimit");
          const auto as = meminfo(c.snapshot, "Committed_AS");
          if (!limit.ok()) return limit;
          if (!as.ok()) return as;
          return Eval::of(d(limit) - d(as));
        }}},
      {"mem_available_pct",
       {Type::number, "%",
        [](const EvalContext& c) {
          const auto avail = meminfo(c.snapshot, "MemAvailable");
          const auto total = meminfo(c.snapshot, "MemTotal");
          if (!avail.ok()) return avail;
          if (!total.ok()) return total;
          if (d(total) <= 0) return Eval::absent("meminfo MemTotal is 0");
          return Eval::of(100.0 * d(avail) / d(total));
        }}},
      {"swap_used_bytes",
       {Type::number, "bytes",
        [](const EvalContext& c) {
          const auto total = meminfo(c.snapshot, "SwapTotal");
          const auto free = meminfo(c.snapshot, "SwapFree");
          if (!total.ok()) return total;
          if (!free.ok()) return free;
          return Eval::of(std::max(0.0, d(total) - d(free)));
        }}},
      {"swap_used_pct",
       {Type::number, "%",
        [](const EvalContext& c) {
          const auto total = meminfo(c.snapshot, "SwapTotal");
          const auto free = meminfo(c.snapshot, "SwapFree");
          if (!total.ok()) return total;
          if (!free.ok()) return free;
          if (d(total) <= 0) return Eval::of(0.0);
          return Eval::of(100.0 * std::max(0.0, d(total) - d(free)) / d(total));
        }}},
      {"high_watermark_pct",
       {Type::number, "%",
        [](const EvalContext& c) {
          const auto& s = c.snapshot;
          const auto* zones = get(s.current.zones);
          if (zones == nullptr) return Eval::absent(needs(s.current.zones, "zoneinfo"));
          if (auto r = zone_damage(s, "high")) return Eval::absent(std::move(*r));
          const auto total = meminfo(s, "MemTotal");
          if (!total.ok()) return total;
          double high = 0;
          for (const auto& z : *zones) high += static_cast<double>(z.high.value_or(0));
          if (d(total) <= 0) return Eval::absent("meminfo MemTotal is 0");
          return Eval::of(100.0 * high * static_cast<double>(s.current.host.page_size) / d(total));
        }}},
  };
  return k;
}

// Fixed-key sections.
std::map<std::string, Fixed> fixed_keys() {
  std::map<std::string, Fixed> k;
  // host
  k["host.page_size"] = {Type::number, "bytes", [](const EvalContext& c) {
                           return num(c.snapshot.current.host.page_size);
                         }};
  k["host.cpus"] = {Type::number, "", [](const EvalContext& c) {
                      if (c.snapshot.current.host.cpus == 0)
                        return Eval::absent("CPU count unknown");
                      return num(static_cast<std::uint64_t>(c.snapshot.current.host.cpus));
                    }};
  k["host.kernel_release"] = {Type::string, "", [](const EvalContext& c) {
                                const auto& r = c.snapshot.current.host.kernel_release;
                                if (r.empty()) return Eval::absent("kernel release unknown");
                                return Eval::of(r);
                              }};
  auto kernel_part = [](int idx) {
    return [idx](const EvalContext& c) {
      const auto& r = c.snapshot.current.host.kernel_release;
      int parts[2] = {-1, -1};
      std::size_t pos = 0;
      for (int i = 0; i < 2; ++i) {
        std::size_t e = pos;
        while (e < r.size() && std::isdigit(static_cast<unsigned char>(r[e]))) ++e;
        if (e == pos) break;
        parts[i] = std::stoi(r.substr(pos, e - pos));
        if (e >= r.size() || r[e] != '.') break;
        pos = e + 1;
      }
      if (parts[idx] < 0) return Eval::absent("kernel release unknown");
      return Eval::of(static_cast<double>(parts[idx]));
    };
  };
  k["host.kernel_major"] = {Type::number, "", kernel_part(0)};
  k["host.kernel_minor"] = {Type::number, "", kernel_part(1)};
  k["host.arch"] = {Type::string, "", [](const EvalContext& c) {
                      const auto& a = c.snapshot.current.host.arch;
                      if (a.empty()) return Eval::absent("architecture unknown");
                      return Eval::of(a);
                    }};
  // config
  k["config.profile"] = {Type::string, "",
                         [](const EvalContext& c) { return Eval::of(c.profile); }};
  k["config.db_reserved_bytes"] = {Type::number, "bytes", [](const EvalContext& c) {
                                     if (!c.db_reserved_bytes) {
                                       return Eval::absent("db_reserved is not set in vmtune.toml");
                                     }
                                     return Eval::of(*c.db_reserved_bytes);
                                   }};
  // thp
  auto thp_text = [](std::string model::Thp::*field, const char* name) {
    return [field, name](const EvalContext& c) {
      const auto* t = get(c.snapshot.current.thp);
      if (t == nullptr) return Eval::absent(needs(c.snapshot.current.thp, "thp"));
      if ((t->*field).empty()) {
        if (auto r = field_damage(c.snapshot, "thp", name)) return Eval::absent(std::move(*r));
        return Eval::absent(std::string("THP ") + name + " not reported");
      }
      return Eval::of(t->*field);
    };
  };
  k["thp.enabled"] = {Type::string, "", thp_text(&model::Thp::enabled, "enabled")};
  k["thp.defrag"] = {Type::string, "", thp_text(&model::Thp::defrag, "defrag")};
  k["thp.shmem_enabled"] = {Type::string, "",
                            thp_text(&model::Thp::shmem_enabled, "shmem_enabled")};
  k["thp.hpage_pmd_size"] = {Type::number, "bytes", [](const EvalContext& c) {
                               const auto* t = get(c.snapshot.current.thp);
                               if (t == nullptr)
                                 return Eval::absent(needs(c.snapshot.current.thp, "thp"));
                               if (!t->hpage_pmd_size) {
                                 if (auto r = field_damage(c.snapshot, "thp", "hpage_pmd_size")) {
                                   return Eval::absent(std::move(*r));
                                 }
                               }
                               return opt(t->hpage_pmd_size, "THP hpage_pmd_size");
                             }};
  // psi
  for (const char* kind : {"some", "full"}) {
    for (const char* f : {"avg10", "avg60", "avg300", "total"}) {
      const std::string name = std::string("psi.") + kind + "." + f;
      const bool some = std::string(kind) == "some";
      const std::string field = f;
      k[name] = {Type::number, field == "total" ? "us" : "%",
                 [some, field, kind = std::string(kind)](const EvalContext& c) {
                   const auto* p = get(c.snapshot.current.psi);
                   if (p == nullptr) return Eval::absent(needs(c.snapshot.current.psi, "psi"));
                   const auto& line = some ? p->some : p->full;
                   if (!line) {
                     if (auto r = psi_damage(c.snapshot, "psi", kind)) {
                       return Eval::absent(std::move(*r));
                     }
                     return Eval::absent("PSI memory has no '" + kind + "' line");
                   }
                   if (field == "avg10") return Eval::of(line->avg10);
                   if (field == "avg60") return Eval::of(line->avg60);
                   if (field == "avg300") return Eval::of(line->avg300);
                   return num(line->total_us);
                 }};
    }
  }
  // zones (sums over all zones, pages)
  auto zone_sum = [](std::optional<std::uint64_t> model::Zone::*field, const char* key) {
    return [field, key = std::string(key)](const EvalContext& c) {
      const auto* zs = get(c.snapshot.current.zones);
      if (zs == nullptr) return Eval::absent(needs(c.snapshot.current.zones, "zoneinfo"));
      if (auto r = zone_damage(c.snapshot, key)) return Eval::absent(std::move(*r));
      std::uint64_t sum = 0;
      for (const auto& z : *zs) sum += (z.*field).value_or(0);
      return num(sum);
    };
  };
  k["zones.min_pages"] = {Type::number, "pages", zone_sum(&model::Zone::min, "min")};
  k["zones.low_pages"] = {Type::number, "pages", zone_sum(&model::Zone::low, "low")};
  k["zones.high_pages"] = {Type::number, "pages", zone_sum(&model::Zone::high, "high")};
  k["zones.boost_pages"] = {Type::number, "pages", zone_sum(&model::Zone::boost, "boost")};
  k["zones.managed_pages"] = {Type::number, "pages", zone_sum(&model::Zone::managed, "managed")};
  k["zones.free_pages"] = {Type::number, "pages", zone_sum(&model::Zone::free, "pages free")};
  auto zone_count = [](auto pred, const char* key) {
    return [pred, key = std::string(key)](const EvalContext& c) {
      const auto* zs = get(c.snapshot.current.zones);
      if (zs == nullptr) return Eval::absent(needs(c.snapshot.current.zones, "zoneinfo"));
      if (auto r = zone_damage(c.snapshot, key)) return Eval::absent(std::move(*r));
      std::uint64_t n = 0;
      for (const auto& z : *zs) n += pred(z) ? 1 : 0;
      return num(n);
    };
  };
  k["zones.count"] = {Type::number, "",
                      zone_count([](const model::Zone&) { return true; }, "zone")};
  k["zones.populated"] = {
      Type::number, "",
      zone_count([](const model::Zone& z) { return z.managed.value_or(0) > 0; }, "managed")};
  k["zones.boosted"] = {
      Type::number, "",
      zone_count([](const model::Zone& z) { return z.boost.value_or(0) > 0; }, "boost")};
  k["zones.unreclaimable"] = {
      Type::number, "",
      zone_count([](const model::Zone& z) { return z.node_unreclaimable.value_or(false); },
                 "node_unreclaimable")};
  // buddyinfo
  auto buddy = [](int what) {
    return [what](const EvalContext& c) {
      const auto* bs = get(c.snapshot.current.buddyinfo);
      if (bs == nullptr) return Eval::absent(needs(c.snapshot.current.buddyinfo, "buddyinfo"));
      // A damaged line drops its zone: totals over the rest would understate free memory.
      if (auto r = any_damage(c.snapshot, "buddyinfo")) return Eval::absent(std::move(*r));
      std::vector<std::uint64_t> total;
      for (const auto& z : *bs) {
        if (total.size() < z.free_blocks.size()) total.resize(z.free_blocks.size(), 0);
        for (std::size_t i = 0; i < z.free_blocks.size(); ++i) total[i] += z.free_blocks[i];
      }
      if (what == 0) {  // free pages
        double pages = 0;
        for (std::size_t i = 0; i < total.size() && i < 63; ++i) {
          pages += static_cast<double>(total[i]) * static_cast<double>(1ULL << i);
        }
        return Eval::of(pages);
      }
      if (what == 1) {  // blocks of order >= 9 (2 MiB on x86-64)
        std::uint64_t n = 0;
        for (std::size_t i = 9; i < total.size(); ++i) n += total[i];
        return num(n);
      }
      const auto idx = model::unusable_free_index(total);
      if (idx.size() <= 9) return Eval::absent("buddyinfo has no order-9 column or no free memory");
      return Eval::of(idx[9]);
    };
  };
  k["buddy.free_pages"] = {Type::number, "pages", buddy(0)};
  k["buddy.order9_blocks"] = {Type::number, "blocks", buddy(1)};
  k["buddy.unusable_index9"] = {Type::number, "", buddy(2)};
  // numa
  k["numa.nodes"] = {Type::number, "", [](const EvalContext& c) {
                       const auto* n = get(c.snapshot.current.numa);
                       if (n == nullptr)
                         return Eval::absent(needs(c.snapshot.current.numa, "numa"));
                       return num(static_cast<std::uint64_t>(n->nodes.size()));
                     }};
  auto node_free = [](bool want_min) {
    return [want_min](const EvalContext& c) {
      const auto* n = get(c.snapshot.current.numa);
      if (n == nullptr) return Eval::absent(needs(c.snapshot.current.numa, "numa"));
      // A node whose meminfo is damaged would be skipped, and it may be the extreme one.
      if (auto r = damage(c.snapshot, "numa", [](const model::Unavailable& u) {
            return ends_with(u.path, "/meminfo") &&
                   (u.field.empty() || u.field == "MemTotal" || u.field == "MemFree");
          })) {
        return Eval::absent(std::move(*r));
      }
      std::optional<double> best;
      for (const auto& node : n->nodes) {
        const auto t = node.meminfo.find("MemTotal");
        const auto f = node.meminfo.find("MemFree");
        if (t == node.meminfo.end() || f == node.meminfo.end() || t->second == 0) continue;
        const double pct = 100.0 * static_cast<double>(f->second) / static_cast<double>(t->second);
        if (!best || (want_min ? pct < *best : pct > *best)) best = pct;
      }
      if (!best) return Eval::absent("no NUMA node reports MemTotal and MemFree");
      return Eval::of(*best);
    };
  };
  k["numa.min_free_pct"] = {Type::number, "%", node_free(true)};
  k["numa.max_free_pct"] = {Type::number, "%", node_free(false)};
  // swaps
  auto swaps = [](int what) {
    return [what](const EvalContext& c) {
      const auto* sw = get(c.snapshot.current.swaps);
      if (sw == nullptr) return Eval::absent(needs(c.snapshot.current.swaps, "swaps"));
      // A damaged row drops its device: counts and sizes over the rest would be wrong.
      if (auto r = any_damage(c.snapshot, "swaps")) return Eval::absent(std::move(*r));
      double v = 0;
      for (const auto& dev : *sw) {
        const bool zram = dev.filename.find("zram") != std::string::npos;
        switch (what) {
          case 0:
            v += 1;
            break;
          case 1:
            v += static_cast<double>(dev.size);
            break;
          case 2:
            v += static_cast<double>(dev.used);
            break;
          case 3:
            v += zram ? 1 : 0;
            break;
          default:
            v += zram ? 0 : 1;
            break;
        }
      }
      return Eval::of(v);
    };
  };
  k["swaps.count"] = {Type::number, "", swaps(0)};
  k["swaps.size"] = {Type::number, "bytes", swaps(1)};
  k["swaps.used"] = {Type::number, "bytes", swaps(2)};
  k["swaps.zram"] = {Type::number, "", swaps(3)};
  k["swaps.disk"] = {Type::number, "", swaps(4)};
  // cgroups
  k["cgroups.layout"] = {Type::string, "", [](const EvalContext& c) {
                           const auto* g = get(c.snapshot.current.cgroups);
                           if (g == nullptr)
                             return Eval::absent(needs(c.snapshot.current.cgroups, "cgroups"));
                           return Eval::of(g->layout);
                         }};
  k["cgroups.count"] = {Type::number, "", [](const EvalContext& c) {
                          const auto* g = get(c.snapshot.current.cgroups);
                          if (g == nullptr)
                            return Eval::absent(needs(c.snapshot.current.cgroups, "cgroups"));
                          return num(static_cast<std::uint64_t>(g->groups.size()));
                        }};
  k["cgroups.limited"] = {
      Type::number, "", [](const EvalContext& c) {
        const auto* g = get(c.snapshot.current.cgroups);
        if (g == nullptr) return Eval::absent(needs(c.snapshot.current.cgroups, "cgroups"));
        if (auto r = damage(c.snapshot, "cgroups",
                            [](const model::Unavailable& u) { return u.field == "memory.max"; })) {
          return Eval::absent(std::move(*r));
        }
        std::uint64_t n = 0;
        for (const auto& x : g->groups) {
          n += (x.path != "/" && x.max && *x.max != kUnlimited) ? 1 : 0;
        }
        return num(n);
      }};
  k["cgroups.self.path"] = {Type::string, "", [](const EvalContext& c) {
                              const auto* g = get(c.snapshot.current.cgroups);
                              if (g == nullptr)
                                return Eval::absent(needs(c.snapshot.current.cgroups, "cgroups"));
                              if (g->self_path.empty()) return Eval::absent("own cgroup not known");
                              return Eval::of(g->self_path);
                            }};
  k["cgroups.worst.path"] = {Type::string, "", [](const EvalContext& c) {
                               const auto* w = worst_cgroup(c.snapshot);
                               if (w == nullptr) return worst_missing(c.snapshot);
                               return Eval::of(w->path);
                             }};
  auto worst_field = [](std::optional<std::uint64_t> model::Cgroup::*field, const char* what) {
    return [field, what](const EvalContext& c) {
      const auto* w = worst_cgroup(c.snapshot);
      if (w == nullptr) return worst_missing(c.snapshot);
      return cgroup_opt(c.snapshot, *w, w->*field, what);
    };
  };
  k["cgroups.worst.current"] = {Type::number, "bytes",
                                worst_field(&model::Cgroup::current, "memory.current")};
  k["cgroups.worst.max"] = {Type::number, "bytes", worst_field(&model::Cgroup::max, "memory.max")};
  k["cgroups.worst.high"] = {Type::number, "bytes",
                             worst_field(&model::Cgroup::high, "memory.high")};
  k["cgroups.worst.low"] = {Type::number, "bytes", worst_field(&model::Cgroup::low, "memory.low")};
  k["cgroups.worst.min"] = {Type::number, "bytes", worst_field(&model::Cgroup::min, "memory.min")};
  k["cgroups.worst.peak"] = {Type::number, "bytes",
                             worst_field(&model::Cgroup::peak, "memory.peak")};
  k["cgroups.worst.usage_pct"] = {
      Type::number, "%", [](const EvalContext& c) {
        const auto* w = worst_cgroup(c.snapshot);
        if (w == nullptr) return worst_missing(c.snapshot);
        return Eval::of(100.0 * static_cast<double>(*w->current) / static_cast<double>(*w->max));
      }};
  k["cgroups.worst.high_set"] = {
      Type::boolean, "", [](const EvalContext& c) {
        const auto* w = worst_cgroup(c.snapshot);
        if (w == nullptr) return worst_missing(c.snapshot);
        return Eval::of(w->high.has_value() && *w->high != kUnlimited && *w->high < *w->max);
      }};
  for (const char* kind : {"some", "full"}) {
    for (const char* f : {"avg10", "avg60", "avg300"}) {
      const bool some = std::string(kind) == "some";
      const std::string field = f;
      k[std::string("cgroups.worst.pressure.") + kind + "." + f] = {
          Type::number, "%", [some, field](const EvalContext& c) {
            const auto* w = worst_cgroup(c.snapshot);
            if (w == nullptr) return worst_missing(c.snapshot);
            if (!w->pressure || !(some ? w->pressure->some : w->pressure->full)) {
              if (auto r = cgroup_file_damage(c.snapshot, w->path, "memory.pressure")) {
                return Eval::absent(std::move(*r));
              }
            }
            if (!w->pressure)
              return Eval::absent("memory.pressure of " + w->path + " not reported");
            const auto& line = some ? w->pressure->some : w->pressure->full;
            if (!line) return Eval::absent("memory.pressure of " + w->path + " lacks the line");
            return Eval::of(field == "avg10"   ? line->avg10
                            : field == "avg60" ? line->avg60
                                               : line->avg300);
          }};
    }
  }
  // processes
  auto proc_agg = [](int what) {
    return [what](const EvalContext& c) {
      const auto* ps = get(c.snapshot.current.processes);
      if (ps == nullptr) return Eval::absent(needs(c.snapshot.current.processes, "processes"));
      double v = 0;
      for (const auto& p : *ps) {
        switch (what) {
          case 0:
            v += 1;
            break;
          case 1:
            v += static_cast<double>(p.vm_pte.value_or(0));
            break;
          case 2:
            v += static_cast<double>(p.vm_swap.value_or(0));
            break;
          case 3:
            v += p.vm_swap.value_or(0) > 0 ? 1 : 0;
            break;
          case 4:
            v = std::max(v, static_cast<double>(p.vm_pte.value_or(0)));
            break;
          case 5:
            v += static_cast<double>(p.anon_huge_pages.value_or(0));
            break;
          default:
            v += static_cast<double>(p.rss_shmem.value_or(0));
            break;
        }
      }
      return Eval::of(v);
    };
  };
  k["processes.count"] = {Type::number, "", proc_agg(0)};
  k["processes.vm_pte_total"] = {Type::number, "bytes", proc_agg(1)};
  k["processes.vm_swap_total"] = {Type::number, "bytes", proc_agg(2)};
  k["processes.swapped"] = {Type::number, "", proc_agg(3)};
  k["processes.max_vm_pte"] = {Type::number, "bytes", proc_agg(4)};
  k["processes.anon_huge_total"] = {Type::number, "bytes", proc_agg(5)};
  k["processes.rss_shmem_total"] = {Type::number, "bytes", proc_agg(6)};
  // postgres (first instance)
  k["postgres.instances"] = {
      Type::number, "", [](const EvalContext& c) {
        const auto* pg = get(c.snapshot.current.postgres);
        if (pg == nullptr) return Eval::absent(needs(c.snapshot.current.postgres, "postgres"));
        return num(static_cast<std::uint64_t>(pg->instances.size()));
      }};
  k["postgres.backends"] = {Type::number, "", [](const EvalContext& c) {
                              const auto* i = pg_first(c.snapshot);
                              if (i == nullptr) return pg_missing(c.snapshot);
                              return num(static_cast<std::uint64_t>(i->backend_pids.size()));
                            }};
  k["postgres.postmaster_pid"] = {Type::number, "", [](const EvalContext& c) {
                                    const auto* i = pg_first(c.snapshot);
                                    if (i == nullptr) return pg_missing(c.snapshot);
                                    return Eval::of(static_cast<double>(i->postmaster_pid));
                                  }};
  k["postgres.segment_backing"] = {
      Type::string, "", [](const EvalContext& c) {
        const auto* i = pg_first(c.snapshot);
        if (i == nullptr) return pg_missing(c.snapshot);
        return Eval::of(i->segment_backing.empty() ? std::string("unknown") : i->segment_backing);
      }};
  auto pg_opt = [](std::optional<std::uint64_t> model::PgInstance::*field, const char* what) {
    return [field, what](const EvalContext& c) {
      const auto* i = pg_first(c.snapshot);
      if (i == nullptr) return pg_missing(c.snapshot);
      return opt(i->*field, std::string("PostgreSQL ") + what);
    };
  };
  k["postgres.segment_size"] = {Type::number, "bytes",
                                pg_opt(&model::PgInstance::segment_size, "segment size")};
  k["postgres.page_tables_total"] = {Type::number, "bytes",
                                     pg_opt(&model::PgInstance::page_tables_total, "page tables")};
  k["postgres.rss_shmem_total"] = {Type::number, "bytes",
                                   pg_opt(&model::PgInstance::rss_shmem_total, "RssShmem total")};
  k["postgres.hugetlb_total"] = {Type::number, "bytes",
                                 pg_opt(&model::PgInstance::hugetlb_total, "HugetlbPages total")};
  k["postgres.rss_anon_total"] = {Type::number, "bytes",
                                  pg_opt(&model::PgInstance::rss_anon_total, "RssAnon total")};
  k["postgres.shmem_page_table_estimate"] = {
      Type::number, "bytes",
      pg_opt(&model::PgInstance::shmem_page_table_estimate, "shared-memory page-table estimate")};
  k["postgres.double_buffered_bytes"] = {
      Type::number, "bytes",
      pg_opt(&model::PgInstance::double_buffered_bytes, "double-buffered bytes")};
  k["postgres.double_buffered_ratio"] = {
      Type::number, "", [](const EvalContext& c) {
        const auto* i = pg_first(c.snapshot);
        if (i == nullptr) return pg_missing(c.snapshot);
        if (!i->double_buffered_ratio) {
          return Eval::absent("PostgreSQL double-buffered ratio not measured");
        }
        return Eval::of(*i->double_buffered_ratio);
      }};
  k["postgres.connected"] = {Type::boolean, "", [](const EvalContext& c) {
                               const auto* i = pg_first(c.snapshot);
                               if (i == nullptr) return pg_missing(c.snapshot);
                               return Eval::of(i->connected);
                             }};
  k["postgres.server_version_num"] = {
      Type::number, "", [](const EvalContext& c) {
        const auto* i = pg_first(c.snapshot);
        if (i == nullptr) return pg_missing(c.snapshot);
        if (!i->server_version_num)
          return Eval::absent("PostgreSQL version not known (no connection)");
        return Eval::of(static_cast<double>(*i->server_version_num));
      }};
  k["postgres.page_cache_overlap"] = {
      Type::number, "bytes", pg_opt(&model::PgInstance::page_cache_overlap, "page-cache overlap")};
  k["postgres.relation_bytes_sampled"] = {
      Type::number, "bytes",
      pg_opt(&model::PgInstance::relation_bytes_sampled, "relation bytes sampled")};
  k["postgres.postmaster_hugetlb"] = {
      Type::number, "bytes", [](const EvalContext& c) {
        const auto* i = pg_first(c.snapshot);
        if (i == nullptr) return pg_missing(c.snapshot);
        const auto* ps = get(c.snapshot.current.processes);
        if (ps == nullptr) {
          return Eval::absent(needs(c.snapshot.current.processes, "processes"));
        }
        for (const auto& p : *ps) {
          if (p.pid == i->postmaster_pid) return opt(p.hugetlb, "HugetlbPages");
        }
        return Eval::absent("postmaster process not in the process scan");
      }};
  // bpf
  k["bpf.duration_s"] = {
      Type::number, "s", [](const EvalContext& c) {
        const auto* b = get(c.snapshot.current.bpf);
        if (b == nullptr) return Eval::absent(needs(c.snapshot.current.bpf, "bpf (audit --trace)"));
        return Eval::of(b->duration_s);
      }};
  k["bpf.oom_kills"] = {
      Type::number, "kills", [](const EvalContext& c) {
        const auto* b = get(c.snapshot.current.bpf);
        if (b == nullptr) return Eval::absent(needs(c.snapshot.current.bpf, "bpf (audit --trace)"));
        return num(static_cast<std::uint64_t>(b->oom_kills.size()));
      }};
  k["bpf.oom_kills_postgres"] = {
      Type::number, "kills", [](const EvalContext& c) {
        const auto* b = get(c.snapshot.current.bpf);
        if (b == nullptr) {
          return Eval::absent(needs(c.snapshot.current.bpf, "bpf (audit --trace)"));
        }
        std::uint64_t n = 0;
        for (const auto& o : b->oom_kills) n += o.comm.rfind("postgres", 0) == 0 ? 1 : 0;
        return num(n);
      }};
  return k;
}

const std::map<std::string, Fixed>& fixed() {
  static const std::map<std::string, Fixed> k = fixed_keys();
  return k;
}

// Sections whose keys are open (kernel-defined). Returns nullopt if `name` is not one of them.
std::optional<core::Result<MetricRef>> open_key(const std::string& name) {
  auto starts = [&](const char* p) { return name.rfind(p, 0) == 0; };
  auto key_after = [&](const char* p) { return name.substr(std::string(p).size()); };
  auto make = [&](Type t, std::string unit, Getter g) -> core::Result<MetricRef> {
    return MetricRef{name, t, std::move(unit), std::move(g)};
  };
  auto need_key = [&](const char* p) -> std::optional<core::Result<MetricRef>> {
    if (key_after(p).empty()) {
      return core::Result<MetricRef>(
          name_error("metric '" + name + "' needs a key after '" + p + "'"));
    }
    return std::nullopt;
  };
  if (starts("meminfo.")) {
    if (auto e = need_key("meminfo.")) return e;
    const auto key = key_after("meminfo.");
    const bool count = key.rfind("HugePages_", 0) == 0;
    return make(Type::number, count ? "pages" : "bytes",
                [key](const EvalContext& c) { return meminfo(c.snapshot, key); });
  }
  if (starts("vmstat.")) {
    if (auto e = need_key("vmstat.")) return e;
    const auto key = key_after("vmstat.");
    return make(Type::number, "", [key](const EvalContext& c) { return vmstat(c.snapshot, key); });
  }
  if (starts("sysctl.")) {
    if (auto e = need_key("sysctl.")) return e;
    const auto key = key_after("sysctl.");
    return make(Type::any, "", [key](const EvalContext& c) { return sysctl(c.snapshot, key); });
  }
  if (starts("thp.khugepaged.")) {
    if (auto e = need_key("thp.khugepaged.")) return e;
    const auto key = key_after("thp.khugepaged.");
    return make(Type::any, "", [key](const EvalContext& c) {
      const auto* t = get(c.snapshot.current.thp);
      if (t == nullptr) return Eval::absent(needs(c.snapshot.current.thp, "thp"));
      const auto it = t->khugepaged.find(key);
      if (it == t->khugepaged.end()) {
        if (auto r = field_damage(c.snapshot, "thp", "khugepaged/" + key)) {
          return Eval::absent(std::move(*r));
        }
        return Eval::absent("THP khugepaged/" + key + " not reported");
      }
      return text_value(it->second, "THP khugepaged/" + key);
    });
  }
  if (starts("hugepages.")) {
    // hugepages.<size>.<field>, size "2048kB" or "default" (meminfo Hugepagesize).
    const auto rest = key_after("hugepages.");
    const auto dot = rest.find('.');
    if (rest == "pools" || rest == "total_bytes") {
      const bool pools = rest == "pools";
      return make(Type::number, pools ? "" : "bytes", [pools](const EvalContext& c) {
        const auto* ps = get(c.snapshot.current.hugepages);
        if (ps == nullptr) return Eval::absent(needs(c.snapshot.current.hugepages, "hugepages"));
        if (!pools) {
          if (auto r = field_damage(c.snapshot, "hugepages", "nr_hugepages")) {
            return Eval::absent(std::move(*r));
          }
        }
        double v = 0;
        for (const auto& p : *ps)
          v += pools ? 1.0 : static_cast<double>(p.nr.value_or(0) * p.page_size);
        return Eval::of(v);
      });
    }
    if (dot == std::string::npos) {
      return core::Result<MetricRef>(
          name_error("unknown metric '" + name +
                     "': expected hugepages.<size>kB.<field>, hugepages.default.<field>, "
                     "hugepages.pools or hugepages.total_bytes"));
    }
    const auto size = rest.substr(0, dot);
    const auto field = rest.substr(dot + 1);
    static const char* const kFields[] = {"nr",      "free",       "resv",
                                          "surplus", "overcommit", "page_size"};
    if (std::find(std::begin(kFields), std::end(kFields), field) == std::end(kFields)) {
      return core::Result<MetricRef>(
          name_error("unknown hugepages field '" + field + "' in '" + name +
                     "': expected nr, free, resv, surplus, overcommit or page_size"));
    }
    std::optional<std::uint64_t> bytes;
    if (size != "default") {
      if (size.size() < 3 || size.substr(size.size() - 2) != "kB") {
        return core::Result<MetricRef>(name_error("bad hugepage size '" + size + "' in '" + name +
                                                  "': expected <n>kB (e.g. 2048kB) or default"));
      }
      auto n = parse_number(size.substr(0, size.size() - 2));
      if (!n || *n <= 0) {
        return core::Result<MetricRef>(name_error("bad hugepage size '" + size + "' in '" + name +
                                                  "': expected <n>kB (e.g. 2048kB) or default"));
      }
      bytes = static_cast<std::uint64_t>(*n) * 1024;
    }
    return make(Type::number, field == "page_size" ? "bytes" : "pages",
                [bytes, field, size](const EvalContext& c) {
                  const auto& s = c.snapshot;
                  const auto* ps = get(s.current.hugepages);
                  if (ps == nullptr) return Eval::absent(needs(s.current.hugepages, "hugepages"));
                  std::uint64_t want = 0;
                  if (bytes) {
                    want = *bytes;
                  } else {
                    auto hp = meminfo(s, "Hugepagesize");
                    if (!hp.ok()) return hp;
                    want = static_cast<std::uint64_t>(d(hp));
                  }
                  const auto* p = pool_by_size(s, want);
                  if (p == nullptr)
                    return Eval::absent("no hugetlb pool of size " +
                                        format_number(static_cast<double>(want / 1024)) + "kB");
                  if (field == "page_size") return num(p->page_size);
                  const auto& v = field == "nr"        ? p->nr
                                  : field == "free"    ? p->free
                                  : field == "resv"    ? p->resv
                                  : field == "surplus" ? p->surplus
                                                       : p->overcommit;
                  if (!v) {
                    const std::string file = field == "overcommit" ? "nr_overcommit_hugepages"
                                             : field == "nr"       ? "nr_hugepages"
                                                                   : field + "_hugepages";
                    const std::string dir =
                        "/hugepages-" + std::to_string(p->page_size / 1024) + "kB/" + file;
                    if (auto r = damage(s, "hugepages", [&](const model::Unavailable& u) {
                          return u.field == file && ends_with(u.path, dir);
                        })) {
                      return Eval::absent(std::move(*r));
                    }
                  }
                  return opt(v, "hugepages-" + size + " " + field);
                });
  }
  if (starts("cgroups.worst.events.") || starts("cgroups.worst.stat.")) {
    const bool events = starts("cgroups.worst.events.");
    const char* prefix = events ? "cgroups.worst.events." : "cgroups.worst.stat.";
    if (auto e = need_key(prefix)) return e;
    const auto key = key_after(prefix);
    return make(Type::number, "", [key, events](const EvalContext& c) {
      const auto* w = worst_cgroup(c.snapshot);
      if (w == nullptr) return worst_missing(c.snapshot);
      const auto& m = events ? w->events : w->stat;
      const auto it = m.find(key);
      if (it == m.end()) {
        const std::string file = events ? "memory.events" : "memory.stat";
        if (auto r = damage(c.snapshot, "cgroups", [&](const model::Unavailable& u) {
              return ends_with(u.path, (w->path == "/" ? std::string() : w->path) + "/" + file) &&
                     (u.field == key || u.field.empty() || u.field == file);
            })) {
          return Eval::absent(std::move(*r));
        }
        return Eval::absent(std::string(events ? "memory.events" : "memory.stat") + " of " +
                            w->path + " has no " + key);
      }
      return num(it->second);
    });
  }
  if (starts("postgres.setting.")) {
    if (auto e = need_key("postgres.setting.")) return e;
    const auto key = key_after("postgres.setting.");
    return make(Type::any, "", [key](const EvalContext& c) {
      const auto* i = pg_first(c.snapshot);
      if (i == nullptr) return pg_missing(c.snapshot);
      // Numeric form first (bytes for memory settings), else the text.
      if (const auto v = i->setting_values.find(key); v != i->setting_values.end()) {
        return Eval::of(v->second);
      }
      const auto it = i->settings.find(key);
      if (it == i->settings.end()) {
        return Eval::absent("PostgreSQL setting " + key +
                            " not known (no connection, or no such GUC)");
      }
      // From the server, not a file: an empty setting (shared_preload_libraries = '') is a
      // real value.
      if (auto x = parse_number(it->second)) return Eval::of(*x);
      return Eval::of(it->second);
    });
  }
  if (starts("postgres.stat.")) {
    if (auto e = need_key("postgres.stat.")) return e;
    const auto key = key_after("postgres.stat.");
    return make(Type::number, "", [key](const EvalContext& c) {
      const auto* i = pg_first(c.snapshot);
      if (i == nullptr) return pg_missing(c.snapshot);
      const auto it = i->stats.find(key);
      if (it == i->stats.end())
        return Eval::absent("PostgreSQL statistic " + key + " not collected");
      return Eval::of(it->second);
    });
  }
  if (starts("bpf.counter.") || starts("bpf.probe.") || starts("bpf.hist.")) {
    const auto rest = name.substr(4);
    const auto dot = rest.find('.');
    const auto group = rest.substr(0, dot);
    const auto key = rest.substr(dot + 1);
    if (key.empty())
      return core::Result<MetricRef>(name_error("metric '" + name + "' needs a key"));
    if (group == "counter") {
      return make(Type::number, "", [key](const EvalContext& c) {
        const auto* b = get(c.snapshot.current.bpf);
        if (b == nullptr) return Eval::absent(needs(c.snapshot.current.bpf, "bpf (audit --trace)"));
        const auto it = b->counters.find(key);
        if (it == b->counters.end()) return Eval::absent("eBPF counter " + key + " not measured");
        return num(it->second);
      });
    }
    if (group == "probe") {
      return make(Type::boolean, "", [key](const EvalContext& c) {
        const auto* b = get(c.snapshot.current.bpf);
        if (b == nullptr) return Eval::absent(needs(c.snapshot.current.bpf, "bpf (audit --trace)"));
        for (const auto& p : b->probes) {
          if (p.name == key) return Eval::of(p.attached);
        }
        return Eval::absent("eBPF probe " + key + " not known");
      });
    }
    // bpf.hist.<name>.<count|sum|max|avg|p50|p90|p99>
    const auto hdot = key.rfind('.');
    static const char* const kStats[] = {"count", "sum", "max", "avg", "p50", "p90", "p99"};
    if (hdot == std::string::npos ||
        std::find(std::begin(kStats), std::end(kStats), key.substr(hdot + 1)) == std::end(kStats)) {
      return core::Result<MetricRef>(
          name_error("unknown metric '" + name +
                     "': expected bpf.hist.<name>.<count|sum|max|avg|p50|p90|p99>"));
    }
    const auto hist = key.substr(0, hdot);
    const auto stat = key.substr(hdot + 1);
    return make(Type::number, "", [hist, stat](const EvalContext& c) {
      const auto* b = get(c.snapshot.current.bpf);
      if (b == nullptr) return Eval::absent(needs(c.snapshot.current.bpf, "bpf (audit --trace)"));
      const auto it = b->histograms.find(hist);
      if (it == b->histograms.end())
        return Eval::absent("eBPF histogram " + hist + " not measured");
      const auto& h = it->second;
      if (stat == "count") return num(h.count);
      if (stat == "sum") return num(h.sum);
      if (stat == "max") return num(h.max);
      if (stat == "avg")
        return Eval::of(h.count ? static_cast<double>(h.sum) / static_cast<double>(h.count) : 0.0);
      const double q = stat == "p50" ? 0.5 : stat == "p90" ? 0.9 : 0.99;
      std::uint64_t total = 0;
      for (auto x : h.slots) total += x;
      if (total == 0) return Eval::of(0.0);
      std::uint64_t acc = 0;
      for (std::size_t i = 0; i < h.slots.size(); ++i) {
        acc += h.slots[i];
        if (static_cast<double>(acc) >= q * static_cast<double>(total)) {
          // Upper bound of the log2 slot [2^i, 2^(i+1)).
          return Eval::of(i >= 63 ? 9.2e18 : static_cast<double>((1ULL << (i + 1)) - 1));
        }
      }
      return num(h.max);
    });
  }
  return std::nullopt;
}

const std::vector<std::string>& section_list() {
  static const std::vector<std::string> k = {
      "meminfo", "vmstat", "sysctl", "thp",     "psi",       "hugepages", "zones", "buddy",
      "numa",    "swaps",  "host",   "cgroups", "processes", "postgres",  "bpf",   "config"};
  return k;
}

}  // namespace

std::vector<std::string> metric_sections() { return section_list(); }

std::vector<std::string> derived_metrics() {
  std::vector<std::string> out;
  for (const auto& [k, v] : derived()) out.push_back(k);
  return out;
}

core::Result<MetricRef> lookup_metric(std::string_view name_view) {
  const std::string name(name_view);
  const auto dot = name.find('.');
  if (dot == std::string::npos) {
    const auto it = derived().find(name);
    if (it != derived().end())
      return MetricRef{name, it->second.type, it->second.unit, it->second.get};
    std::string known;
    for (const auto& [k, v] : derived()) known += (known.empty() ? "" : ", ") + k;
    return name_error("unknown name '" + name + "': expected a constant, a derived metric (" +
                      known + ") or <section>.<key>");
  }
  const auto section = name.substr(0, dot);
  const auto& sections = section_list();
  if (std::find(sections.begin(), sections.end(), section) == sections.end()) {
    std::string known;
    for (const auto& s : sections) known += (known.empty() ? "" : ", ") + s;
    return name_error("unknown metric section '" + section + "' in '" + name +
                      "': expected one of " + known);
  }
  if (auto open = open_key(name)) return std::move(*open);
  const auto it = fixed().find(name);
  if (it != fixed().end()) return MetricRef{name, it->second.type, it->second.unit, it->second.get};
  std::string known;
  for (const auto& [k, v] : fixed()) {
    if (k.rfind(section + ".", 0) == 0) known += (known.empty() ? "" : ", ") + k;
  }
  return name_error("unknown metric '" + name + "'" +
                    (known.empty() ? std::string() : ": expected one of " + known));
}

core::Result<MetricRef> lookup_rate(std::string_view name_view) {
  const std::string name(name_view);
  const std::string shown = "rate(" + name + ")";
  if (name.rfind("vmstat.", 0) == 0 && name.size() > 7) {
    const auto key = name.substr(7);
    return MetricRef{shown, Type::number, "/s",
                     [key](const EvalContext& c) { return vmstat_rate(c.snapshot, key); }};
  }
  if (name == "psi.some.total" || name == "psi.full.total") {
    const bool some = name == "psi.some.total";
    return MetricRef{shown, Type::number, "us/s", [some](const EvalContext& c) {
                       const auto& s = c.snapshot;
                       if (!s.current.psi.ok()) return Eval::absent(needs(s.current.psi, "psi"));
                       if (!s.rates) return Eval::absent(no_rates_reason(s));
                       const auto& r =
                           some ? s.rates->psi_some_us_per_sec : s.rates->psi_full_us_per_sec;
                       if (!r) {
                         if (auto d = psi_damage(s, "psi", some ? "some" : "full", true)) {
                           return Eval::absent(std::move(*d));
                         }
                         return Eval::absent("PSI total not in both samples");
                       }
                       return Eval::of(*r);
                     }};
  }
  for (const char* p : {"cgroups.worst.events.", "cgroups.worst.stat."}) {
    const std::string prefix = p;
    if (name.rfind(prefix, 0) == 0 && name.size() > prefix.size()) {
      const auto key = name.substr(prefix.size());
      return MetricRef{shown, Type::number, "/s", [key](const EvalContext& c) {
                         const auto& s = c.snapshot;
                         const auto* w = worst_cgroup(s);
                         if (w == nullptr) return worst_missing(s);
                         if (!s.rates) return Eval::absent(no_rates_reason(s));
                         const auto g = s.rates->cgroup_events.find(w->path);
                         if (g != s.rates->cgroup_events.end()) {
                           const auto it = g->second.find(key);
                           if (it != g->second.end()) return Eval::of(it->second);
                         }
                         return Eval::absent("no rate of " + key + " for cgroup " + w->path);
                       }};
    }
  }
  return name_error(
      "rate() needs a cumulative counter: vmstat.<counter>, psi.some.total, "
      "psi.full.total, cgroups.worst.events.<key> or cgroups.worst.stat.<key>; got '" +
      name + "'");
}

std::optional<std::string> current_setting(RecommendationKind kind, const std::string& key,
                                           const std::string& target, const Snapshot& s) {
  switch (kind) {
    case RecommendationKind::sysctl: {
      const auto* v = get(s.current.sysctl);
      if (v == nullptr) return std::nullopt;
      const auto it = v->values.find(key);
      if (it == v->values.end() || it->second.empty()) return std::nullopt;
      return it->second;
    }
    case RecommendationKind::thp: {
      const auto* t = get(s.current.thp);
      if (t == nullptr) return std::nullopt;
      std::string v;
      if (key == "enabled")
        v = t->enabled;
      else if (key == "defrag")
        v = t->defrag;
      else if (key == "shmem_enabled")
        v = t->shmem_enabled;
      else if (key.rfind("khugepaged/", 0) == 0) {
        const auto it = t->khugepaged.find(key.substr(11));
        if (it != t->khugepaged.end()) v = it->second;
      }
      if (v.empty()) return std::nullopt;
      return v;
    }
    case RecommendationKind::hugetlb: {
      // "hugepages-2048kB"
      if (key.rfind("hugepages-", 0) != 0 || key.size() < 13) return std::nullopt;
      auto n = parse_number(key.substr(10, key.size() - 12));
      if (!n) return std::nullopt;
      const auto* p = pool_by_size(s, static_cast<std::uint64_t>(*n) * 1024);
      if (p == nullptr || !p->nr) return std::nullopt;
      return std::to_string(*p->nr);
    }
    case RecommendationKind::postgresql: {
      const auto* i = pg_first(s);
      if (i == nullptr) return std::nullopt;
      const auto it = i->settings.find(key);
      if (it == i->settings.end()) return std::nullopt;
      return it->second;
    }
    case RecommendationKind::cgroup: {
      const auto* g = get(s.current.cgroups);
      if (g == nullptr) return std::nullopt;
      for (const auto& c : g->groups) {
        if (c.path != target) continue;
        std::optional<std::uint64_t> v;
        if (key == "memory.high")
          v = c.high;
        else if (key == "memory.max")
          v = c.max;
        else if (key == "memory.low")
          v = c.low;
        else if (key == "memory.min")
          v = c.min;
        else if (key == "memory.swap.max")
          v = c.swap_max;
        if (!v) return std::nullopt;
        return *v == kUnlimited ? std::string("max") : std::to_string(*v);
      }
      return std::nullopt;
    }
    case RecommendationKind::kernel_cmdline:
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace vmtune::rules
