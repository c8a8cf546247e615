// SPDX-License-Identifier: GPL-2.0-or-later
// `audit --trace S` and the trace text report: the eBPF probes through collect/bpf.
#include "app/trace_hook.hpp"

#include <cinttypes>
#include <cstdio>
#include <iostream>

#include "collect/bpf/trace_session.hpp"
#include "core/escape.hpp"

namespace vmtune::app {
namespace {

// printf into a string of the size it needs: an escaped cgroup path may be long, and a cut
// in the middle of a UTF-8 sequence would put invalid UTF-8 on the terminal.
std::string fmt(const char* f, auto... args) {
  const int n = std::snprintf(nullptr, 0, f, args...);
  if (n <= 0) return {};
  std::string out(static_cast<std::size_t>(n) + 1, '\0');
  std::snprintf(out.data(), out.size(), f, args...);
  out.resize(static_cast<std::size_t>(n));
  return out;
}

// Every string from BpfStats may come from a snapshot's meta.json: all of it is untrusted.
std::string esc(const std::string& s) { return core::escape_text(s); }

std::string human_us(std::uint64_t us) {
  if (us >= 10'000'000) return fmt("%.1f s", static_cast<double>(us) / 1e6);
  if (us >= 10'000) return fmt("%.1f ms", static_cast<double>(us) / 1e3);
  return fmt("%" PRIu64 " us", us);
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
  out += fmt("  %20s : %-10s %s\n", h.unit == "us" ? "usecs" : esc(h.unit).c_str(), "count",
             "distribution");
  for (std::size_t i = 0; i < h.slots.size(); ++i) {
    const std::uint64_t lo = i == 0 ? 0 : (1ull << i);
    const std::uint64_t hi = (1ull << (i + 1)) - 1;
    const int bar = peak == 0 ? 0 : static_cast<int>(h.slots[i] * 40 / peak);
    out += fmt("  %9" PRIu64 " -> %-8" PRIu64 " : %-10" PRIu64 " |%-40s|\n", lo, hi, h.slots[i],
               std::string(static_cast<std::size_t>(bar), '*').c_str());
  }
}

const char* pages_label(const std::string& kind) {
  if (kind == "direct_reclaim" || kind == "memcg_reclaim") return "RECLAIMED";
  if (kind == "writeback_throttle") return "DIRTIED";
  if (kind == "thp_collapse") return "SUCCEEDED";
  return "PAGES";
}

}  // namespace

std::string render_trace_text(const model::BpfStats& s) {
  std::string out = fmt("eBPF trace: %.1f s\n", s.duration_s);
  out += "probes:\n";
  for (const auto& p : s.probes) {
    if (p.attached) {
      out += "  " + esc(p.name) + ": attached (" + esc(p.mode) + ", " +
             std::to_string(p.events.size()) + " tracepoints)\n";
    } else {
      out += "  " + esc(p.name) + ": unavailable: " + esc(p.reason) + "\n";
    }
    for (const auto& n : p.notes) out += "    note: " + esc(n) + "\n";
  }
  for (const auto& [name, h] : s.histograms) {
    out += "\n";
    render_histogram(out, name, h);
  }
  for (const auto& [kind, list] : s.top) {
    if (list.empty()) continue;
    out += "\ntop " + esc(kind) + ":\n";
    out += fmt("  %-8s %-16s %8s %10s %10s %10s %5s  %s\n", "PID", "COMM", "COUNT", "TOTAL", "MAX",
               pages_label(kind), "ORDER", "CGROUP");
    for (const auto& p : list) {
      out +=
          fmt("  %-8d %-16s %8" PRIu64 " %10s %10s %10" PRIu64 " %5s  %s\n", p.pid,
              esc(p.comm).c_str(), p.count, human_us(p.total_us).c_str(),
              human_us(p.max_us).c_str(), p.pages, p.order ? std::to_string(*p.order).c_str() : "-",
              esc(p.cgroup.empty() ? std::to_string(p.cgroup_id) : p.cgroup).c_str());
    }
  }
  if (!s.slow_events.empty()) {
    out += fmt("\nstalls of at least %s (%zu):\n", human_us(s.slow_threshold_us).c_str(),
               s.slow_events.size());
    for (const auto& e : s.slow_events) {
      out += fmt("  %-18s pid %-7d %-16s %10s", esc(e.kind).c_str(), e.pid, esc(e.comm).c_str(),
                 human_us(e.latency_us).c_str());
      if (e.order) out += fmt(" order %d", *e.order);
      if (e.pages != 0) out += fmt(" pages %" PRIu64, e.pages);
      if (!e.detail.empty()) out += " " + esc(e.detail);
      out += "\n";
    }
  }
  for (const auto& k : s.oom_kills) {
    out += fmt("\nOOM kill: pid %d %s", k.pid, esc(k.comm).c_str());
    if (k.anon_rss) {
      out += fmt(" (anon-rss %" PRIu64 " kB, file-rss %" PRIu64 " kB, shmem-rss %" PRIu64
                 " kB, total-vm %" PRIu64 " kB, oom_score_adj %d)",
                 *k.anon_rss / 1024, k.file_rss.value_or(0) / 1024, k.shmem_rss.value_or(0) / 1024,
                 k.total_vm.value_or(0) / 1024, k.oom_score_adj.value_or(0));
    }
    if (!k.cgroup.empty()) out += " cgroup " + esc(k.cgroup);
    out += fmt(", triggered by pid %d %s\n", k.trigger_pid, esc(k.trigger_comm).c_str());
  }
  if (!s.faults.empty()) {
    out += "\npage faults by process:\n";
    out += fmt("  %-8s %-16s %10s %10s %10s %10s %10s  %s\n", "PID", "COMM", "TOTAL", "USER-RD",
               "USER-WR", "KERN-RD", "KERN-WR", "CGROUP");
    std::size_t shown = 0;
    for (const auto& p : s.faults) {
      if (++shown > 10) break;
      out +=
          fmt("  %-8d %-16s %10" PRIu64 " %10" PRIu64 " %10" PRIu64 " %10" PRIu64 " %10" PRIu64
              "  %s\n",
              p.pid, esc(p.comm).c_str(), p.faults.total, p.faults.user_read, p.faults.user_write,
              p.faults.kernel_read, p.faults.kernel_write, esc(p.cgroup).c_str());
    }
    out += "page faults by cgroup:\n";
    for (const auto& g : s.cgroup_faults) {
      out += fmt("  %-40s %10" PRIu64 " faults, %" PRIu64 " processes\n",
                 esc(g.cgroup.empty() ? std::to_string(g.cgroup_id) : g.cgroup).c_str(),
                 g.faults.total, g.processes);
    }
  }
  if (!s.counters.empty()) {
    out += "\ncounters:\n";
    for (const auto& [k, v] : s.counters) out += fmt("  %-34s %" PRIu64 "\n", esc(k).c_str(), v);
  }
  return out;
}

void attach_trace_to_sample(Context& ctx, const Input& input, model::Sample& sample,
                            const TraceRequest& request) {
  if (!input.live()) {
    sample.bpf.state = model::SourceState::unsupported;
    sample.bpf.reason = "unsupported (snapshot): eBPF probes need the live machine";
    return;
  }
  collect::bpf::TraceOptions options;
  auto stats = collect::bpf::run_trace(
      input.fs(), options, request.seconds, &ctx.stop, [&request](double elapsed, double total) {
        if (request.progress) {
          std::cerr << "\rvmtune: tracing, " << static_cast<int>(total - elapsed + 0.999)
                    << " s left " << std::flush;
        }
      });
  if (request.progress) std::cerr << "\r\033[K" << std::flush;
  bool any = false;
  bool denied = false;
  std::string first_reason;
  for (const auto& p : stats.probes) {
    if (p.attached) {
      any = true;
      continue;
    }
    if (p.reason.find("needs root") != std::string::npos) denied = true;
    if (first_reason.empty() && p.name != "fault_latency") first_reason = p.reason;
    sample.unavailable.push_back(model::Unavailable{"bpf." + p.name, "", 0, "", p.reason});
  }
  if (any) {
    sample.bpf.state = model::SourceState::ok;
    sample.bpf.reason.clear();
    sample.bpf.value = std::move(stats);
  } else {
    sample.bpf.state =
        denied ? model::SourceState::permission_denied : model::SourceState::unsupported;
    sample.bpf.reason = first_reason.empty() ? "no eBPF probe could be attached" : first_reason;
    sample.bpf.value.reset();
  }
}

}  // namespace vmtune::app
