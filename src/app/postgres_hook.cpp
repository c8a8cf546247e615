// SPDX-License-Identifier: GPL-2.0-or-later
#include "app/postgres_hook.hpp"

#include "collect/postgres/postgres.hpp"

namespace vmtune::app {

void attach_postgres_to_sample(Context& ctx, const Input& input, model::Sample& sample,
                               const PgOptions& options) {
  (void)ctx;  // discovery, one short query batch and a 2 s bounded sampler: nothing to interrupt
  if (options.disabled) {
    sample.postgres.value.reset();
    sample.postgres.state = model::SourceState::not_collected;
    sample.postgres.reason = "--no-pg";
    return;
  }
  if (input.replaying_snapshot()) return;  // the snapshot's extras carry the facts
  collect::postgres::PostgresOptions opt;
  if (!options.conninfo.empty()) opt.conninfo = options.conninfo;
  collect::postgres::collect_postgres(input.fs(), opt, sample);
}

}  // namespace vmtune::app
