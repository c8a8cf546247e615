// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// The seam between the commands that read a machine (audit, collect, snapshot) and the
// PostgreSQL collector (src/collect/postgres/), implemented in src/app/postgres_hook.cpp.

#include <string>

#include "app/commands.hpp"
#include "app/input.hpp"
#include "model/sample.hpp"

#ifndef VMTUNE_POSTGRES_HOOK_IMPLEMENTED
#define VMTUNE_POSTGRES_HOOK_IMPLEMENTED 1
#endif

namespace vmtune::app {

struct PgOptions {
  std::string conninfo;   ///< --pg CONNINFO (libpq); empty: discover local servers
  bool disabled = false;  ///< --no-pg
};

/// Discovers PostgreSQL servers through input.fs() (and connects with libpq when live),
/// filling `sample.postgres` and recording what could not be read in `sample.unavailable`.
/// With options.disabled, marks the section not_collected with the reason "--no-pg".
/// Replayed snapshots carry their PostgreSQL facts already (apply_snapshot_extras).
void attach_postgres_to_sample(Context& ctx, const Input& input, model::Sample& sample,
                               const PgOptions& options);

}  // namespace vmtune::app
