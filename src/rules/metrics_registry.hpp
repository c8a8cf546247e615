// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// Inside the metric registry (rules/metrics.hpp): the tables per section and the helpers they
// share. Not for use outside src/rules/metrics*.cpp.
//
//   metrics.cpp               lookup_metric / lookup_rate, "did you mean", current_setting
//   metrics_kernel.cpp        host, thp, psi, zones, buddy, numa, swaps; meminfo, vmstat,
//                             sysctl, thp.khugepaged and hugepages keys
//   metrics_kernel_names.cpp  the kernel's field names per keyed section (flat lists)
//   metrics_cgroups.cpp       cgroups, processes
//   metrics_pg.cpp            postgres, bpf, config
//   model/derived.cpp         the derived metrics (this registry only reads model::Derived)

#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.hpp"
#include "model/lookup.hpp"
#include "rules/metrics.hpp"

namespace vmtune::rules::registry {

using Getter = std::function<Eval(const EvalContext&)>;

/// One metric with a fixed name ("zones.min_pages").
struct Entry {
  std::string name;
  Type type = Type::number;
  std::string unit;
  Getter get;
};
using Table = std::vector<Entry>;

/// A section whose keys are the kernel's (or PostgreSQL's) field names: "meminfo.<Field>".
/// A key must be one of `known`, or match `dynamic` (keys under a declared prefix, such as
/// the per-backend-type rows of pg_stat_io); anything else is a load error.
struct KeyedSection {
  std::string prefix;  ///< "meminfo."
  std::string what;    ///< "a /proc/meminfo field", for messages
  const std::set<std::string>* known = nullptr;
  std::function<bool(const std::string&)> dynamic;  ///< may be empty
  Type type = Type::number;
  std::function<std::string(const std::string& key)> unit;  ///< may be empty: no unit
  std::function<Getter(const std::string& key)> make;       ///< the getter for one key
  /// Set when the keys are cumulative counters usable in rate(): the per-second getter.
  std::function<Getter(const std::string& key)> make_rate;
};

/// A keyed section of `known` names; set type, unit, make (and make_rate) after.
inline KeyedSection keyed(std::string prefix, std::string what,
                          const std::set<std::string>& known) {
  KeyedSection k;
  k.prefix = std::move(prefix);
  k.what = std::move(what);
  k.known = &known;
  return k;
}

// ---- tables per section (each a flat list of entries) -----------------------------------------

Table host_metrics();
Table config_metrics();
Table thp_metrics();
Table psi_metrics();
Table zone_metrics();
Table buddy_metrics();
Table numa_metrics();
Table swap_metrics();
Table cgroup_metrics();
Table process_metrics();
Table postgres_metrics();
Table bpf_metrics();

/// Keyed sections of each file.
std::vector<KeyedSection> kernel_keyed_sections();
std::vector<KeyedSection> cgroup_keyed_sections();
std::vector<KeyedSection> postgres_keyed_sections();

/// Names with their own grammar (hugepages.<size>kB.<field>, bpf.hist.<name>.<stat>, ...):
/// nullopt when `name` is not in that family.
std::optional<core::Result<MetricRef>> hugepages_metric(const std::string& name);
std::optional<core::Result<MetricRef>> bpf_metric(const std::string& name);

// ---- the kernel's field names (metrics_kernel_names.cpp) ----------------------------------------

struct FieldNames {
  std::set<std::string> meminfo;            ///< /proc/meminfo, every kernel 4.0..6.x
  std::set<std::string> vmstat;             ///< /proc/vmstat, every kernel 4.0..6.x
  std::set<std::string> sysctl;             ///< vm.* and the kernel.* keys collected
  std::set<std::string> khugepaged;         ///< transparent_hugepage/khugepaged/*
  std::set<std::string> cgroup_stat;        ///< cgroup v2 memory.stat
  std::set<std::string> cgroup_events;      ///< cgroup v2 memory.events
  std::set<std::string> postgres_settings;  ///< the GUCs the collector reads
};
const FieldNames& field_names();

// ---- shared helpers -----------------------------------------------------------------------------

inline constexpr std::uint64_t kUnlimited = std::numeric_limits<std::uint64_t>::max();

core::Error name_error(std::string message);

template <typename T>
const T* get(const model::Source<T>& src) {
  return src.value ? &*src.value : nullptr;
}

inline Eval num(std::uint64_t v) { return Eval::of(static_cast<double>(v)); }
inline Eval from(const model::Measure& m) {
  return m.ok() ? Eval::of(*m) : Eval::absent(m.why_absent);
}
/// absent("<what> not reported") or the number.
Eval opt(const std::optional<std::uint64_t>& v, const std::string& what);
/// A sysctl or other text value: a number when the whole text is numeric; empty text is "not
/// measured" (an empty read is damage), so `!= 0` on it can never be true.
Eval text_value(const std::string& text, const std::string& what);

bool ends_with(const std::string& s, const std::string& suffix);

/// The cgroup with the highest memory.current / memory.max; null when none has a limit, or
/// when a limit or usage file is damaged (worst_missing says which).
const model::Cgroup* worst_cgroup(const model::Snapshot& s);
Eval worst_missing(const model::Snapshot& s);

const model::HugePagePool* pool_by_size(const model::Snapshot& s, std::uint64_t bytes);
const model::PgInstance* pg_first(const model::Snapshot& s);
/// The instance postgres.* metrics describe: the one in scope, else the first.
const model::PgInstance* pg_in(const EvalContext& c);
Eval pg_missing(const model::Snapshot& s);

}  // namespace vmtune::rules::registry
