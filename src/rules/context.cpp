// SPDX-License-Identifier: GPL-2.0-or-later
#include "rules/context.hpp"

#include <fmt/format.h>
#include <fmt/printf.h>

#include <algorithm>
#include <limits>

namespace vmtune::rules {
namespace {

constexpr std::uint64_t kUnlimited = std::numeric_limits<std::uint64_t>::max();
constexpr double kNearLimitFraction = 0.9;  // [heuristic] usage share of memory.max
constexpr double kPsiSomeAvg10 = 5.0;       // [heuristic] percent, DOMAIN.md PSI table (info)

bool is_limit(const std::optional<std::uint64_t>& v) { return v && *v != kUnlimited; }

const model::Cgroup* find_group(const model::Cgroups& cg, const std::string& path) {
  for (const auto& g : cg.groups) {
    if (g.path == path) return &g;
  }
  return nullptr;
}

std::string parent_of(const std::string& path) {
  if (path.empty() || path == "/") return {};
  const auto slash = path.rfind('/');
  return slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
}

std::string human_bytes(std::uint64_t b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(b);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  return u == 0 ? fmt::format("{:.0f} {}", v, units[u]) : fmt::format("{:.1f} {}", v, units[u]);
}

Evidence number_evidence(std::string name, std::string expr, double v, std::string unit) {
  Evidence e;
  e.name = std::move(name);
  e.expression = std::move(expr);
  e.number = v;
  e.text = fmt::sprintf("%.17g", v);
  e.unit = std::move(unit);
  return e;
}

}  // namespace

std::uint64_t suggested_memory_high(std::uint64_t memory_max) {
  const auto v = static_cast<std::uint64_t>(static_cast<long double>(memory_max) * 0.9L);
  return v / 4096 * 4096;
}

AuditContext detect_context(const model::Sample& s) {
  AuditContext c;
  if (s.sysctl_conf.value) {
    const auto& conf = *s.sysctl_conf.value;
    c.proc_sys_read_only = conf.proc_sys_read_only;
    if (!conf.container.empty()) {
      c.in_container = true;
      c.container = conf.container;
      c.reasons.push_back("container manager \"" + conf.container + "\" named in /run");
    }
    if (conf.proc_sys_read_only.value_or(false)) {
      c.in_container = true;
      c.reasons.push_back("the sysctl tree /proc/sys is mounted read-only");
    }
  }
  if (s.processes.value) {
    for (const auto& p : *s.processes.value) {
      if (p.pid != 1) continue;
      if (!p.cgroup.empty() && p.cgroup != "/" && p.cgroup != "/init.scope") {
        c.in_container = true;
        c.reasons.push_back("pid 1 runs in cgroup " + p.cgroup + ", not the root");
      }
    }
  }
  if (s.cgroups.value) {
    const auto& cg = *s.cgroups.value;
    c.cgroup = cg.self_path;
    for (std::string path = cg.self_path; !path.empty(); path = parent_of(path)) {
      const auto* g = find_group(cg, path);
      if (g == nullptr) continue;
      if (path == cg.self_path) c.memory_current = g->current;
      if (path == "/") break;  // the root cgroup has no limits
      if (is_limit(g->max) && (!c.memory_max || *g->max < *c.memory_max)) {
        c.memory_max = g->max;
        c.limit_from = path;
      }
      if (is_limit(g->high) && (!c.memory_high || *g->high < *c.memory_high)) {
        c.memory_high = g->high;
      }
    }
    if (c.memory_max || c.memory_high) {
      c.cgroup_limited = true;
      c.reasons.push_back("cgroup " + (c.limit_from.empty() ? c.cgroup : c.limit_from) +
                          " limits memory" +
                          (c.memory_max ? " (memory.max " + human_bytes(*c.memory_max) + ")"
                                        : std::string(" (memory.high)")));
    }
  }
  return c;
}

void apply_context(Evaluation& eval, const AuditContext& ctx, const model::Snapshot& snap) {
  for (auto& f : eval.findings) {
    for (auto& r : f.recommendations) {
      if (r.kind == RecommendationKind::cgroup || r.kind == RecommendationKind::postgresql) {
        r.host_level = false;
        continue;
      }
      r.host_level = true;
      if (!ctx.restricted()) continue;
      const std::string note =
          ctx.in_container
              ? "host-wide setting: not namespaced, and usually read-only inside this container; "
                "ask the host administrator"
              : "host-wide setting: it affects every cgroup on the host, not only this one";
      r.note = r.note.empty() ? note : r.note + "; " + note;
    }
  }
  if (!ctx.restricted()) return;
  std::string where = ctx.in_container ? "inside a container" : "in a memory-limited cgroup";
  if (!ctx.container.empty()) where += " (" + ctx.container + ")";
  eval.notes.push_back("vmtune runs " + where +
                       ": vm.*, THP and hugetlb advice is for the host; the cgroup's memory.high "
                       "and memory.max are what can be changed from here");

  // memory.high advice for our own cgroup when only memory.max limits it and it is under
  // pressure. The limit may come from an ancestor: advise the cgroup that holds memory.max.
  if (!ctx.memory_max || ctx.memory_high || !snap.current.cgroups.value) return;
  const std::string target = ctx.limit_from.empty() ? ctx.cgroup : ctx.limit_from;
  for (const auto& f : eval.findings) {
    for (const auto& r : f.recommendations) {
      if (r.kind == RecommendationKind::cgroup && r.key == "memory.high" &&
          (r.target == target || r.target == ctx.cgroup)) {
        return;
      }
    }
  }
  const auto* g = find_group(*snap.current.cgroups.value, target);
  if (g == nullptr) return;
  const std::uint64_t max = *ctx.memory_max;
  std::vector<Evidence> ev;
  ev.push_back(
      number_evidence("memory_max", "cgroup memory.max", static_cast<double>(max), "bytes"));
  bool pressure = false;
  bool oom = false;
  if (g->current) {
    ev.push_back(number_evidence("memory_current", "cgroup memory.current",
                                 static_cast<double>(*g->current), "bytes"));
    if (static_cast<double>(*g->current) >= kNearLimitFraction * static_cast<double>(max)) {
      pressure = true;
    }
  }
  for (const char* e : {"high", "max", "oom", "oom_kill"}) {
    const auto it = g->events.find(e);
    if (it == g->events.end() || it->second == 0) continue;
    ev.push_back(number_evidence(std::string("events_") + e, std::string("memory.events ") + e,
                                 static_cast<double>(it->second), "events"));
    pressure = true;
    if (std::string(e) == "oom_kill" || std::string(e) == "oom") oom = true;
  }
  if (g->pressure && g->pressure->some && g->pressure->some->avg10 >= kPsiSomeAvg10) {
    ev.push_back(number_evidence("pressure_some_avg10", "memory.pressure some avg10",
                                 g->pressure->some->avg10, "%"));
    pressure = true;
  }
  if (!pressure) return;
  Finding f;
  f.rule_id = "CTX-CGROUP-HIGH";
  f.title =
      "Memory-limited cgroup has no memory.high: the kernel can only reclaim hard at "
      "memory.max or OOM-kill";
  f.severity = oom ? Severity::warning : Severity::info;
  f.evidence = std::move(ev);
  f.rationale =
      "memory.high is the main mechanism to control memory usage: above it the cgroup is "
      "throttled and reclaimed, never OOM-killed. With only memory.max set, every breach is "
      "direct reclaim in the allocating task or an OOM kill. Set memory.high about 10 % below "
      "memory.max so reclaim starts early; vm.* settings cannot be changed from inside it.";
  f.references = {"https://docs.kernel.org/admin-guide/cgroup-v2.html#memory-interface-files"};
  Recommendation r;
  r.kind = RecommendationKind::cgroup;
  r.key = "memory.high";
  r.target = target;
  r.current = "max";
  r.proposed = std::to_string(suggested_memory_high(max));
  r.host_level = false;
  r.note = "floor(0.9 x memory.max), rounded down to 4 KiB";
  f.recommendations.push_back(std::move(r));
  f.rule_file = "(built in: audit context)";
  // Keep "most severe first": insert before the first finding of lower severity.
  const auto pos = std::find_if(eval.findings.begin(), eval.findings.end(), [&](const Finding& x) {
    return static_cast<int>(x.severity) < static_cast<int>(f.severity);
  });
  eval.findings.insert(pos, std::move(f));
}

}  // namespace vmtune::rules
