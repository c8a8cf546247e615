// SPDX-License-Identifier: GPL-2.0-or-later
// Registry tables for PostgreSQL (the instance in scope: EvalContext::pg_instance, else the
// first found), eBPF aggregates (audit --trace)
// and vmtune.toml (config.*).
#include <algorithm>
#include <utility>

#include "rules/metrics_registry.hpp"

namespace vmtune::rules::registry {
namespace {

using model::needs;
using model::Snapshot;

/// An optional amount of the first instance.
Getter pg_opt(std::optional<std::uint64_t> model::PgInstance::*field, std::string what) {
  return [field, what](const EvalContext& c) {
    const auto* i = pg_in(c);
    if (i == nullptr) return pg_missing(c.snapshot);
    return opt(i->*field, "PostgreSQL " + what);
  };
}

Eval pg_instances(const EvalContext& c) {
  const auto* pg = get(c.snapshot.current.postgres);
  if (pg == nullptr) return Eval::absent(needs(c.snapshot.current.postgres, "postgres"));
  return num(static_cast<std::uint64_t>(pg->instances.size()));
}

/// The default huge page size (meminfo Hugepagesize), bytes; absent without hugetlb support.
std::optional<std::uint64_t> hugepage_size(const Snapshot& s) {
  const auto* m = get(s.current.meminfo);
  if (m == nullptr) return std::nullopt;
  const auto it = m->fields.find("Hugepagesize");
  if (it == m->fields.end() || it->second == 0) return std::nullopt;
  return it->second;
}

Eval hugepage_size_missing(const Snapshot& s) {
  if (!s.current.meminfo.ok()) return Eval::absent(needs(s.current.meminfo, "meminfo"));
  return Eval::absent("meminfo.Hugepagesize is absent (no hugetlb support)");
}

/// Σ over every instance of f(instance, page size): the host-wide hugetlb need or use.
template <typename F>
Getter pg_all_pages(F f) {
  return [f](const EvalContext& c) {
    const auto* pg = get(c.snapshot.current.postgres);
    if (pg == nullptr) return Eval::absent(needs(c.snapshot.current.postgres, "postgres"));
    const auto page = hugepage_size(c.snapshot);
    if (!page) return hugepage_size_missing(c.snapshot);
    std::uint64_t n = 0;
    for (const auto& i : pg->instances) n += f(i, *page);
    return num(n);
  };
}

/// f(instance in scope, page size).
template <typename F>
Getter pg_pages(F f) {
  return [f](const EvalContext& c) {
    const auto* i = pg_in(c);
    if (i == nullptr) return pg_missing(c.snapshot);
    const auto page = hugepage_size(c.snapshot);
    if (!page) return hugepage_size_missing(c.snapshot);
    return num(f(*i, *page));
  };
}

/// A fact of the first instance that is always known when the instance is.
template <typename F>
Getter pg_fact(F fact) {
  return [fact](const EvalContext& c) {
    const auto* i = pg_in(c);
    if (i == nullptr) return pg_missing(c.snapshot);
    return fact(*i);
  };
}

Eval pg_postmaster_hugetlb(const EvalContext& c) {
  const auto* i = pg_in(c);
  if (i == nullptr) return pg_missing(c.snapshot);
  const auto* ps = get(c.snapshot.current.processes);
  if (ps == nullptr) return Eval::absent(needs(c.snapshot.current.processes, "processes"));
  for (const auto& p : *ps) {
    if (p.pid == i->postmaster_pid) return opt(p.hugetlb, "HugetlbPages");
  }
  return Eval::absent("postmaster process not in the process scan");
}

Eval pg_setting(const EvalContext& c, const std::string& key) {
  const auto* i = pg_in(c);
  if (i == nullptr) return pg_missing(c.snapshot);
  // Numeric form first (bytes for memory settings), else the text.
  if (const auto v = i->setting_values.find(key); v != i->setting_values.end()) {
    return Eval::of(v->second);
  }
  const auto it = i->settings.find(key);
  if (it == i->settings.end()) {
    return Eval::absent("PostgreSQL setting " + key + " not known (no connection, or no such GUC)");
  }
  // From the server, not a file: an empty setting (shared_preload_libraries = '') is a value.
  if (auto x = parse_number(it->second)) return Eval::of(*x);
  return Eval::of(it->second);
}

Eval pg_stat(const EvalContext& c, const std::string& key) {
  const auto* i = pg_in(c);
  if (i == nullptr) return pg_missing(c.snapshot);
  const auto it = i->stats.find(key);
  if (it == i->stats.end()) return Eval::absent("PostgreSQL statistic " + key + " not collected");
  return Eval::of(it->second);
}

/// postgres.stat keys: pg_stat_database sums, and every column of pg_stat_bgwriter,
/// pg_stat_checkpointer and pg_stat_io (per backend type), which vary by server version.
const std::set<std::string>& pg_database_stats() {
  static const std::set<std::string> k = {
      "database.blk_read_time", "database.blk_write_time", "database.blks_hit",
      "database.blks_read",     "database.hit_ratio",      "database.numbackends",
      "database.temp_bytes",    "database.temp_files",     "database.xact_commit",
      "database.xact_rollback",
  };
  return k;
}

bool pg_view_column(const std::string& key) {
  for (const char* p : {"bgwriter.", "checkpointer.", "io."}) {
    const std::string prefix = p;
    if (key.size() > prefix.size() && key.rfind(prefix, 0) == 0) return true;
  }
  return false;
}

// ---- bpf ----------------------------------------------------------------------------------------

const model::BpfStats* bpf(const Snapshot& s) { return get(s.current.bpf); }
Eval bpf_missing(const Snapshot& s) {
  return Eval::absent(needs(s.current.bpf, "bpf (audit --trace)"));
}

Eval bpf_counter(const Snapshot& s, const std::string& key) {
  const auto* b = bpf(s);
  if (b == nullptr) return bpf_missing(s);
  const auto it = b->counters.find(key);
  if (it == b->counters.end()) return Eval::absent("eBPF counter " + key + " not measured");
  return num(it->second);
}

Eval bpf_probe(const Snapshot& s, const std::string& key) {
  const auto* b = bpf(s);
  if (b == nullptr) return bpf_missing(s);
  for (const auto& p : b->probes) {
    if (p.name == key) return Eval::of(p.attached);
  }
  return Eval::absent("eBPF probe " + key + " not known");
}

/// count, sum, max, avg, or a percentile (upper bound of its log2 slot) of a histogram.
Eval bpf_hist(const Snapshot& s, const std::string& hist, const std::string& stat) {
  const auto* b = bpf(s);
  if (b == nullptr) return bpf_missing(s);
  const auto it = b->histograms.find(hist);
  if (it == b->histograms.end()) return Eval::absent("eBPF histogram " + hist + " not measured");
  const auto& h = it->second;
  if (stat == "count") return num(h.count);
  if (stat == "sum") return num(h.sum);
  if (stat == "max") return num(h.max);
  if (stat == "avg") {
    return Eval::of(h.count ? static_cast<double>(h.sum) / static_cast<double>(h.count) : 0.0);
  }
  const double q = stat == "p50" ? 0.5 : stat == "p90" ? 0.9 : 0.99;
  std::uint64_t total = 0;
  for (auto x : h.slots) total += x;
  if (total == 0) return Eval::of(0.0);
  std::uint64_t acc = 0;
  for (std::size_t i = 0; i < h.slots.size(); ++i) {
    acc += h.slots[i];
    if (static_cast<double>(acc) >= q * static_cast<double>(total)) {
      // Upper bound of the log2 slot [2^i, 2^(i+1)).
      return Eval::of(i >= 63 ? 9.2e18 : static_cast<double>((1ULL << (i + 1)) - 1));
    }
  }
  return num(h.max);
}

}  // namespace

Table postgres_metrics() {
  using I = model::PgInstance;
  return {
      {"postgres.instances", Type::number, "", pg_instances},
      {"postgres.instance", Type::string, "",
       pg_fact([](const I& i) { return Eval::of(model::pg_instance_label(i)); })},
      {"postgres.hugepages_needed", Type::number, "pages", pg_pages(model::pg_hugepages_needed)},
      {"postgres.hugepages_held", Type::number, "pages", pg_pages(model::pg_hugepages_held)},
      {"postgres.all_hugepages_needed", Type::number, "pages",
       pg_all_pages(model::pg_hugepages_needed)},
      {"postgres.all_hugepages_held", Type::number, "pages",
       pg_all_pages(model::pg_hugepages_held)},
      {"postgres.backends", Type::number, "",
       pg_fact([](const I& i) { return num(static_cast<std::uint64_t>(i.backend_pids.size())); })},
      {"postgres.postmaster_pid", Type::number, "",
       pg_fact([](const I& i) { return Eval::of(static_cast<double>(i.postmaster_pid)); })},
      {"postgres.segment_backing", Type::string, "", pg_fact([](const I& i) {
         return Eval::of(i.segment_backing.empty() ? std::string("unknown") : i.segment_backing);
       })},
      {"postgres.segment_size", Type::number, "bytes", pg_opt(&I::segment_size, "segment size")},
      {"postgres.page_tables_total", Type::number, "bytes",
       pg_opt(&I::page_tables_total, "page tables")},
      {"postgres.rss_shmem_total", Type::number, "bytes",
       pg_opt(&I::rss_shmem_total, "RssShmem total")},
      {"postgres.hugetlb_total", Type::number, "bytes",
       pg_opt(&I::hugetlb_total, "HugetlbPages total")},
      {"postgres.rss_anon_total", Type::number, "bytes",
       pg_opt(&I::rss_anon_total, "RssAnon total")},
      {"postgres.shmem_page_table_estimate", Type::number, "bytes",
       pg_opt(&I::shmem_page_table_estimate, "shared-memory page-table estimate")},
      {"postgres.double_buffered_bytes", Type::number, "bytes",
       pg_opt(&I::double_buffered_bytes, "double-buffered bytes")},
      {"postgres.double_buffered_ratio", Type::number, "", pg_fact([](const I& i) {
         if (!i.double_buffered_ratio) {
           return Eval::absent("PostgreSQL double-buffered ratio not measured");
         }
         return Eval::of(*i.double_buffered_ratio);
       })},
      {"postgres.connected", Type::boolean, "",
       pg_fact([](const I& i) { return Eval::of(i.connected); })},
      {"postgres.server_version_num", Type::number, "", pg_fact([](const I& i) {
         if (!i.server_version_num) {
           return Eval::absent("PostgreSQL version not known (no connection)");
         }
         return Eval::of(static_cast<double>(*i.server_version_num));
       })},
      {"postgres.page_cache_overlap", Type::number, "bytes",
       pg_opt(&I::page_cache_overlap, "page-cache overlap")},
      {"postgres.relation_bytes_sampled", Type::number, "bytes",
       pg_opt(&I::relation_bytes_sampled, "relation bytes sampled")},
      {"postgres.postmaster_hugetlb", Type::number, "bytes", pg_postmaster_hugetlb},
  };
}

std::vector<KeyedSection> postgres_keyed_sections() {
  auto setting = keyed("postgres.setting.", "a PostgreSQL setting vmtune reads",
                       field_names().postgres_settings);
  setting.type = Type::any;
  setting.make = [](const std::string& key) -> Getter {
    return [key](const EvalContext& c) { return pg_setting(c, key); };
  };
  auto stat = keyed("postgres.stat.", "a PostgreSQL statistic vmtune reads", pg_database_stats());
  stat.dynamic = pg_view_column;
  stat.make = [](const std::string& key) -> Getter {
    return [key](const EvalContext& c) { return pg_stat(c, key); };
  };
  return {setting, stat};
}

Table bpf_metrics() {
  return {
      {"bpf.duration_s", Type::number, "s",
       [](const EvalContext& c) {
         const auto* b = bpf(c.snapshot);
         return b == nullptr ? bpf_missing(c.snapshot) : Eval::of(b->duration_s);
       }},
      {"bpf.oom_kills", Type::number, "kills",
       [](const EvalContext& c) {
         const auto* b = bpf(c.snapshot);
         if (b == nullptr) return bpf_missing(c.snapshot);
         return num(static_cast<std::uint64_t>(b->oom_kills.size()));
       }},
      {"bpf.oom_kills_postgres", Type::number, "kills",
       [](const EvalContext& c) {
         const auto* b = bpf(c.snapshot);
         if (b == nullptr) return bpf_missing(c.snapshot);
         std::uint64_t n = 0;
         for (const auto& o : b->oom_kills) n += o.comm.rfind("postgres", 0) == 0 ? 1 : 0;
         return num(n);
       }},
  };
}

/// bpf.counter.<name>, bpf.probe.<name> and bpf.hist.<name>.<stat>. The names come from the
/// loaded programs (some from the running kernel's BTF enums), so only their form is checked.
std::optional<core::Result<MetricRef>> bpf_metric(const std::string& name) {
  const auto group_end = name.find('.', 4);
  if (name.rfind("bpf.", 0) != 0 || group_end == std::string::npos) return std::nullopt;
  const auto group = name.substr(4, group_end - 4);
  if (group != "counter" && group != "probe" && group != "hist") return std::nullopt;
  const auto key = name.substr(group_end + 1);
  if (key.empty()) return core::Result<MetricRef>(name_error("metric '" + name + "' needs a key"));
  if (group == "counter") {
    return core::Result<MetricRef>(MetricRef{name, Type::number, "", [key](const EvalContext& c) {
                                               return bpf_counter(c.snapshot, key);
                                             }});
  }
  if (group == "probe") {
    return core::Result<MetricRef>(MetricRef{name, Type::boolean, "", [key](const EvalContext& c) {
                                               return bpf_probe(c.snapshot, key);
                                             }});
  }
  static const std::set<std::string> kStats = {"count", "sum", "max", "avg", "p50", "p90", "p99"};
  const auto dot = key.rfind('.');
  if (dot == std::string::npos || kStats.count(key.substr(dot + 1)) == 0) {
    return core::Result<MetricRef>(name_error(
        "unknown metric '" + name + "': expected bpf.hist.<name>.<count|sum|max|avg|p50|p90|p99>"));
  }
  const auto hist = key.substr(0, dot);
  const auto stat = key.substr(dot + 1);
  return core::Result<MetricRef>(
      MetricRef{name, Type::number, "",
                [hist, stat](const EvalContext& c) { return bpf_hist(c.snapshot, hist, stat); }});
}

Table config_metrics() {
  return {
      {"config.profile", Type::string, "",
       [](const EvalContext& c) { return Eval::of(c.profile); }},
      {"config.db_reserved_bytes", Type::number, "bytes",
       [](const EvalContext& c) {
         if (!c.db_reserved_bytes) return Eval::absent("db_reserved is not set in vmtune.toml");
         return Eval::of(*c.db_reserved_bytes);
       }},
  };
}

// ---- shared with the other tables ---------------------------------------------------------------

const model::PgInstance* pg_first(const Snapshot& s) {
  const auto* pg = get(s.current.postgres);
  if (pg == nullptr || pg->instances.empty()) return nullptr;
  return &pg->instances.front();
}

const model::PgInstance* pg_in(const EvalContext& c) {
  return c.pg_instance != nullptr ? c.pg_instance : pg_first(c.snapshot);
}

Eval pg_missing(const Snapshot& s) {
  if (!s.current.postgres.ok()) return Eval::absent(needs(s.current.postgres, "postgres"));
  return Eval::absent("no PostgreSQL instance found");
}

}  // namespace vmtune::rules::registry
