// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// The metric registry: the one place that maps names used in rule files to values in a
// model::Snapshot, with their type and unit. Names are "<section>.<key>" (meminfo.MemTotal,
// vmstat.pgscan_direct, sysctl.vm.swappiness, thp.enabled, psi.some.avg10, ...) or derived
// metrics without a section (direct_reclaim_rate, pagetables_pct, ...: model::Derived);
// `man 5 vmtune-rules` lists them all. One table per section: rules/metrics_registry.hpp.
//
// Load time: every name must resolve. Keyed sections (meminfo, vmstat, sysctl, ...) accept the
// field names the kernel prints on some kernel vmtune knows (4.0 to 6.x), as the kernel spells
// them, plus keys under declared prefixes; an unknown name is an error with a "did you mean"
// when a known name is close. Run time: a value the sample does not have is Eval::absent with
// the reason: "needs /proc/pressure/memory: missing" (the source could not be read),
// "vmstat.workingset_refault_file is absent on this kernel" (read, but this kernel has no such
// field), or the collector's reason for a damaged field.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "model/derive.hpp"
#include "rules/finding.hpp"
#include "rules/value.hpp"

namespace vmtune::rules {

/// What an expression is evaluated against.
struct EvalContext {
  const model::Snapshot& snapshot;
  std::string profile = "general";          ///< resolved workload profile: database|general|latency
  std::optional<double> db_reserved_bytes;  ///< memory reserved for the database, bytes
  /// The PostgreSQL instance postgres.* metrics describe (a rule evaluated per instance);
  /// null: the first instance found.
  const model::PgInstance* pg_instance = nullptr;
};

/// A resolved metric name.
struct MetricRef {
  std::string name;
  Type type = Type::any;
  std::string unit;  ///< "bytes", "pages", "pages/s", "%", "" ...
  std::function<Eval(const EvalContext&)> get;
};

/// Resolves a plain metric name. Errors (message only, no position) say what was expected.
core::Result<MetricRef> lookup_metric(std::string_view name);
/// Resolves the argument of rate(): a cumulative counter (vmstat.*, psi.some.total,
/// psi.full.total, cgroups.worst.events.*, cgroups.worst.stat.*). Per second.
core::Result<MetricRef> lookup_rate(std::string_view name);

/// Section names and derived-metric names, for documentation and error messages.
std::vector<std::string> metric_sections();
std::vector<std::string> derived_metrics();

/// Today's value of the setting a recommendation is about, as text; nullopt when unknown.
/// sysctl: sysctl.<key>; thp: enabled|defrag|shmem_enabled|khugepaged/<file>; hugetlb:
/// "hugepages-<size>kB" -> nr_hugepages; postgresql: the setting of the instance whose label
/// (model::pg_instance_label) is `target`, or of the first instance when `target` is empty; cgroup:
/// memory.high|max|low|min|swap.max of cgroup `target` ("max" when unlimited).
std::optional<std::string> current_setting(RecommendationKind kind, const std::string& key,
                                           const std::string& target,
                                           const model::Snapshot& snapshot);

}  // namespace vmtune::rules
