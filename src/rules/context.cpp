// SPDX-License-Identifier: GPL-2.0-or-later
#include "rules/context.hpp"

namespace vmtune::rules {

void apply_context(Evaluation& eval, const AuditContext& ctx) {
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
}

}  // namespace vmtune::rules
