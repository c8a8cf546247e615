// SPDX-License-Identifier: GPL-2.0-or-later
#include "ui/report/trace_text.hpp"

#include <fmt/printf.h>

#include <cinttypes>
#include <map>
#include <string>
#include <vector>

#include "core/escape.hpp"

namespace vmtune::ui::report {
namespace {

// Every string from BpfStats may come from a snapshot's meta.json: all of it is untrusted.
std::string esc(const std::string& s) { return core::escape_text(s); }

std::string human_us(std::uint64_t us) {
  if (us >= 10'000'000) return fmt::sprintf("%.1f s", static_cast<double>(us) / 1e6);
  if (us >= 10'000) return fmt::sprintf("%.1f ms", static_cast<double>(us) / 1e3);
  return fmt::sprintf("%" PRIu64 " us", us);
}

void render_histogram(std::string& out, const std::string& name, const model::Log2Histogram& h) {
  out += esc(name) + ": " + std::to_string(h.count) + " events";
  if (h.count > 0) {
    out += ", avg " + human_us(h.sum / h.count) + ", max " + human_us(h.max);
  }
  out += "\n";
  if (h.count == 0 || h.slots.empty()) return;
  std::uint64_t peak = 0;
  for (auto v : h.slots) peak = std::max(peak, v);
  out += fmt::sprintf("  %20s : %-10s %s\n", h.unit == "us" ? "usecs" : esc(h.unit).c_str(),
                      "count", "distribution");
  for (std::size_t i = 0; i < h.slots.size(); ++i) {
    const std::uint64_t lo = i == 0 ? 0 : (1ull << i);
    const std::uint64_t hi = (1ull << (i + 1)) - 1;
    const int bar = peak == 0 ? 0 : static_cast<int>(h.slots[i] * 40 / peak);
    out += fmt::sprintf("  %9" PRIu64 " -> %-8" PRIu64 " : %-10" PRIu64 " |%-40s|\n", lo, hi,
                        h.slots[i], std::string(static_cast<std::size_t>(bar), '*').c_str());
  }
}

const char* pages_label(const std::string& kind) {
  if (kind == "direct_reclaim" || kind == "memcg_reclaim") return "RECLAIMED";
  if (kind == "writeback_throttle") return "DIRTIED";
  if (kind == "thp_collapse") return "SUCCEEDED";
  return "PAGES";
}

void render_probes(std::string& out, const std::vector<model::ProbeStatus>& probes) {
  out += "probes:\n";
  for (const auto& p : probes) {
    if (p.attached) {
      out += "  " + esc(p.name) + ": attached (" + esc(p.mode) + ", " +
             std::to_string(p.events.size()) + " tracepoints)\n";
    } else {
      out += "  " + esc(p.name) + ": unavailable: " + esc(p.reason) + "\n";
    }
    for (const auto& n : p.notes) out += "    note: " + esc(n) + "\n";
  }
}

void render_top(std::string& out, const std::string& kind,
                const std::vector<model::ProcessStall>& list) {
  if (list.empty()) return;
  out += "\ntop " + esc(kind) + ":\n";
  out += fmt::sprintf("  %-8s %-16s %8s %10s %10s %10s %5s  %s\n", "PID", "COMM", "COUNT", "TOTAL",
                      "MAX", pages_label(kind), "ORDER", "CGROUP");
  for (const auto& p : list) {
    out += fmt::sprintf("  %-8d %-16s %8" PRIu64 " %10s %10s %10" PRIu64 " %5s  %s\n", p.pid,
                        esc(p.comm).c_str(), p.count, human_us(p.total_us).c_str(),
                        human_us(p.max_us).c_str(), p.pages,
                        p.order ? std::to_string(*p.order).c_str() : "-",
                        esc(p.cgroup.empty() ? std::to_string(p.cgroup_id) : p.cgroup).c_str());
  }
}

void render_slow_events(std::string& out, const model::BpfStats& s) {
  if (s.slow_events.empty()) return;
  out += fmt::sprintf("\nstalls of at least %s (%zu):\n", human_us(s.slow_threshold_us).c_str(),
                      s.slow_events.size());
  for (const auto& e : s.slow_events) {
    out += fmt::sprintf("  %-18s pid %-7d %-16s %10s", esc(e.kind).c_str(), e.pid,
                        esc(e.comm).c_str(), human_us(e.latency_us).c_str());
    if (e.order) out += fmt::sprintf(" order %d", *e.order);
    if (e.pages != 0) out += fmt::sprintf(" pages %" PRIu64, e.pages);
    if (!e.detail.empty()) out += " " + esc(e.detail);
    out += "\n";
  }
}

void render_oom_kill(std::string& out, const model::OomKill& k) {
  out += fmt::sprintf("\nOOM kill: pid %d %s", k.pid, esc(k.comm).c_str());
  if (k.anon_rss) {
    out += fmt::sprintf(" (anon-rss %" PRIu64 " kB, file-rss %" PRIu64 " kB, shmem-rss %" PRIu64
                        " kB, total-vm %" PRIu64 " kB, oom_score_adj %d)",
                        *k.anon_rss / 1024, k.file_rss.value_or(0) / 1024,
                        k.shmem_rss.value_or(0) / 1024, k.total_vm.value_or(0) / 1024,
                        k.oom_score_adj.value_or(0));
  }
  if (!k.cgroup.empty()) out += " cgroup " + esc(k.cgroup);
  out += fmt::sprintf(", triggered by pid %d %s\n", k.trigger_pid, esc(k.trigger_comm).c_str());
}

void render_faults(std::string& out, const model::BpfStats& s) {
  if (s.faults.empty()) return;
  out += "\npage faults by process:\n";
  out += fmt::sprintf("  %-8s %-16s %10s %10s %10s %10s %10s  %s\n", "PID", "COMM", "TOTAL",
                      "USER-RD", "USER-WR", "KERN-RD", "KERN-WR", "CGROUP");
  std::size_t shown = 0;
  for (const auto& p : s.faults) {
    if (++shown > 10) break;
    out += fmt::sprintf(
        "  %-8d %-16s %10" PRIu64 " %10" PRIu64 " %10" PRIu64 " %10" PRIu64 " %10" PRIu64 "  %s\n",
        p.pid, esc(p.comm).c_str(), p.faults.total, p.faults.user_read, p.faults.user_write,
        p.faults.kernel_read, p.faults.kernel_write, esc(p.cgroup).c_str());
  }
  out += "page faults by cgroup:\n";
  for (const auto& g : s.cgroup_faults) {
    out += fmt::sprintf("  %-40s %10" PRIu64 " faults, %" PRIu64 " processes\n",
                        esc(g.cgroup.empty() ? std::to_string(g.cgroup_id) : g.cgroup).c_str(),
                        g.faults.total, g.processes);
  }
}

void render_counters(std::string& out, const std::map<std::string, std::uint64_t>& counters) {
  if (counters.empty()) return;
  out += "\ncounters:\n";
  for (const auto& [k, v] : counters)
    out += fmt::sprintf("  %-34s %" PRIu64 "\n", esc(k).c_str(), v);
}

}  // namespace

std::string render_trace_text(const model::BpfStats& s) {
  std::string out = fmt::sprintf("eBPF trace: %.1f s\n", s.duration_s);
  render_probes(out, s.probes);
  for (const auto& [name, h] : s.histograms) {
    out += "\n";
    render_histogram(out, name, h);
  }
  for (const auto& [kind, list] : s.top) render_top(out, kind, list);
  render_slow_events(out, s);
  for (const auto& k : s.oom_kills) render_oom_kill(out, k);
  render_faults(out, s);
  render_counters(out, s.counters);
  return out;
}

}  // namespace vmtune::ui::report
