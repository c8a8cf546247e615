// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// Where vmtune runs: on a host, inside a container, or in a memory-limited cgroup. vm.* sysctls,
// THP and hugetlb pools are host-wide (not namespaced): inside a container they are advice for
// the host administrator, and usually read-only; what can be acted on there is the cgroup's own
// memory.high / memory.max. Derived from the sample (pure; nothing is probed), so the rules read
// it as metrics (context.*, cgroups.limit.*) and every front end shows the same facts.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/sample.hpp"

namespace vmtune::model {

struct Context {
  bool in_container = false;    ///< container markers, read-only /proc/sys, or pid 1 in a cgroup
  std::string container;        ///< manager name when known ("docker", "lxc", "podman")
  bool cgroup_limited = false;  ///< vmtune's own cgroup (or an ancestor) has memory.max/high set
  std::string cgroup;           ///< vmtune's cgroup v2 path ("/" for the root); untrusted text
  std::optional<std::uint64_t> memory_max;   ///< effective (smallest up the tree), bytes
  std::optional<std::uint64_t> memory_high;  ///< effective, bytes
  std::optional<std::uint64_t> memory_current;
  std::string limit_from;  ///< cgroup path whose memory.max is the effective limit
  std::optional<bool> proc_sys_read_only;
  std::vector<std::string> reasons;  ///< the facts behind the decision, for the report
  bool restricted() const noexcept { return in_container || cgroup_limited; }
};

/// Decides the context from sample.sysctl_conf (container manager, read-only /proc/sys),
/// sample.cgroups (own path, limits up the tree) and pid 1's cgroup (sample.processes).
Context detect_context(const Sample& sample);

}  // namespace vmtune::model
