// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// A rule as loaded and validated from a rules/*.toml file (format: man 5 vmtune-rules). Every
// expression is already parsed and type-checked; evaluating a rule cannot fail on syntax.

#include <array>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rules/expr.hpp"
#include "rules/finding.hpp"
#include "rules/value.hpp"

namespace vmtune::rules {

/// What a rule's `symptoms` may name: the measurable harm its change is meant to relieve, which
/// `vmtune apply --verify` measures before and after applying it (src/verify).
///   memory_pressure  PSI memory (some, full)
///   direct_reclaim   time in direct and memcg reclaim (eBPF), allocstall, direct scans
///   compaction       time in direct compaction (eBPF), compact_stall
///   writeback        balance_dirty_pages pauses (eBPF), PSI io
///   refaults         workingset refaults
///   swap             pages swapped in and out
///   oom              OOM kills
inline constexpr std::array<std::string_view, 7> kSymptoms = {
    "memory_pressure", "direct_reclaim", "compaction", "writeback", "refaults", "swap", "oom"};

/// [[rule.evidence]]: a named value shown with the finding.
struct EvidenceSpec {
  std::string name;
  Expr expr;
  std::string unit;
};

/// [[rule.recommend]]: what to change.
struct RecommendSpec {
  RecommendationKind kind = RecommendationKind::sysctl;
  std::string key;
  Expr value;                   ///< the proposed value
  std::optional<Expr> only_if;  ///< recommendation applies only when true
  std::optional<Expr> target;   ///< cgroup path (kind = cgroup)
  std::optional<Expr> current;  ///< overrides the registry's current value (e.g. kernel_cmdline)
  std::string note;             ///< fixed text shown with the recommendation
  int line = 0;
};

/// [[rule.severity_if]]: raises the severity when its condition holds.
struct SeverityStep {
  Expr when;
  Severity severity = Severity::warning;
};

struct Rule {
  std::string id;  ///< "R-SWAP-1"
  std::string title;
  Severity severity = Severity::warning;
  std::vector<SeverityStep> severity_if;
  std::vector<Expr> requires_;  ///< metrics that must be present (rule "requires")
  Expr when;
  std::map<std::string, Value> constants;
  std::map<std::string, Expr> lets;  ///< [rule.let]: named sub-expressions over metrics
  /// Report the finding even when all its recommendations are already applied (the condition
  /// is about a symptom, not only about the setting).
  bool always_report = false;
  /// `for_each = "postgres_instance"`: evaluated once per PostgreSQL instance, postgres.*
  /// metrics describing that instance; each finding names it (Finding::subject) and its
  /// postgresql recommendations target it.
  bool per_postgres_instance = false;
  std::vector<EvidenceSpec> evidence;
  std::vector<RecommendSpec> recommend;
  std::string rationale;
  std::vector<std::string> references;
  std::vector<std::string> profiles;  ///< empty: every profile
  /// Names from kSymptoms; empty in the file means {"memory_pressure"}.
  std::vector<std::string> symptoms;
  std::string file;  ///< path the rule was loaded from
  int line = 0;      ///< line of its id
  int column = 0;    ///< column of its id's value
};

}  // namespace vmtune::rules
