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
  return std::string(name) + ": unavailable (" + model::to_string(src.state) +
         (src.reason.empty() ? "" : ": " + escape_text(src.reason)) + ")\n";
}

std::string get_bytes(const model::Counters& c, const char* key) {
  const auto it = c.find(key);
  return it == c.end() ? "-" : present::bytes(it->second);
}

void render_postgres(std::ostringstream& out, const model::Source<model::PostgresFacts>& src) {
  if (!src.value) {
    if (src.state != model::SourceState::not_collected || !src.reason.empty()) {
      out << state_line("postgres", src);
    }
    return;
  }
  if (src.value->instances.empty()) out << "postgres no server found\n";
  for (const auto& i : src.value->instances) {
    out << "postgres";
    if (i.postmaster_pid > 0) out << " pid " << i.postmaster_pid;
    if (!i.data_dir.empty()) out << "  data " << escape_text(i.data_dir);
    if (i.port) out << "  port " << *i.port;
    if (!i.socket_dir.empty()) out << "  socket " << escape_text(i.socket_dir);
    if (i.postmaster_pid > 0) out << "  " << i.backend_pids.size() << " child process(es)";
    out << "\n";
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
    if (i.page_cache) {
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
  }
}
}  // namespace

std::string render_collect_text(const model::Snapshot& snap) {
  const auto& s = snap.current;
  std::ostringstream out;
  out << "host " << escape_text(s.host.hostname.empty() ? "(unknown)" : s.host.hostname)
      << "  kernel " << escape_text(s.host.kernel_release) << "  page size " << s.host.page_size
      << "  cpus " << s.host.cpus << "\n";
  if (s.meminfo.value) {
    const auto& m = s.meminfo.value->fields;
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
  } else {
    out << state_line("meminfo", s.meminfo);
  }
  if (s.psi.value) {
    const auto& p = *s.psi.value;
    out << "pressure";
    if (p.some)
      out << "  some avg10 " << present::fixed(p.some->avg10, 2) << "% avg60 "
          << present::fixed(p.some->avg60, 2) << "%";
    if (p.full)
      out << "  full avg10 " << present::fixed(p.full->avg10, 2) << "% avg60 "
          << present::fixed(p.full->avg60, 2) << "%";
    out << "\n";
  } else {
    out << state_line("psi", s.psi);
  }
  if (s.thp.value) {
    out << "THP     enabled " << escape_text(s.thp.value->enabled) << "  defrag "
        << escape_text(s.thp.value->defrag) << "  shmem " << escape_text(s.thp.value->shmem_enabled)
        << "\n";
  } else {
    out << state_line("thp", s.thp);
  }
  if (s.hugepages.value) {
    for (const auto& p : *s.hugepages.value) {
      out << "hugetlb " << present::bytes(p.page_size) << " pages: " << p.nr.value_or(0)
          << " total, " << p.free.value_or(0) << " free, " << p.resv.value_or(0) << " reserved, "
          << p.surplus.value_or(0) << " surplus\n";
    }
  } else {
    out << state_line("hugepages", s.hugepages);
  }
  if (s.sysctl.value) {
    out << "sysctl ";
    int n = 0;
    for (const char* k :
         {"vm.swappiness", "vm.overcommit_memory", "vm.dirty_ratio", "vm.dirty_background_ratio",
          "vm.dirty_bytes", "vm.dirty_background_bytes", "vm.min_free_kbytes",
          "vm.watermark_scale_factor", "vm.zone_reclaim_mode"}) {
      const auto it = s.sysctl.value->values.find(k);
      if (it == s.sysctl.value->values.end()) continue;
      out << (n++ % 3 == 0 && n > 1 ? "\n       " : "") << " " << k << "="
          << escape_text(it->second);
    }
    out << "\n";
  } else {
    out << state_line("sysctl", s.sysctl);
  }
  if (s.zones.value) {
    for (const auto& z : *s.zones.value) {
      if (!z.managed || *z.managed == 0) continue;
      out << "zone    node " << z.node << " " << escape_text(z.name) << ": free "
          << z.free.value_or(0) << "  min " << z.min.value_or(0) << "  low " << z.low.value_or(0)
          << "  high " << z.high.value_or(0) << "  managed " << *z.managed << " pages\n";
    }
  } else {
    out << state_line("zones", s.zones);
  }
  if (s.buddyinfo.value) {
    for (const auto& b : *s.buddyinfo.value) {
      const auto idx = model::unusable_free_index(b.free_blocks);
      out << "buddy   node " << b.node << " " << escape_text(b.zone) << ":";
      for (auto c : b.free_blocks) out << " " << c;
      if (idx.size() > 9) out << "  unusable@order9 " << present::fixed(idx[9], 3);
      out << "\n";
    }
  } else {
    out << state_line("buddyinfo", s.buddyinfo);
  }
  if (s.numa.value) {
    out << "numa    nodes online " << escape_text(s.numa.value->online) << " ("
        << s.numa.value->nodes.size() << " node(s))\n";
  } else {
    out << state_line("numa", s.numa);
  }
  if (s.swaps.value) {
    if (s.swaps.value->empty()) out << "swap    no swap devices\n";
    for (const auto& d : *s.swaps.value) {
      out << "swap    " << escape_text(d.filename) << " (" << escape_text(d.type) << ") "
          << present::bytes(d.used) << " used of " << present::bytes(d.size) << ", priority "
          << d.priority << "\n";
    }
  } else {
    out << state_line("swaps", s.swaps);
  }
  if (s.cgroups.value) {
    out << "cgroups layout " << escape_text(s.cgroups.value->layout) << ", "
        << s.cgroups.value->groups.size() << " memory cgroup(s)\n";
  } else {
    out << state_line("cgroups", s.cgroups);
  }
  if (s.processes.value) {
    auto procs = *s.processes.value;
    std::sort(procs.begin(), procs.end(), [](const auto& a, const auto& b) {
      return a.vm_rss.value_or(0) > b.vm_rss.value_or(0);
    });
    out << "processes " << procs.size() << "; largest by RSS:\n";
    out << "      PID        RSS       anon       file      shmem     PTE  COMM             "
           "COMMAND\n";
    for (std::size_t i = 0; i < std::min<std::size_t>(procs.size(), 8); ++i) {
      const auto& p = procs[i];
      const std::string line = fmt::format(
          "  {:7d} {:>10} {:>10} {:>10} {:>10} {:>7}  ", p.pid,
          present::bytes(p.vm_rss.value_or(0)), present::bytes(p.rss_anon.value_or(0)),
          present::bytes(p.rss_file.value_or(0)), present::bytes(p.rss_shmem.value_or(0)),
          present::bytes(p.vm_pte.value_or(0)));
      std::string comm = escape_text(p.comm);
      if (!p.cmdline.empty()) {
        comm.resize(std::max<std::size_t>(comm.size(), 16), ' ');
        comm += ' ' + present::truncate_text(present::command_line(p.cmdline), 80);
      }
      out << line << comm << "\n";
    }
  } else {
    out << state_line("processes", s.processes);
  }
  render_postgres(out, s.postgres);
  if (snap.rates) {
    const auto& r = *snap.rates;
    out << "rates over " << present::fixed(r.interval_s, 2) << " s:";
    for (const char* k :
         {"pgfault", "pgmajfault", "pswpin", "pswpout", "pgscan_kswapd", "pgscan_direct",
          "allocstall_normal", "compact_stall", "workingset_refault_file", "oom_kill"}) {
      const auto it = r.vmstat.find(k);
      if (it != r.vmstat.end()) out << " " << k << " " << present::rate(it->second);
    }
    out << "\n";
  }
  if (!s.unavailable.empty()) {
    out << "not measured:\n";
    for (const auto& u : s.unavailable) {
      out << "  " << escape_text(u.source) << ": " << escape_text(u.path);
      if (u.line > 0) out << ":" << u.line;
      if (!u.field.empty()) out << " field \"" << escape_text(u.field) << "\"";
      out << ": " << escape_text(u.reason) << "\n";
    }
  }
  return out.str();
}

}  // namespace vmtune::ui::report
