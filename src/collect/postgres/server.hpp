// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// What a libpq connection tells about a PostgreSQL server: settings, pg_stat_database,
// pg_stat_bgwriter / pg_stat_checkpointer (17+) / pg_stat_io (16+), and pg_buffercache when the
// extension is installed. Read-only: the session sets default_transaction_read_only, a
// statement_timeout and a lock_timeout, and connect_timeout defaults to 3 s. A role without
// superuser is enough; each missing view, privilege or extension becomes an Unavailable entry.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/sample.hpp"

namespace vmtune::collect::postgres {

/// A pg_settings value as a number: memory settings ("8kB", "kB", "MB", "B" units) in bytes,
/// everything else as the plain number; nullopt for non-numeric settings ("on", "mmap").
std::optional<double> setting_to_number(std::string_view setting, std::string_view unit);

/// A libpq connection failure turned into words a user can act on; `target` names the server.
std::string explain_connection_error(std::string_view libpq_message, const std::string& target);

/// Conninfo for a discovered instance: its socket directory (or listen address) and port, the
/// postmaster's owner as user unless PGUSER is set, database "postgres" unless PGDATABASE is.
std::string conninfo_for_instance(const model::PgInstance& inst);

/// True when any PG* connection variable (PGHOST, PGHOSTADDR, PGPORT, PGUSER, PGDATABASE,
/// PGSERVICE) is set.
bool pg_environment_set();

/// Connects with `conninfo` ("" uses the PG* environment only), fills the connection fields of
/// `inst` and appends every problem to `unavailable` (source "postgres"). Never throws.
void query_server(const std::string& conninfo, model::PgInstance& inst,
                  std::vector<model::Unavailable>& unavailable);

}  // namespace vmtune::collect::postgres
