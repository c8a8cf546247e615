// SPDX-License-Identifier: GPL-2.0-or-later
#include "model/context.hpp"

#include <fmt/format.h>

#include <limits>

namespace vmtune::model {
namespace {

constexpr std::uint64_t kUnlimited = std::numeric_limits<std::uint64_t>::max();

bool is_limit(const std::optional<std::uint64_t>& v) { return v && *v != kUnlimited; }

const Cgroup* find_group(const Cgroups& cg, const std::string& path) {
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

}  // namespace

Context detect_context(const Sample& s) {
  Context c;
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

}  // namespace vmtune::model
