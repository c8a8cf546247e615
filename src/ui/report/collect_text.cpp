// SPDX-License-Identifier: GPL-2.0-or-later
#include "ui/report/collect_text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <sstream>

#include "core/escape.hpp"
#include "present/format.hpp"

namespace vmtune::ui::report {
namespace {

using core::escape_text;

template <typename T>
std::string state_line(const char* name, const model::Source<T>& src) {
  if (src.value) return {};
  const std::string reason = src.reason();
  return std::string(name) + ": unavailable (" + model::to_string(src.state) +
         (reason.empty() ? "" : ": " + escape_text(reason)) + ")\n";
}

// A source with a value is rendered by `render`; one without gets its state line.
template <typename T>
void section(std::ostringstream& out, const char* name, const model::Source<T>& src,
             void (*render)(std::ostringstream&, const T&)) {
  if (src.value) {
    render(out, *src.value);
  } else {
    out << state_line(name, src);
  }
}

std::string get_bytes(const model::Counters& c, const char* key) {
  const auto it = c.find(key);
  return it == c.end() ? "-" : present::bytes(it->second);
}

void render_host(std::ostringstream& out, const model::HostInfo& host) {
  out << "host " << escape_text(host.hostname.empty() ? "(unknown)" : host.hostname) << "  kernel "
      << escape_text(host.kernel_release) << "  page size " << host.page_size << "  cpus "
      << host.cpus << "\n";
}

void render_meminfo(std::ostringstream& out, const model::MemInfo& meminfo) {
  const auto& m = meminfo.fields;
  out << "memory  total " << get_bytes(m, "MemTotal") << "  available "
      << get_bytes(m, "MemAvailable") << "  free " << get_bytes(m, "MemFree") << "  cached "
      << get_bytes(m, "Cached") << "  shmem " << get_bytes(m, "Shmem") << "\n";
  out << "        anon " << get_bytes(m, "AnonPages") << "  page tables "
      << get_bytes(m, "PageTables") << "  dirty " << get_bytes(m, "Dirty") << "  writeback "
      << get_bytes(m, "Writeback") << "  swap " << get_bytes(m, "SwapTotal") << " (free "
      << get_bytes(m, "SwapFree") << ")\n";
  out << "        committed " << get_bytes(m, "Committed_AS") << " of limit "
      << get_bytes(m, "CommitLimit") << "  THP anon " << get_bytes(m, "AnonHugePages")
      << "  hugetlb " << get_bytes(m, "Hugetlb") << "\n";
}

void render_psi(std::ostringstream& out, const model::Psi& p) {
  out << "pressure";
  if (p.some)
    out << "  some avg10 " << present::fixed(p.some->avg10, 2) << "% avg60 "
        << present::fixed(p.some->avg60, 2) << "%";
  if (p.full)
    out << "  full avg10 " << present::fixed(p.full->avg10, 2) << "% avg60 "
        << present::fixed(p.full->avg60, 2) << "%";
  out << "\n";
}

void render_thp(std::ostringstream& out, const model::Thp& thp) {
  out << "THP     enabled " << escape_text(thp.enabled) << "  defrag " << escape_text(thp.defrag)
      << "  shmem " << escape_text(thp.shmem_enabled) << "\n";
}

void render_hugepages(std::ostringstream& out, const std::vector<model::HugePagePool>& pools) {
  for (const auto& p : pools) {
    out << "hugetlb " << present::bytes(p.page_size) << " pages: " << p.nr.value_or(0) << " total, "
        << p.free.value_or(0) << " free, " << p.resv.value_or(0) << " reserved, "
        << p.surplus.value_or(0) << " surplus\n";
  }
}

void render_sysctl(std::ostringstream& out, const model::Sysctl& sysctl) {
  out << "sysctl ";
  int n = 0;
  for (const char* k :
       {"vm.swappiness", "vm.overcommit_memory", "vm.dirty_ratio", "vm.dirty_background_ratio",
        "vm.dirty_bytes", "vm.dirty_background_bytes", "vm.min_free_kbytes",
        "vm.watermark_scale_factor", "vm.zone_reclaim_mode"}) {
    const auto it = sysctl.values.find(k);
    if (it == sysctl.values.end()) continue;
    out << (n++ % 3 == 0 && n > 1 ? "\n       " : "") << " " << k << "=" << escape_text(it->second);
  }
  out << "\n";
}

void render_zones(std::ostringstream& out, const std::vector<model::Zone>& zones) {
  for (const auto& z : zones) {
    if (!z.managed || *z.managed == 0) continue;
    out << "zone    node " << z.node << " " << escape_text(z.name) << ": free "
        << z.free.value_or(0) << "  min " << z.min.value_or(0) << "  low " << z.low.value_or(0)
        << "  high " << z.high.value_or(0) << "  managed " << *z.managed << " pages\n";
  }
}

void render_buddyinfo(std::ostringstream& out, const std::vector<model::BuddyZone>& zones) {
  for (const auto& b : zones) {
    const auto idx = model::unusable_free_index(b.free_blocks);
    out << "buddy   node " << b.node << " " << escape_text(b.zone) << ":";
    for (auto c : b.free_blocks) out << " " << c;
    if (idx.size() > 9) out << "  unusable@order9 " << present::fixed(idx[9], 3);
    out << "\n";
  }
}

void render_numa(std::ostringstream& out, const model::Numa& numa) {
  out << "numa    nodes online " << escape_text(numa.online) << " (" << numa.nodes.size()
      << " node(s))\n";
}

void render_swaps(std::ostringstream& out, const std::vector<model::SwapDevice>& swaps) {
  if (swaps.empty()) out << "swap    no swap devices\n";
  for (const auto& d : swaps) {
    out << "swap    " << escape_text(d.filename) << " (" << escape_text(d.type) << ") "
        << present::bytes(d.used) << " used of " << present::bytes(d.size) << ", priority "
        << d.priority << "\n";
  }
}

void render_cgroups(std::ostringstream& out, const model::Cgroups& cgroups) {
  out << "cgroups layout " << escape_text(cgroups.layout) << ", " << cgroups.groups.size()
      << " memory cgroup(s)\n";
}

void render_processes(std::ostringstream& out, const std::vector<model::Process>& processes) {
  auto procs = processes;
  std::sort(procs.begin(), procs.end(), [](const auto& a, const auto& b) {
    return a.vm_rss.value_or(0) > b.vm_rss.value_or(0);
  });
  out << "processes " << procs.size() << "; largest by RSS:\n";
  out << "      PID        RSS       anon       file      shmem     PTE  COMM             "
         "COMMAND\n";
  for (std::size_t i = 0; i < std::min<std::size_t>(procs.size(), 8); ++i) {
    const auto& p = procs[i];
    const std::string line = fmt::format(
        "  {:7d} {:>10} {:>10} {:>10} {:>10} {:>7}  ", p.pid, present::bytes(p.vm_rss.value_or(0)),
        present::bytes(p.rss_anon.value_or(0)), present::bytes(p.rss_file.value_or(0)),
        present::bytes(p.rss_shmem.value_or(0)), present::bytes(p.vm_pte.value_or(0)));
    std::string comm = escape_text(p.comm);
    if (!p.cmdline.empty()) {
      comm.resize(std::max<std::size_t>(comm.size(), 16), ' ');
      comm += ' ' + present::truncate_text(present::command_line(p.cmdline), 80);
    }
    out << line << comm << "\n";
  }
}

void render_pg_identity(std::ostringstream& out, const model::PgInstance& i) {
  out << "postgres";
  if (i.postmaster_pid > 0) out << " pid " << i.postmaster_pid;
  if (!i.data_dir.empty()) out << "  data " << escape_text(i.data_dir);
  if (i.port) out << "  port " << *i.port;
  if (!i.socket_dir.empty()) out << "  socket " << escape_text(i.socket_dir);
  if (i.postmaster_pid > 0) out << "  " << i.backend_pids.size() << " child process(es)";
  out << "\n";
}

void render_pg_memory(std::ostringstream& out, const model::PgInstance& i) {
  if (i.segment) {
    out << "         shared segment " << present::bytes(i.segment->size) << " "
        << escape_text(i.segment->mapping) << ": " << escape_text(i.segment->backing) << " pages";
    if (i.segment->hugetlb > 0)
      out << " (" << present::bytes(i.segment->hugetlb) << " hugetlb touched)";
    out << "\n";
  }
  if (i.page_tables_total) {
    out << "         page tables " << present::bytes(*i.page_tables_total) << " over "
        << i.processes_counted << " processes  RssShmem "
        << present::bytes(i.rss_shmem_total.value_or(0)) << "  hugetlb "
        << present::bytes(i.hugetlb_total.value_or(0)) << "\n";
  }
}

void render_pg_server(std::ostringstream& out, const model::PgInstance& i) {
  if (i.connected) {
    auto setting = [&](const char* k) {
      const auto it = i.settings.find(k);
      return it == i.settings.end() ? std::string("-") : escape_text(it->second);
    };
    out << "         server " << setting("server_version") << "  shared_buffers "
        << setting("shared_buffers") << "  huge_pages " << setting("huge_pages")
        << "  shared_memory_size " << setting("shared_memory_size") << " ("
        << setting("shared_memory_size_in_huge_pages") << " huge pages)  max_connections "
        << setting("max_connections");
    if (const auto it = i.stats.find("database.hit_ratio"); it != i.stats.end()) {
      out << "  hit ratio " << present::percent(it->second);
    }
    out << "\n";
  } else if (!i.connection_error.empty()) {
    out << "         not connected: " << escape_text(i.connection_error) << "\n";
  }
}

void render_pg_page_cache(std::ostringstream& out, const model::PgInstance& i) {
  if (!i.page_cache) return;
  const auto& pc = *i.page_cache;
  out << "         page cache holds " << present::bytes(pc.bytes_resident_estimate) << " of "
      << present::bytes(pc.bytes_total) << " relation files"
      << (pc.truncated ? " (estimated from a sample)" : "");
  if (i.double_buffered_bytes) {
    out << "; double-buffered at most " << present::bytes(*i.double_buffered_bytes);
    if (i.double_buffered_ratio)
      out << " (" << present::percent(*i.double_buffered_ratio) << " of shared_buffers)";
  }
  out << "\n";
}

void render_postgres(std::ostringstream& out, const model::Source<model::PostgresFacts>& src) {
  if (!src.value) {
    if (src.state != model::SourceState::not_collected || !src.reason().empty()) {
      out << state_line("postgres", src);
    }
    return;
  }
  if (src.value->instances.empty()) out << "postgres no server found\n";
  for (const auto& i : src.value->instances) {
    render_pg_identity(out, i);
    render_pg_memory(out, i);
    render_pg_server(out, i);
    render_pg_page_cache(out, i);
  }
}

void render_rates(std::ostringstream& out, const model::Rates& r) {
  out << "rates over " << present::fixed(r.interval_s, 2) << " s:";
  for (const char* k :
       {"pgfault", "pgmajfault", "pswpin", "pswpout", "pgscan_kswapd", "pgscan_direct",
        "allocstall_normal", "compact_stall", "workingset_refault_file", "oom_kill"}) {
    const auto it = r.vmstat.find(k);
    if (it != r.vmstat.end()) out << " " << k << " " << present::rate(it->second);
  }
  out << "\n";
}

void render_unavailable(std::ostringstream& out, const std::vector<model::Unavailable>& list) {
  if (list.empty()) return;
  out << "not measured:\n";
  for (const auto& u : list) {
    out << "  " << escape_text(u.source) << ": " << escape_text(u.path);
    if (u.line > 0) out << ":" << u.line;
    if (!u.field.empty()) out << " field \"" << escape_text(u.field) << "\"";
    out << ": " << escape_text(u.reason) << "\n";
  }
}

}  // namespace

std::string render_collect_text(const model::Snapshot& snap) {
  const auto& s = snap.current;
  std::ostringstream out;
  render_host(out, s.host);
  section(out, "meminfo", s.meminfo, render_meminfo);
  section(out, "psi", s.psi, render_psi);
  section(out, "thp", s.thp, render_thp);
  section(out, "hugepages", s.hugepages, render_hugepages);
  section(out, "sysctl", s.sysctl, render_sysctl);
  section(out, "zones", s.zones, render_zones);
  section(out, "buddyinfo", s.buddyinfo, render_buddyinfo);
  section(out, "numa", s.numa, render_numa);
  section(out, "swaps", s.swaps, render_swaps);
  section(out, "cgroups", s.cgroups, render_cgroups);
  section(out, "processes", s.processes, render_processes);
  render_postgres(out, s.postgres);
  if (snap.rates) render_rates(out, *snap.rates);
  render_unavailable(out, s.unavailable);
  return out.str();
}

}  // namespace vmtune::ui::report
