// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// collect_postgres(): discovery from /proc, then (live only) a libpq connection per instance
// and the page-cache sampler, and the double-buffering estimate. Fills sample.postgres and
// records every problem in sample.unavailable; never fails the rest of the sample.

#include <optional>
#include <string>
#include <vector>

#include "collect/postgres/page_cache.hpp"
#include "core/root_fs.hpp"
#include "model/sample.hpp"

namespace vmtune::collect::postgres {

struct PostgresOptions {
  /// Connect to the servers. Conninfo order: `conninfo` (--pg), else the PG* environment,
  /// else each discovered instance's socket directory and port.
  bool connect = true;
  std::vector<std::string> conninfo;  ///< one per --pg
  /// Measure page-cache residency of the relation files (needs read access to the data dir).
  bool page_cache = true;
  PageCacheLimits page_cache_limits;
};

void collect_postgres(const core::RootFs& fs, const PostgresOptions& options,
                      model::Sample& sample);

/// Fills double_buffered_bytes/ratio from page_cache and shared_buffers (pure).
void estimate_double_buffering(model::PgInstance& inst);

}  // namespace vmtune::collect::postgres
