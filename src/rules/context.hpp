// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// What the context (model/context.hpp: host, container or memory-limited cgroup) does to the
// findings: vm.*, THP and hugetlb advice is host-wide. Advice that depends on the context is
// written as rules over context.* and cgroups.limit.* metrics (rules/cgroups.toml); nothing
// here makes a finding.

#include "model/context.hpp"
#include "rules/finding.hpp"

namespace vmtune::rules {

/// Marks every recommendation host_level except cgroup and postgresql ones. When restricted,
/// host-level recommendations get a note that they are host-wide (and usually read-only inside
/// a container), and the evaluation a note saying where vmtune runs.
void apply_context(Evaluation& eval, const AuditContext& context);

}  // namespace vmtune::rules
