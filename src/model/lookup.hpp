// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// Reading one value of a Snapshot, or saying why it is absent. Shared by model::derive and the
// rules' metric registry, so a derived metric and a rule reading the same field give the same
// reason:
//   - "needs /proc/pressure/memory: missing"   the source could not be read (not measured);
//   - "needs /proc/meminfo:3: field "MemTotal": expected ..."   the collector could not parse
//     the field, and listed why in sample.unavailable;
//   - "vmstat.pgsteal_file is absent on this kernel"   the file was read and has no such field;
//   - "needs two samples a window apart (...)"   a rate without a previous sample.

#include <functional>
#include <optional>
#include <string>

#include "model/derive.hpp"

namespace vmtune::model {

/// "needs /proc/pressure/memory: missing" from a Source's state and error: the logical path the
/// collector tried (with line and column when the error has them), else the section name and
/// the error's text. "needs <section>: not collected" when nothing tried.
template <typename T>
std::string needs(const Source<T>& src, const std::string& section) {
  const std::string state = to_string(src.state);
  if (src.state == SourceState::not_collected) return "needs " + section + ": not collected";
  if (src.error && src.error->path.rfind('/', 0) == 0) {
    const auto& e = *src.error;
    std::string where = e.path;
    if (e.line > 0) where += ":" + std::to_string(e.line);
    if (e.line > 0 && e.column > 0) where += ":" + std::to_string(e.column);
    return "needs " + where + ": " + state;
  }
  const std::string r = src.reason();
  return "needs " + section + ": " + state + (r.empty() ? "" : " (" + r + ")");
}

// ---- damaged fields ---------------------------------------------------------------------------
// A collector that cannot parse a field (no unit, not a number, an empty file) leaves it absent
// and lists why in sample.unavailable (source, path, line, field, reason). These find that
// entry, so a value needing the field is absent with the collector's reason, and an aggregate
// over a partly damaged file (a sum over zones, a count of swap devices) is not computed from
// what happened to survive.

/// "needs /proc/meminfo:3: field "MemTotal": expected "<n> kB": the unit is missing"
std::string needs_entry(const Unavailable& u);

using UnavailableFilter = std::function<bool(const Unavailable&)>;

/// The first entry of `source` in the current sample (and the previous one, for rates) that
/// `accept` takes, as an absent reason.
std::optional<std::string> damage(const Snapshot& s, const std::string& source,
                                  const UnavailableFilter& accept, bool previous_too = false);
/// The entry for one named field of `source`.
std::optional<std::string> field_damage(const Snapshot& s, const std::string& source,
                                        const std::string& field, bool previous_too = false);
/// Any entry of `source` (for aggregates over the whole file).
std::optional<std::string> any_damage(const Snapshot& s, const std::string& source,
                                      bool previous_too = false);
/// zoneinfo: the field summed or counted over zones, or a zone header (a bad header drops the
/// zone's whole block), or a line the parser could not attribute.
std::optional<std::string> zone_damage(const Snapshot& s, const std::string& field);
/// A PSI file's "some" or "full" line ("some.avg10", "some") or an unknown line.
std::optional<std::string> psi_damage(const Snapshot& s, const std::string& source,
                                      const std::string& kind, bool previous_too = false);

/// Why `field` of `source` is not in a sample that read the file: the damage entry when there
/// is one, else "<source>.<field> is absent on this kernel" (plus an unattributed damaged line,
/// which may have been the field).
std::string absent_field(const Snapshot& s, const std::string& source, const std::string& field,
                         bool previous_too = false);

/// Why a snapshot has no rates: one sample, or a non-positive interval.
std::string no_rates_reason(const Snapshot& s);

// ---- kernel fields ----------------------------------------------------------------------------

/// /proc/meminfo field `key` (bytes; HugePages_* are pages).
Measure meminfo_field(const Snapshot& s, const std::string& key);
/// /proc/vmstat counter or gauge `key`, as printed.
Measure vmstat_field(const Snapshot& s, const std::string& key);
/// Per-second rate of vmstat counter `key` over the window. A counter that went backwards is
/// absent, never negative.
Measure vmstat_rate(const Snapshot& s, const std::string& key);
/// Σ per-second rates of the vmstat counters whose name starts with `prefix` ("allocstall_").
Measure vmstat_rate_prefix(const Snapshot& s, const std::string& prefix);

}  // namespace vmtune::model
