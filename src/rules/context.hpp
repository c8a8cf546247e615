// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// Where vmtune runs: on a host, inside a container, or in a memory-limited cgroup. vm.* sysctls,
// THP and hugetlb pools are host-wide (not namespaced): inside a container they are advice for
// the host administrator, and usually read-only. What the user *can* act on there is the
// cgroup's own memory.high / memory.max. Pure functions over the sample; nothing is probed.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/derive.hpp"
#include "model/sample.hpp"
#include "rules/finding.hpp"

namespace vmtune::rules {

struct AuditContext {
  bool in_container = false;   ///< container markers, read-only /proc/sys, or pid 1 in a cgroup
  std::string container;       ///< manager name when known ("docker", "lxc", "podman")
  bool cgroup_limited = false; ///< vmtune's own cgroup (or an ancestor) has memory.max/high set
  std::string cgroup;          ///< vmtune's cgroup v2 path ("/" for the root); untrusted text
  std::optional<std::uint64_t> memory_max;   ///< effective (smallest up the tree), bytes
  std::optional<std::uint64_t> memory_high;  ///< effective, bytes
  std::optional<std::uint64_t> memory_current;
  std::string limit_from;      ///< cgroup path whose memory.max is the effective limit
  std::optional<bool> proc_sys_read_only;
  std::vector<std::string> reasons;  ///< the facts behind the decision, for the report
  bool restricted() const noexcept { return in_container || cgroup_limited; }
};

/// Decides the context from sample.sysctl_conf (container manager, read-only /proc/sys),
/// sample.cgroups (self path, limits up the tree) and pid 1's cgroup (sample.processes).
AuditContext detect_context(const model::Sample& sample);

/// memory.high advice: floor(0.9 * memory.max) rounded down to 4 KiB (DOMAIN.md §3, cgroup v2).
std::uint64_t suggested_memory_high(std::uint64_t memory_max);

/// When restricted: marks every sysctl/THP/hugetlb/kernel_cmdline recommendation host_level
/// with a note that it is host-wide and usually read-only here, adds an Evaluation note, and
/// adds a finding "CTX-CGROUP-HIGH" with memory.high advice for vmtune's own cgroup when it is
/// limited by memory.max only and shows pressure (memory.events high/max/oom_kill, PSI, or
/// usage >= 90 % of max); skipped when a rule already recommends memory.high for that cgroup.
/// Outside a container, cgroup recommendations are marked not host-level and nothing else
/// changes.
void apply_context(Evaluation& eval, const AuditContext& ctx, const model::Snapshot& snap);

}  // namespace vmtune::rules
