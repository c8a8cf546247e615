// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// `vmtune apply --verify`: which symptoms to measure for the values being applied, and the
// side-by-side report of the two phases (verify/ measures and compares).

#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "apply/apply.hpp"
#include "rules/engine.hpp"
#include "verify/verify.hpp"

namespace vmtune::app {

/// The symptoms (rules::kSymptoms names) of the rules that propose `writes`; a rule the engine
/// does not know (a plan file from another catalogue) counts as memory_pressure.
std::set<std::string> symptoms_of(const rules::Engine& engine,
                                  const std::vector<apply::Write>& writes);

/// The measures, one line each, before the baseline starts.
void print_measures(std::ostream& out, const verify::Meter& meter, double seconds);

/// Before and after side by side: symptom, measure, mean ± sd of each phase, the margin a
/// change had to exceed, and what it did. Plain text that pastes into a ticket.
void print_verdict(std::ostream& out, const verify::Verdict& verdict, const verify::Phase& before,
                   const verify::Phase& after);

}  // namespace vmtune::app
