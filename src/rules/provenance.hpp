// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// Provenance of sysctl values: for a key, which sysctl.d file and line set today's value at
// boot (the last assignment in systemd-sysctl's apply order wins) or "kernel default", and which
// other files set the same key to a different value. Pure functions over model::SysctlConf.

#include <string>
#include <vector>

#include "model/sample.hpp"
#include "rules/finding.hpp"

namespace vmtune::rules {

/// The value text systemd-sysctl would write, for comparisons: runs of blanks become one space.
std::string normalize_sysctl_value(const std::string& value);

/// True when the sysctl.d key (possibly a glob with '*', '?', '[') names `key` (dotted form).
bool sysctl_key_matches(const std::string& pattern, const std::string& key);

/// Where the boot-time value of `key` comes from. source = "kernel default" when no file sets
/// it; conflicts = earlier assignments (other files or lines) with a different value.
Provenance provenance_for(const model::SysctlConf& conf, const std::string& key);

/// A key that two or more assignments set to different values.
struct KeyConflict {
  std::string key;
  std::vector<Provenance::Conflict> settings;  ///< every assignment of the key, apply order
};
/// Every key with conflicting assignments, sorted by key. Globs count for the key they spell.
std::vector<KeyConflict> find_conflicts(const model::SysctlConf& conf);

/// The winning assignment's value for `key`, if any file sets it.
const model::SysctlAssignment* effective_assignment(const model::SysctlConf& conf,
                                                    const std::string& key);

/// Attaches Provenance to every sysctl recommendation in `eval`; notes when the live value
/// differs from what the files set (changed at run time); adds an Evaluation note for every
/// conflicting key (recommended or not) and for masked files. No-op when the sample has no
/// sysctl_conf section (an "unavailable" entry already says why).
void attach_provenance(Evaluation& eval, const model::Sample& sample);

}  // namespace vmtune::rules
