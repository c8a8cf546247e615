// SPDX-License-Identifier: GPL-2.0-or-later
#include "collect/postgres/server.hpp"

#include <libpq-fe.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "core/parse.hpp"

namespace vmtune::collect::postgres {
namespace {

constexpr const char* kSource = "postgres";

struct ConnDeleter {
  void operator()(PGconn* c) const noexcept { PQfinish(c); }
};
struct ResultDeleter {
  void operator()(PGresult* r) const noexcept { PQclear(r); }
};
using Conn = std::unique_ptr<PGconn, ConnDeleter>;
using Res = std::unique_ptr<PGresult, ResultDeleter>;

// A server found from /proc may be anyone's program calling itself postgres: it can accept the
// connection and then never answer. Every query therefore runs with a client-side deadline
// (statement_timeout only binds a real server), and after one query times out the connection
// is given up.
constexpr int kQueryTimeoutMs = 10000;
/// The connection given up after a timeout (one connection is in use at a time).
thread_local const PGconn* g_given_up = nullptr;

/// PQexec with a deadline: nullptr and `*timed_out` when the server did not answer in time, in
/// which case the connection's socket is shut down, so every later query fails at once.
Res exec_bounded(PGconn* conn, const char* sql, bool* timed_out = nullptr) {
  bool local = false;
  if (timed_out == nullptr) timed_out = &local;
  *timed_out = false;
  if (conn == g_given_up || PQsendQuery(conn, sql) == 0) return nullptr;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(kQueryTimeoutMs);
  Res last;
  for (;;) {
    while (PQisBusy(conn) != 0) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                            deadline - std::chrono::steady_clock::now())
                            .count();
      if (left <= 0) {
        *timed_out = true;
        g_given_up = conn;
        ::shutdown(PQsocket(conn), SHUT_RDWR);
        return nullptr;
      }
      pollfd pfd{PQsocket(conn), POLLIN, 0};
      const int rc = ::poll(&pfd, 1, static_cast<int>(left));
      if (rc < 0 && errno != EINTR) return nullptr;
      if (rc > 0 && PQconsumeInput(conn) == 0) return nullptr;
    }
    Res next(PQgetResult(conn));
    if (!next) return last;  // the last result of the last statement
    last = std::move(next);
  }
}

// Settings read from pg_settings. Those that do not exist on older servers are simply absent;
// the ones rules depend on are reported as unavailable below.
constexpr const char* kSettings[] = {"server_version",
                                     "server_version_num",
                                     "shared_buffers",
                                     "huge_pages",
                                     "huge_page_size",
                                     "huge_pages_status",
                                     "shared_memory_size",
                                     "shared_memory_size_in_huge_pages",
                                     "shared_memory_type",
                                     "dynamic_shared_memory_type",
                                     "max_connections",
                                     "superuser_reserved_connections",
                                     "max_prepared_transactions",
                                     "max_locks_per_transaction",
                                     "effective_cache_size",
                                     "work_mem",
                                     "hash_mem_multiplier",
                                     "maintenance_work_mem",
                                     "autovacuum_work_mem",
                                     "autovacuum_max_workers",
                                     "max_worker_processes",
                                     "max_parallel_workers",
                                     "wal_buffers",
                                     "max_wal_size",
                                     "min_wal_size",
                                     "checkpoint_timeout",
                                     "checkpoint_completion_target",
                                     "checkpoint_flush_after",
                                     "bgwriter_flush_after",
                                     "backend_flush_after",
                                     "wal_writer_flush_after",
                                     "track_io_timing",
                                     "block_size",
                                     "port",
                                     "data_directory",
                                     "effective_io_concurrency"};

std::string first_lines(std::string_view msg) {
  std::string out;
  for (const auto& l : core::split_lines(msg)) {
    const auto t = core::trim(l.text);
    if (t.empty()) continue;
    if (!out.empty()) out += "; ";
    out += t;
  }
  return out;
}

bool contains(std::string_view hay, std::string_view needle) {
  return hay.find(needle) != std::string_view::npos;
}

/// "host=/run/x port=5432 user=postgres dbname=postgres": what the connection used, never the
/// password.
std::string describe(PGconn* conn) {
  std::string out;
  auto add = [&](const char* key, const char* v) {
    if (v == nullptr || *v == '\0') return;
    if (!out.empty()) out += ' ';
    out += key;
    out += '=';
    out += v;
  };
  add("host", PQhost(conn));
  add("port", PQport(conn));
  add("user", PQuser(conn));
  add("dbname", PQdb(conn));
  return out;
}

model::Unavailable entry(const std::string& path, std::string field, std::string reason) {
  return model::Unavailable{kSource, path, 0, std::move(field), std::move(reason)};
}

/// Why a query failed, with the privilege case spelled out.
std::string query_failure(const PGresult* r, PGconn* conn, std::string_view what) {
  const char* state = r != nullptr ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  const std::string msg =
      first_lines(r != nullptr ? PQresultErrorMessage(r) : PQerrorMessage(conn));
  if (state != nullptr && std::strcmp(state, "42501") == 0) {
    return "permission denied reading " + std::string(what) +
           ": grant the role pg_monitor (or pg_read_all_stats) (" + msg + ")";
  }
  if (state != nullptr && std::strcmp(state, "57014") == 0) {
    return std::string(what) + " timed out (statement_timeout): " + msg;
  }
  if (state != nullptr && std::strcmp(state, "42P01") == 0) {
    return std::string(what) + " does not exist on this server: " + msg;
  }
  return std::string(what) + " failed: " + msg;
}

/// Runs a query; nullptr (and an unavailable entry) on failure.
Res run(PGconn* conn, const char* sql, const std::string& path, std::string_view what,
        std::vector<model::Unavailable>& unavailable) {
  if (conn == g_given_up) return nullptr;  // already reported
  bool timed_out = false;
  Res r = exec_bounded(conn, sql, &timed_out);
  if (timed_out) {
    unavailable.push_back(entry(path, std::string(what),
                                std::string(what) + ": the server did not answer within " +
                                    std::to_string(kQueryTimeoutMs / 1000) +
                                    " s; no further queries were sent"));
    return nullptr;
  }
  if (!r || PQresultStatus(r.get()) != PGRES_TUPLES_OK) {
    unavailable.push_back(entry(path, std::string(what), query_failure(r.get(), conn, what)));
    return nullptr;
  }
  return r;
}

std::optional<double> number(const PGresult* r, int row, int col) {
  if (PQgetisnull(r, row, col)) return std::nullopt;
  return core::parse_double(PQgetvalue(r, row, col));
}

/// Every numeric column of a one-row view as stats["<prefix>.<column>"].
void numeric_row(const PGresult* r, const std::string& prefix, model::PgInstance& inst) {
  if (PQntuples(r) < 1) return;
  for (int c = 0; c < PQnfields(r); ++c) {
    if (auto v = number(r, 0, c)) inst.stats[prefix + "." + PQfname(r, c)] = *v;
  }
}

std::string underscore(std::string s) {
  for (auto& ch : s) {
    if (ch == ' ') ch = '_';
  }
  return s;
}

void read_settings(PGconn* conn, const std::string& path, model::PgInstance& inst,
                   std::vector<model::Unavailable>& unavailable) {
  std::string sql =
      "SELECT name, setting, coalesce(unit, ''), current_setting(name) FROM pg_settings "
      "WHERE name IN (";
  bool first = true;
  for (const char* s : kSettings) {
    sql += first ? "'" : ", '";
    sql += s;
    sql += "'";
    first = false;
  }
  sql += ")";
  auto r = run(conn, sql.c_str(), path, "pg_settings", unavailable);
  if (!r) return;
  for (int i = 0; i < PQntuples(r.get()); ++i) {
    const std::string name = PQgetvalue(r.get(), i, 0);
    inst.settings[name] = PQgetvalue(r.get(), i, 3);
    if (auto v = setting_to_number(PQgetvalue(r.get(), i, 1), PQgetvalue(r.get(), i, 2))) {
      inst.setting_values[name] = *v;
    }
  }
  const int version = inst.server_version_num.value_or(0);
  if (version >= 150000 && !inst.settings.count("shared_memory_size_in_huge_pages")) {
    unavailable.push_back(
        entry(path, "shared_memory_size_in_huge_pages", "not visible to this role"));
  } else if (version > 0 && version < 150000) {
    unavailable.push_back(entry(
        path, "shared_memory_size_in_huge_pages",
        "needs PostgreSQL 15+; the hugetlb page count is derived from the segment size instead"));
  }
}

void read_database_stats(PGconn* conn, const std::string& path, model::PgInstance& inst,
                         std::vector<model::Unavailable>& unavailable) {
  auto r = run(conn,
               "SELECT sum(blks_read) AS blks_read, sum(blks_hit) AS blks_hit, "
               "sum(blk_read_time) AS blk_read_time, sum(blk_write_time) AS blk_write_time, "
               "sum(temp_files) AS temp_files, sum(temp_bytes) AS temp_bytes, "
               "sum(numbackends) AS numbackends, sum(xact_commit) AS xact_commit, "
               "sum(xact_rollback) AS xact_rollback FROM pg_stat_database",
               path, "pg_stat_database", unavailable);
  if (!r) return;
  numeric_row(r.get(), "database", inst);
  const double hit = inst.stats.count("database.blks_hit") ? inst.stats["database.blks_hit"] : 0;
  const double read = inst.stats.count("database.blks_read") ? inst.stats["database.blks_read"] : 0;
  if (hit + read > 0) inst.stats["database.hit_ratio"] = hit / (hit + read);
}

void read_io_stats(PGconn* conn, const std::string& path, model::PgInstance& inst,
                   std::vector<model::Unavailable>& unavailable) {
  const int version = inst.server_version_num.value_or(0);
  if (auto r = run(conn, "SELECT * FROM pg_stat_bgwriter", path, "pg_stat_bgwriter", unavailable)) {
    numeric_row(r.get(), "bgwriter", inst);
  }
  if (version >= 170000) {
    if (auto r = run(conn, "SELECT * FROM pg_stat_checkpointer", path, "pg_stat_checkpointer",
                     unavailable)) {
      numeric_row(r.get(), "checkpointer", inst);
    }
  }
  if (version >= 160000) {
    auto r = run(conn,
                 "SELECT backend_type, sum(reads), sum(writes), sum(hits), sum(evictions), "
                 "sum(fsyncs), sum(read_time), sum(write_time) FROM pg_stat_io "
                 "WHERE object = 'relation' GROUP BY backend_type",
                 path, "pg_stat_io", unavailable);
    if (r) {
      const char* cols[] = {"reads",  "writes",    "hits",      "evictions",
                            "fsyncs", "read_time", "write_time"};
      for (int i = 0; i < PQntuples(r.get()); ++i) {
        const std::string bt = underscore(PQgetvalue(r.get(), i, 0));
        for (int c = 0; c < 7; ++c) {
          if (auto v = number(r.get(), i, c + 1)) inst.stats["io." + bt + "." + cols[c]] = *v;
        }
      }
    }
  } else if (version > 0) {
    unavailable.push_back(entry(path, "pg_stat_io",
                                "needs PostgreSQL 16+; backend writes come from pg_stat_bgwriter"));
  }
}

// The quoted schema pg_buffercache is installed in; nullopt (and noted) when it is not
// installed in the connected database, or the query failed.
std::optional<std::string> buffercache_schema(PGconn* conn, const std::string& path,
                                              std::vector<model::Unavailable>& unavailable) {
  auto ext = run(conn,
                 "SELECT n.nspname, current_database() FROM pg_extension e "
                 "JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_buffercache'",
                 path, "pg_extension", unavailable);
  if (!ext) return std::nullopt;
  if (PQntuples(ext.get()) == 0) {
    Res db = exec_bounded(conn, "SELECT current_database()");
    const std::string dbname =
        db && PQresultStatus(db.get()) == PGRES_TUPLES_OK && PQntuples(db.get()) > 0
            ? PQgetvalue(db.get(), 0, 0)
            : std::string("?");
    unavailable.push_back(entry(
        path, "pg_buffercache",
        "extension pg_buffercache is not installed in database \"" + dbname +
            "\" (CREATE EXTENSION pg_buffercache; reading it needs pg_monitor): shared_buffers "
            "usage is estimated from the setting"));
    return std::nullopt;
  }
  const std::string schema_raw = PQgetvalue(ext.get(), 0, 0);
  std::unique_ptr<char, decltype(&PQfreemem)> quoted(
      PQescapeIdentifier(conn, schema_raw.c_str(), schema_raw.size()), &PQfreemem);
  if (!quoted) {
    unavailable.push_back(entry(path, "pg_buffercache", "cannot quote the extension's schema"));
    return std::nullopt;
  }
  return std::string(quoted.get());
}

/// How pg_buffercache is read on a server version: the summary (used, unused, dirty, pinned
/// buffers and the average usage count) and the buffers per usage count.
struct BufferCacheQueries {
  const char* method;
  std::string summary;
  std::string counts;
};

BufferCacheQueries buffercache_queries(const std::string& schema, int server_version_num) {
  if (server_version_num >= 160000) {
    return {"pg_buffercache_summary()",
            "SELECT buffers_used, buffers_unused, buffers_dirty, buffers_pinned, "
            "usagecount_avg FROM " +
                schema + ".pg_buffercache_summary()",
            "SELECT usage_count, buffers FROM " + schema + ".pg_buffercache_usage_counts()"};
  }
  return {"pg_buffercache view",
          "SELECT count(*) FILTER (WHERE relfilenode IS NOT NULL), "
          "count(*) FILTER (WHERE relfilenode IS NULL), count(*) FILTER (WHERE isdirty), "
          "count(*) FILTER (WHERE pinning_backends > 0), "
          "avg(usagecount) FILTER (WHERE relfilenode IS NOT NULL) FROM " +
              schema + ".pg_buffercache",
          "SELECT coalesce(usagecount, 0), count(*) FROM " + schema +
              ".pg_buffercache GROUP BY 1 ORDER BY 1"};
}

void read_buffercache(PGconn* conn, const std::string& path, model::PgInstance& inst,
                      std::vector<model::Unavailable>& unavailable) {
  const auto schema = buffercache_schema(conn, path, unavailable);
  if (!schema) return;
  const auto queries = buffercache_queries(*schema, inst.server_version_num.value_or(0));
  model::PgBufferCache bc;
  bc.method = queries.method;
  Res summary = run(conn, queries.summary.c_str(), path, "pg_buffercache", unavailable);
  Res counts;
  if (summary) counts = run(conn, queries.counts.c_str(), path, "pg_buffercache", unavailable);
  if (!summary || PQntuples(summary.get()) < 1) return;
  auto u64 = [&](int col) {
    const auto v = number(summary.get(), 0, col);
    return v && *v > 0 ? static_cast<std::uint64_t>(*v) : std::uint64_t{0};
  };
  bc.buffers_used = u64(0);
  bc.buffers_unused = u64(1);
  bc.buffers_dirty = u64(2);
  bc.buffers_pinned = u64(3);
  bc.usagecount_avg = number(summary.get(), 0, 4);
  if (counts) {
    for (int i = 0; i < PQntuples(counts.get()); ++i) {
      const auto v = number(counts.get(), i, 1);
      if (v) bc.usage_counts[PQgetvalue(counts.get(), i, 0)] = static_cast<std::uint64_t>(*v);
    }
  }
  inst.buffercache = std::move(bc);
}

}  // namespace

std::optional<double> setting_to_number(std::string_view setting, std::string_view unit) {
  const auto v = core::parse_double(core::trim(setting));
  if (!v) return std::nullopt;
  unit = core::trim(unit);
  // Memory units: optional multiplier prefix ("8kB", "16MB") then B/kB/MB/GB/TB.
  std::size_t i = 0;
  while (i < unit.size() && unit[i] >= '0' && unit[i] <= '9') ++i;
  double mult = 1;
  if (i > 0) mult = core::parse_double(unit.substr(0, i)).value_or(1);
  const auto base = unit.substr(i);
  double scale = 0;
  if (base == "B")
    scale = 1;
  else if (base == "kB")
    scale = 1024.0;
  else if (base == "MB")
    scale = 1024.0 * 1024;
  else if (base == "GB")
    scale = 1024.0 * 1024 * 1024;
  else if (base == "TB")
    scale = 1024.0 * 1024 * 1024 * 1024;
  if (scale == 0) return *v;  // time units and plain numbers stay as printed
  return *v * mult * scale;
}

std::string explain_connection_error(std::string_view libpq_message, const std::string& target) {
  const std::string msg = first_lines(libpq_message);
  std::string why;
  if (contains(msg, "password authentication failed")) {
    why = "authentication failed: wrong password for this user";
  } else if (contains(msg, "no password supplied")) {
    why =
        "the server asks for a password and none was given (PGPASSWORD, ~/.pgpass or "
        "--pg 'password=…')";
  } else if (contains(msg, "Peer authentication failed") ||
             contains(msg, "Ident authentication failed")) {
    why =
        "peer authentication failed: the operating-system user is not the database role; "
        "give a role with --pg 'user=…' or PGUSER, or run as that user";
  } else if (contains(msg, "no pg_hba.conf entry")) {
    why = "refused by pg_hba.conf: no entry allows this host/user/database";
  } else if (contains(msg, "Connection refused")) {
    why = "connection refused: no server is listening there";
  } else if (contains(msg, "No such file or directory")) {
    why =
        "no server socket there: the server is not running or uses another socket directory "
        "or port";
  } else if (contains(msg, "timeout expired")) {
    why = "connection timed out";
  } else if (contains(msg, "role \"") && contains(msg, "does not exist")) {
    why = "the role does not exist on the server; give one with --pg 'user=…' or PGUSER";
  } else if (contains(msg, "database \"") && contains(msg, "does not exist")) {
    why = "the database does not exist; give one with --pg 'dbname=…' or PGDATABASE";
  } else if (contains(msg, "too many connections") || contains(msg, "remaining connection slots")) {
    why = "the server has no free connection slot";
  } else if (contains(msg, "the database system is starting up") ||
             contains(msg, "the database system is shutting down")) {
    why = "the server is starting up or shutting down";
  } else if (contains(msg, "could not translate host name")) {
    why = "unknown host name";
  } else {
    why = "connection failed";
  }
  return "cannot connect to PostgreSQL" + (target.empty() ? std::string() : " (" + target + ")") +
         ": " + why + " [" + msg + "]";
}

bool pg_environment_set() {
  for (const char* v : {"PGHOST", "PGHOSTADDR", "PGPORT", "PGUSER", "PGDATABASE", "PGSERVICE"}) {
    const char* e = std::getenv(v);
    if (e != nullptr && *e != '\0') return true;
  }
  return false;
}

std::string conninfo_for_instance(const model::PgInstance& inst) {
  auto quote = [](const std::string& v) {
    std::string out = "'";
    for (char c : v) {
      if (c == '\'' || c == '\\') out += '\\';
      out += c;
    }
    return out + "'";
  };
  std::string host = inst.socket_dir;
  if (host.empty()) {
    host = inst.listen_address.empty() || inst.listen_address == "*" ? "localhost"
                                                                     : inst.listen_address;
  }
  std::string ci = "host=" + quote(host);
  if (inst.port) ci += " port=" + std::to_string(*inst.port);
  const char* user = std::getenv("PGUSER");
  if ((user == nullptr || *user == '\0') && !inst.user.empty()) ci += " user=" + quote(inst.user);
  const char* db = std::getenv("PGDATABASE");
  if (db == nullptr || *db == '\0') ci += " dbname=postgres";
  // A server found from /proc may be any local user's program answering on a socket of its
  // choosing: it gets no password, neither PGPASSWORD nor one from ~/.pgpass. A server that
  // needs one is named with --pg.
  ci += " password='' passfile=/nonexistent/vmtune-no-passfile";
  return ci;
}

void query_server(const std::string& conninfo, model::PgInstance& inst,
                  std::vector<model::Unavailable>& unavailable) {
  // Later keywords override earlier ones, so our defaults come first and the user's conninfo
  // (expanded from "dbname") wins.
  const char* timeout_env = std::getenv("PGCONNECT_TIMEOUT");
  const bool own_timeout = timeout_env == nullptr || *timeout_env == '\0';
  std::vector<const char*> keys;
  std::vector<const char*> values;
  if (own_timeout) {
    keys.push_back("connect_timeout");
    values.push_back("3");
  }
  keys.push_back("fallback_application_name");
  values.push_back("vmtune");
  keys.push_back("dbname");
  values.push_back(conninfo.c_str());
  keys.push_back(nullptr);
  values.push_back(nullptr);
  Conn conn(PQconnectdbParams(keys.data(), values.data(), 1));
  g_given_up = nullptr;  // a new connection (possibly at a freed one's address)
  if (!conn) {
    inst.connection_error = "cannot connect to PostgreSQL: out of memory";
    unavailable.push_back(entry("postgresql", "connection", inst.connection_error));
    return;
  }
  const std::string target = describe(conn.get());
  inst.connection = target;
  const std::string path = "postgresql:" + (target.empty() ? std::string("(environment)") : target);
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    inst.connected = false;
    inst.connection_error = explain_connection_error(PQerrorMessage(conn.get()), target);
    unavailable.push_back(entry(path, "connection", inst.connection_error));
    return;
  }
  inst.connected = true;
  inst.connection_error.clear();
  inst.server_version_num = PQserverVersion(conn.get());
  {
    bool timed_out = false;
    Res setup = exec_bounded(conn.get(),
                             "SET statement_timeout = '5s'; SET lock_timeout = '1s'; "
                             "SET default_transaction_read_only = on",
                             &timed_out);
    if (timed_out) {
      unavailable.push_back(entry(path, "session",
                                  "the server did not answer within " +
                                      std::to_string(kQueryTimeoutMs / 1000) +
                                      " s; no further queries were sent"));
      return;
    }
    if (!setup || PQresultStatus(setup.get()) != PGRES_COMMAND_OK) {
      unavailable.push_back(
          entry(path, "session", query_failure(setup.get(), conn.get(), "session settings")));
    }
  }
  read_settings(conn.get(), path, inst, unavailable);
  read_database_stats(conn.get(), path, inst, unavailable);
  read_io_stats(conn.get(), path, inst, unavailable);
  read_buffercache(conn.get(), path, inst, unavailable);
}

}  // namespace vmtune::collect::postgres
