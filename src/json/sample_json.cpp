// SPDX-License-Identifier: GPL-2.0-or-later
#include "json/sample_json.hpp"

#include <cmath>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

#include "core/escape.hpp"

NLOHMANN_JSON_NAMESPACE_BEGIN
template <typename T>
struct adl_serializer<std::optional<T>> {
  template <typename J>
  static void to_json(J& j, const std::optional<T>& v) {
    if (v) {
      j = *v;
    } else {
      j = nullptr;
    }
  }
  template <typename J>
  static void from_json(const J& j, std::optional<T>& v) {
    if (j.is_null()) {
      v.reset();
    } else {
      v = j.template get<T>();
    }
  }
};
NLOHMANN_JSON_NAMESPACE_END

namespace vmtune::model {
// Field lists: one place per type, used for both directions.
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(PsiLine, avg10, avg60, avg300, total_us)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Psi, some, full)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Zone, node, name, free, boost, min, low, high,
                                                spanned, present, managed, cma, protection, stats,
                                                node_stats, node_unreclaimable)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Thp, enabled, defrag, shmem_enabled, hpage_pmd_size,
                                                use_zero_page, khugepaged, per_size)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(HugePagePool, page_size, nr, free, resv, surplus,
                                                overcommit)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(NumaNode, id, meminfo, numastat, distance, cpulist,
                                                hugepages, vmstat)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Numa, online, nodes)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(SwapDevice, filename, type, size, used, priority)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Cgroup, path, current, peak, max, high, low, min,
                                                swap_current, swap_max, stat, events, pressure)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Cgroups, layout, v2_mount, self_path, groups)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(HostInfo, hostname, kernel_release, arch, page_size,
                                                cpus, clk_tck, time_unix_ms, vmtune_version)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(SysctlAssignment, file, line, key, value,
                                                ignore_errors)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(SysctlConf, files, masked, assignments,
                                                proc_sys_read_only, container, tuned_profile)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Unavailable, source, path, line, field, reason)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Log2Histogram, unit, slots, count, sum, max)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(ProbeStatus, name, attached, mode, reason, events,
                                                notes)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(ProcessStall, pid, comm, cgroup_id, cgroup, count,
                                                total_us, max_us, pages, order, latency_slots)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(StallEvent, kind, time_unix_ms, pid, tid, comm,
                                                cgroup_id, latency_us, pages, order, status, detail)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(OomKill, time_unix_ms, pid, comm, total_vm,
                                                anon_rss, file_rss, shmem_rss, pgtables,
                                                oom_score_adj, uid, memcg_id, cgroup, trigger_pid,
                                                trigger_comm)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(FaultCounts, user_read, user_write, kernel_read,
                                                kernel_write, total)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(ProcessFaults, pid, comm, cgroup_id, cgroup, faults)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(CgroupFaults, cgroup_id, cgroup, processes, faults)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(BpfStats, duration_s, probes, histograms, top,
                                                counters, oom_kills, slow_events, slow_threshold_us,
                                                faults, cgroup_faults)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(PgSegment, mapping, size, kernel_page_size, rss,
                                                hugetlb, pmd_mapped, backing)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(PgBufferCache, buffers_used, buffers_unused,
                                                buffers_dirty, buffers_pinned, usagecount_avg,
                                                usage_counts, method)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(PgPageCache, files_total, bytes_total,
                                                files_sampled, bytes_sampled, bytes_resident,
                                                bytes_resident_estimate, truncated, elapsed_s,
                                                method)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(
    PgInstance, postmaster_pid, data_dir, port, socket_dir, listen_address, status, start_time_unix,
    user, backend_pids, segment, segment_size, segment_backing, processes_counted,
    page_tables_total, rss_shmem_total, hugetlb_total, rss_anon_total, shmem_page_table_estimate,
    connected, connection, connection_error, server_version_num, settings, setting_values, stats,
    buffercache, page_cache, double_buffered_bytes, double_buffered_ratio, page_cache_overlap,
    relation_bytes_sampled)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(PostgresFacts, instances)

// Process: the plain fields by the same macro, in a namespace of their own so that the two
// fields done by hand can wrap them: "state" is the stat letter as a one-character string (a
// char would be a number), "cmdline" an array of arguments (schema 1: one string).
namespace process_plain {
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Process, pid, ppid, comm, minflt, majflt, vm_rss,
                                                rss_anon, rss_file, rss_shmem, vm_pte, vm_swap,
                                                hugetlb, anon_huge_pages, pss, swap_pss, cgroup,
                                                mems_allowed)
}  // namespace process_plain

void to_json(nlohmann::json& j, const Process& p) {
  process_plain::to_json(j, p);
  j["cmdline"] = p.cmdline;
  j["state"] = std::string(1, p.state);
}

void from_json(const nlohmann::json& j, Process& p) {
  process_plain::from_json(j, p);
  const Process d;
  p.cmdline = d.cmdline;
  if (const auto it = j.find("cmdline"); it != j.end()) {
    if (it->is_string()) {  // schema 1: one string, arguments joined by spaces
      if (!it->get_ref<const std::string&>().empty()) p.cmdline = {it->get<std::string>()};
    } else {
      p.cmdline = it->get<std::vector<std::string>>();
    }
  }
  p.state = d.state;
  if (const auto it = j.find("state"); it != j.end()) {
    if (it->is_string() && it->get_ref<const std::string&>().size() == 1) {
      p.state = it->get_ref<const std::string&>()[0];
    } else if (it->is_number_integer()) {  // schema 1: the letter's code
      p.state = static_cast<char>(it->get<int>());
    }
  }
}
}  // namespace vmtune::model

namespace vmtune::json {
namespace {

// Rebuilds `src` with every string value and key through `f`. Iterative, not recursive: a
// snapshot's meta.json is untrusted, and nlohmann parses nesting far deeper than a recursive
// walk (or a recursive copy) could follow on the stack.
template <typename F>
Json map_strings(const Json& src, F f) {
  Json root;
  std::vector<std::pair<const Json*, Json*>> pending{{&src, &root}};
  while (!pending.empty()) {
    const auto [s, d] = pending.back();
    pending.pop_back();
    switch (s->type()) {
      case Json::value_t::string:
        *d = f(s->get_ref<const std::string&>());
        break;
      case Json::value_t::array: {
        *d = Json::array();
        auto& arr = d->get_ref<Json::array_t&>();
        arr.resize(s->size());  // sized once: the pointers below stay valid
        std::size_t i = 0;
        for (const auto& child : *s) pending.emplace_back(&child, &arr[i++]);
        break;
      }
      case Json::value_t::object: {
        *d = Json::object();
        auto& obj = d->get_ref<Json::object_t&>();
        // Map nodes are stable. Should two keys map to one (unescaping text escape_text did
        // not write), the later entry overwrites the earlier after it was fully built (LIFO).
        for (auto it = s->begin(); it != s->end(); ++it)
          pending.emplace_back(&it.value(), &obj[f(it.key())]);
        break;
      }
      default:
        *d = *s;
        break;
    }
  }
  return root;
}

template <typename T, typename F>
Json section(const model::Source<T>& src, F&& convert) {
  if (!src.value) return nullptr;
  return convert(*src.value);
}

template <typename T>
Json plain(const model::Source<T>& src) {
  return section(src, [](const T& v) { return Json(v); });
}

Json number_or_null(double v) {
  if (!std::isfinite(v)) return nullptr;
  return v;
}

// The documents before the text policy: raw model strings. Never dumped; only escape_tree()
// of them leaves this file.
Json raw_rates(const model::Rates& r) {
  Json j;
  j["interval_s"] = r.interval_s;
  Json vm = Json::object();
  for (const auto& [k, v] : r.vmstat) vm[k + "_per_sec"] = number_or_null(v);
  j["vmstat"] = std::move(vm);
  Json psi = Json::object();
  psi["some_total_us_per_sec"] =
      r.psi_some_us_per_sec ? number_or_null(*r.psi_some_us_per_sec) : Json();
  psi["full_total_us_per_sec"] =
      r.psi_full_us_per_sec ? number_or_null(*r.psi_full_us_per_sec) : Json();
  j["psi"] = std::move(psi);
  Json cg = Json::object();
  for (const auto& [path, m] : r.cgroup_events) {
    Json e = Json::object();
    for (const auto& [k, v] : m) e[k + "_per_sec"] = number_or_null(v);
    cg[path] = std::move(e);
  }
  j["cgroups"] = std::move(cg);
  Json procs = Json::object();
  for (const auto& [pid, pr] : r.processes) {
    procs[std::to_string(pid)] = Json{{"minflt_per_sec", number_or_null(pr.minflt_per_sec)},
                                      {"majflt_per_sec", number_or_null(pr.majflt_per_sec)}};
  }
  j["processes"] = std::move(procs);
  return j;
}

Json raw_sections(const model::Sample& s) {
  Json j;
  j["schema"] = kSchemaVersion;
  j["kernel"] = Json(s.host);
  j["meminfo"] = section(s.meminfo, [](const model::MemInfo& m) { return Json(m.fields); });
  j["vmstat"] = section(s.vmstat, [](const model::VmStat& m) { return Json(m.counters); });
  j["sysctl"] = section(s.sysctl, [](const model::Sysctl& m) { return Json(m.values); });
  j["sysctl_conf"] = plain(s.sysctl_conf);
  j["thp"] = plain(s.thp);
  j["hugepages"] = plain(s.hugepages);
  j["psi"] = plain(s.psi);
  j["zones"] = plain(s.zones);
  j["buddyinfo"] = section(s.buddyinfo, [](const std::vector<model::BuddyZone>& zones) {
    Json arr = Json::array();
    for (const auto& z : zones) {
      arr.push_back(Json{{"node", z.node},
                         {"zone", z.zone},
                         {"free_blocks", z.free_blocks},
                         {"unusable_free_index", model::unusable_free_index(z.free_blocks)}});
    }
    return arr;
  });
  j["numa"] = plain(s.numa);
  j["swaps"] = plain(s.swaps);
  j["cgroups"] = plain(s.cgroups);
  j["processes"] = plain(s.processes);
  j["bpf"] = plain(s.bpf);
  j["postgres"] = plain(s.postgres);
  j["unavailable"] = Json(s.unavailable);
  return j;
}

}  // namespace

std::string dump(const Json& j, int indent) {
  return j.dump(indent, ' ', false, Json::error_handler_t::replace);
}

Json escape_tree(const Json& j) {
  return map_strings(j, [](const std::string& s) { return core::escape_text(s); });
}

Json unescape_tree(const Json& j) {
  return map_strings(j, [](const std::string& s) { return core::unescape_text(s); });
}

Json host_to_json(const model::HostInfo& host) { return escape_tree(Json(host)); }
model::HostInfo host_from_json(const Json& j) { return unescape_tree(j).get<model::HostInfo>(); }
Json bpf_to_json(const model::BpfStats& stats) { return escape_tree(Json(stats)); }
model::BpfStats bpf_from_json(const Json& j) { return unescape_tree(j).get<model::BpfStats>(); }
Json postgres_to_json(const model::PostgresFacts& facts) { return escape_tree(Json(facts)); }
model::PostgresFacts postgres_from_json(const Json& j) {
  return unescape_tree(j).get<model::PostgresFacts>();
}
Json process_to_json(const model::Process& process) { return escape_tree(Json(process)); }
model::Process process_from_json(const Json& j) { return unescape_tree(j).get<model::Process>(); }

Json rates_to_json(const model::Rates& r) { return escape_tree(raw_rates(r)); }

Json sample_sections_to_json(const model::Sample& s) { return escape_tree(raw_sections(s)); }

Json snapshot_to_json(const model::Snapshot& snap) {
  Json j = raw_sections(snap.current);
  j["rates"] = snap.rates ? raw_rates(*snap.rates) : Json();
  return escape_tree(j);
}

}  // namespace vmtune::json
