// SPDX-License-Identifier: GPL-2.0-or-later
#include "collect/postgres/postgres.hpp"

#include <algorithm>
#include <chrono>

#include "collect/postgres/discovery.hpp"
#include "collect/postgres/server.hpp"
#include "collect/source_util.hpp"

namespace vmtune::collect::postgres {
namespace {

constexpr const char* kSource = "postgres";

/// "host" of a connection description ("host=/run/x port=5432 user=..."); empty without one.
std::string described_host(const std::string& connection) {
  const auto at = connection.rfind("host=", 0) == 0 ? 0 : connection.find(" host=");
  if (at == std::string::npos) return {};
  const auto from = connection.find('=', at) + 1;
  return connection.substr(from, connection.find(' ', from) - from);
}

/// The discovered instance a connection reached: the same data directory when the role may see
/// it; else the same port, and for a Unix socket the same socket directory (two clusters may
/// share a port number on different socket directories).
model::PgInstance* match(std::vector<model::PgInstance>& instances, const model::PgInstance& conn) {
  const auto port = conn.setting_values.find("port");
  const auto dir = conn.settings.find("data_directory");
  const std::string host = described_host(conn.connection);
  for (auto& inst : instances) {
    if (dir != conn.settings.end() && !inst.data_dir.empty()) {
      if (dir->second == inst.data_dir) return &inst;
      continue;
    }
    if (port == conn.setting_values.end() || !inst.port ||
        static_cast<int>(port->second) != *inst.port) {
      continue;
    }
    if (!host.empty() && host.front() == '/' && !inst.socket_dir.empty() &&
        host != inst.socket_dir) {
      continue;
    }
    return &inst;
  }
  return nullptr;
}

void merge_connection(model::PgInstance& into, model::PgInstance&& from) {
  into.connected = from.connected;
  into.connection = std::move(from.connection);
  into.connection_error = std::move(from.connection_error);
  into.server_version_num = from.server_version_num;
  into.settings = std::move(from.settings);
  into.setting_values = std::move(from.setting_values);
  into.stats = std::move(from.stats);
  into.buffercache = std::move(from.buffercache);
}

}  // namespace

void estimate_double_buffering(model::PgInstance& inst) {
  inst.double_buffered_bytes.reset();
  inst.double_buffered_ratio.reset();
  if (!inst.page_cache) return;
  inst.page_cache_overlap = inst.page_cache->bytes_resident_estimate;
  inst.relation_bytes_sampled = inst.page_cache->bytes_sampled;
  const auto sb = inst.setting_values.find("shared_buffers");
  if (sb == inst.setting_values.end() || sb->second <= 0) return;
  const double shared_buffers = sb->second;
  double in_use = shared_buffers;
  if (inst.buffercache) {
    double block = 8192;
    if (const auto bs = inst.setting_values.find("block_size"); bs != inst.setting_values.end()) {
      block = bs->second;
    }
    in_use = static_cast<double>(inst.buffercache->buffers_used) * block;
  }
  const double overlap =
      std::min(in_use, static_cast<double>(inst.page_cache->bytes_resident_estimate));
  inst.double_buffered_bytes = static_cast<std::uint64_t>(overlap);
  inst.double_buffered_ratio = overlap / shared_buffers;
}

void collect_postgres(const core::RootFs& fs, const PostgresOptions& options,
                      model::Sample& sample) {
  model::PostgresFacts facts;
  facts.instances = discover_instances(fs, sample, fs.is_live());
  // A captured tree is another machine: connect only when asked to explicitly.
  const bool connect = options.connect && (fs.is_live() || !options.conninfo.empty());
  if (connect) {
    if (!options.conninfo.empty() || pg_environment_set()) {
      auto conninfos = options.conninfo;
      if (conninfos.empty()) conninfos.emplace_back();  // the PG* environment
      for (const auto& conninfo : conninfos) {
        model::PgInstance conn;
        query_server(conninfo, conn, sample.unavailable);
        if (auto* inst = conn.connected ? match(facts.instances, conn) : nullptr) {
          merge_connection(*inst, std::move(conn));
        } else if (conn.connected || facts.instances.empty() || conninfos.size() > 1) {
          // A server not found in /proc (remote), or a failed one of several: its own entry,
          // so the error stays with the server it is about.
          facts.instances.push_back(std::move(conn));
        } else {
          // One failed connection, and there are discovered instances: say so on the first.
          merge_connection(facts.instances.front(), std::move(conn));
        }
      }
    } else {
      for (auto& inst : facts.instances) {
        if (!inst.port) {
          collect::add_unavailable(
              sample,
              model::Unavailable{
                  kSource, "postmaster " + std::to_string(inst.postmaster_pid), 0, "connection",
                  "no port known for this server (postmaster.pid unreadable): give --pg CONNINFO"});
          continue;
        }
        model::PgInstance conn;
        query_server(conninfo_for_instance(inst), conn, sample.unavailable);
        merge_connection(inst, std::move(conn));
      }
    }
  }
  if (options.page_cache && fs.is_live()) {
    // One time budget for all instances: a host full of processes calling themselves
    // "postgres" gets no more than one instance's worth.
    const auto start = std::chrono::steady_clock::now();
    for (auto& inst : facts.instances) {
      auto limits = options.page_cache_limits;
      limits.max_seconds -=
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (limits.max_seconds <= 0) {
        collect::add_unavailable(
            sample, model::Unavailable{kSource, "postmaster " + std::to_string(inst.postmaster_pid),
                                       0, "page_cache",
                                       "not measured: the page-cache time budget was spent on "
                                       "other instances"});
        continue;
      }
      if (inst.postmaster_pid <= 0) continue;
      auto dir = fs.open_process_dir(inst.postmaster_pid, "cwd");
      if (!dir) {
        note_unavailable(sample, kSource, dir.error());
        continue;
      }
      const std::string logical = inst.data_dir.empty() ? dir->logical : inst.data_dir;
      auto pc = sample_page_cache(*dir, logical, limits);
      if (pc) {
        inst.page_cache = std::move(*pc);
      } else {
        note_unavailable(sample, kSource, pc.error());
      }
    }
  }
  for (auto& inst : facts.instances) estimate_double_buffering(inst);
  sample.postgres.value = std::move(facts);
  sample.postgres.state = model::SourceState::ok;
  sample.postgres.error.reset();
}

}  // namespace vmtune::collect::postgres
