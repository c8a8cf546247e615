// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// The rules engine: a validated rule set evaluated against a model::Snapshot.
//
// evaluate():
//  - rules skipped by the configuration or written for another profile are listed in notes;
//  - a rule whose `requires` or `when` needs a metric the sample lacks is *not evaluated*, with
//    the metric's reason; a rule whose condition is false produces nothing;
//  - consistency: when two findings propose different values for one setting (same kind, key
//    and target), the more severe finding wins, then the rule loaded first; the other finding's
//    recommendation is rewritten to the winning value and both Recommendation::note and
//    Evaluation::notes say so;
//  - idempotency: a recommendation whose proposed value equals today's value (numerically when
//    both are numbers) is dropped; a finding whose every recommendation was dropped that way is
//    not reported (the machine is already where the rule wants it), and a note says so;
//  - findings are sorted most severe first, then in rule order.

#include <filesystem>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "model/derive.hpp"
#include "rules/config.hpp"
#include "rules/finding.hpp"
#include "rules/loader.hpp"
#include "rules/rule.hpp"

namespace vmtune::rules {

class Engine {
 public:
  Engine() = default;
  explicit Engine(std::vector<Rule> rules) : rules_(std::move(rules)) {}

  /// Loads every *.toml of each directory, in order (the project's rules/, then --rules DIRs,
  /// then /etc/vmtune/rules.d as an optional directory; the app decides the list). Entries
  /// skipped because they are not regular files are kept in load_notes().
  static core::Result<Engine> load(const std::vector<RuleDir>& dirs);

  const std::vector<Rule>& rules() const noexcept { return rules_; }
  /// What loading skipped ("<path>: skipped: a FIFO, not a regular file"); evaluate() lists
  /// these first in Evaluation::notes.
  const std::vector<std::string>& load_notes() const noexcept { return load_notes_; }

  Evaluation evaluate(const model::Snapshot& snapshot, const Config& config) const;

 private:
  std::vector<Rule> rules_;
  std::vector<std::string> load_notes_;
};

/// The profile rules see: config.profile, or for "auto" database when the snapshot has a
/// PostgreSQL instance and general otherwise.
std::string resolve_profile(const Config& config, const model::Snapshot& snapshot);

/// True when two setting values are the same: numerically when both are numbers, else as
/// trimmed text.
bool same_setting(const std::string& a, const std::string& b);

}  // namespace vmtune::rules
