// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// The one audit call every front end makes (audit, sysctl, apply, top) and the tests too:
// evaluate every rule, then attach where today's values come from (sysctl.d provenance), what
// each change is predicted to do, and the context the machine runs in.

#include "model/derive.hpp"
#include "rules/config.hpp"
#include "rules/engine.hpp"
#include "rules/finding.hpp"

namespace vmtune::rules {

/// Every pass over one snapshot, in order: Engine::evaluate, attach_provenance, attach_effects,
/// apply_context (snapshot.context). Pure: reads only the snapshot and the loaded rules.
Evaluation audit(const Engine& engine, const model::Snapshot& snapshot, const Config& config);

}  // namespace vmtune::rules
