// SPDX-License-Identifier: GPL-2.0-or-later
#include "rules/audit.hpp"

#include "rules/context.hpp"
#include "rules/effects.hpp"
#include "rules/provenance.hpp"

namespace vmtune::rules {

Evaluation audit(const Engine& engine, const model::Snapshot& snapshot, const Config& config) {
  Evaluation eval = engine.evaluate(snapshot, config);
  attach_provenance(eval, snapshot.current);
  attach_effects(eval, snapshot.current);
  apply_context(eval, snapshot.context);
  eval.context = snapshot.context;
  return eval;
}

}  // namespace vmtune::rules
