// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// From findings to what the user puts on the machine: a plan of changes in the order that
// works (reserve the huge-page pool and check it was granted, then the sysctls, THP, cgroup
// limits, then PostgreSQL settings and a restart, then boot parameters and a reboot), each
// change with the rules and evidence behind it, the file it is written to, the one line that
// applies it now, and why it cannot be applied as it stands (a key this kernel lacks, a value
// it refuses). Pure: built from an Evaluation and the Snapshot it was made from. Rendered by
// ui/sysctl (sysctl.d, tuned, postgresql.conf, kernel command line, tmpfiles, JSON) and, later,
// applied by `vmtune apply`.

#include <string>
#include <vector>

#include "model/derive.hpp"
#include "rules/finding.hpp"

namespace vmtune::plan {

/// What a change costs beyond writing it.
enum class Disruption {
  none,             ///< takes effect when written
  restart_service,  ///< the service (PostgreSQL) must restart to use it
  reboot,           ///< a kernel command-line parameter: the next boot
};
const char* to_string(Disruption d) noexcept;

struct Change {
  rules::RecommendationKind kind = rules::RecommendationKind::sysctl;
  std::string key;       ///< as the rule names it: "vm.swappiness", "enabled", "memory.high" ...
  std::string target;    ///< cgroup path; "data_dir (port N)" for PostgreSQL; else empty
  std::string current;   ///< today's value; empty when unknown
  std::string proposed;  ///< the value to set
  /// The live file it is written to: "/proc/sys/vm/swappiness",
  /// "/sys/kernel/mm/transparent_hugepage/enabled", "/sys/fs/cgroup/db.slice/memory.high";
  /// empty for PostgreSQL settings and boot parameters.
  std::string path;
  std::vector<std::string> rules;  ///< the rule ids that propose it, most severe first
  rules::Severity severity = rules::Severity::info;
  std::string evidence;  ///< the first proposing finding's evidence, one line
  bool host_level = true;
  Disruption disruption = Disruption::none;
  std::string apply_line;  ///< the one line that applies it now (shell, SQL, or an instruction)
  std::string note;        ///< from the rule, or why the plan added it
  /// Why it cannot be applied as it stands; empty when it can.
  std::string problem;
};

struct Step {
  std::string title;  ///< "Reserve the huge-page pool"
  Disruption disruption = Disruption::none;
  std::vector<Change> changes;
  /// What to run or check after the changes ("grep HugePages_Total /proc/meminfo: 2048").
  std::vector<std::string> checks;
};

struct Plan {
  std::vector<Step> steps;  ///< in the order to carry them out; steps without changes omitted
  bool empty() const noexcept { return steps.empty(); }
  /// Every change, in step order.
  std::vector<const Change*> changes() const;
};

/// The plan for an evaluation of `snapshot` (rules::audit's result).
Plan make_plan(const rules::Evaluation& evaluation, const model::Snapshot& snapshot);

/// The live file a recommendation is written to ("" for PostgreSQL and boot parameters).
std::string live_path(const rules::Recommendation& r, const model::Snapshot& snapshot);

/// The one line that applies a recommendation now: "sysctl -w vm.swappiness=10",
/// "echo madvise > /sys/kernel/mm/transparent_hugepage/enabled", "ALTER SYSTEM SET
/// huge_pages = 'on';", "kernel command line: transparent_hugepage=madvise (then reboot)".
/// Values and paths that are not plain words are quoted for the shell; a cgroup path with
/// characters a shell line cannot carry safely gets an instruction instead of a command.
std::string apply_line(const rules::Recommendation& r, const model::Snapshot& snapshot);

/// Sets Recommendation::apply (apply_line) on every recommendation of the evaluation, so every
/// report shows the line that applies each change.
void attach_apply_lines(rules::Evaluation& evaluation, const model::Snapshot& snapshot);

/// `s` quoted for a POSIX shell when it holds anything but [A-Za-z0-9_./:=@%+,-].
std::string shell_quote(const std::string& s);

}  // namespace vmtune::plan
