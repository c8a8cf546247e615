// SPDX-License-Identifier: GPL-2.0-or-later
// `vmtune trace`: attach the eBPF probes for a while, then print histograms, the top stalled
// processes, slow stalls and OOM kills. Everything is detached before the command returns,
// including after SIGINT/SIGTERM (which end the window early and still print the result).

#include <iostream>

#include "app/commands.hpp"
#include "app/exit_codes.hpp"
#include "collect/bpf/trace_session.hpp"
#include "core/escape.hpp"
#include "json/sample_json.hpp"
#include "ui/report/trace_text.hpp"

namespace vmtune::app {
namespace {

struct TraceArgs {
  double duration = 10;
  std::string format = "text";
  std::string probes = "default";
  std::string attach = "auto";
  double threshold_ms = 10;
  std::size_t top = 10;
  std::string output;
};

int run_trace_command(Context& ctx, const TraceArgs& args) {
  const auto& g = ctx.global;
  if (!g.root.empty() || !g.proc.empty() || !g.sys.empty() || !g.etc.empty()) {
    std::cerr << "vmtune trace: eBPF probes trace the running kernel; --root, --proc, --sys "
                 "and --etc cannot be used with trace\n";
    return kExitUsage;
  }
  auto probes = collect::bpf::parse_probe_list(args.probes);
  if (!probes) {
    std::cerr << "vmtune trace: " << core::escape_text(probes.error().to_string()) << "\n";
    return kExitUsage;
  }
  auto prefer = collect::bpf::parse_attach_preference(args.attach);
  if (!prefer) {
    std::cerr << "vmtune trace: " << prefer.error().to_string() << "\n";
    return kExitUsage;
  }
  collect::bpf::TraceOptions options;
  options.probes = std::move(*probes);
  options.prefer = *prefer;
  options.slow_event_us = static_cast<std::uint64_t>(args.threshold_ms * 1000.0);
  options.top_n = args.top;
  const core::RootFs live;
  const auto progress = progress_line("trace");
  auto stats = collect::bpf::run_trace(
      live, options, args.duration, &ctx.stop,
      [&progress](double elapsed, double total) {
        if (progress) progress("tracing", elapsed, total);
      },
      [&](const std::vector<model::ProbeStatus>& status) {
        std::string attached;
        for (const auto& p : status) {
          if (p.attached) attached += (attached.empty() ? "" : ", ") + p.name;
        }
        if (!attached.empty()) {
          std::cerr << "vmtune trace: tracing " << attached << " for " << args.duration
                    << " s (Ctrl-C to stop early)\n"
                    << std::flush;
        }
      });
  clear_progress();
  bool any = false;
  for (const auto& p : stats.probes) any = any || p.attached;
  const std::string text = args.format == "json" ? json::dump(json::bpf_to_json(stats), 2) + "\n"
                                                 : ui::report::render_trace_text(stats);
  const int rc = write_output(args.output, text);
  if (rc != kExitOk) return rc;
  if (!any) {
    std::cerr << "vmtune trace: none of the requested probes could be attached\n";
    return kExitUnavailable;
  }
  return kExitOk;
}

/// `vmtune trace --help`.
constexpr const char* kHelp =
    R"(Trace memory stalls with eBPF for a while: direct/memcg reclaim, compaction, THP
collapses, dirty-page throttling, OOM kills and (opt-in) page faults. Needs root, or
CAP_BPF+CAP_PERFMON (setcap cap_bpf,cap_perfmon=ep vmtune). Exit code 6 when none of
the requested probes could be attached.)";

}  // namespace

void add_trace_command(CLI::App& app, CommandTable& table) {
  auto [sub, args] = add_command(app, table, "trace", kHelp, run_trace_command);
  sub->add_option("-d,--duration", args->duration, "Seconds to trace (SIGINT ends it early)")
      ->check(finite_range(0.0, 86400.0));
  sub->add_option("-f,--format", args->format, "Output format")
      ->check(CLI::IsMember({"text", "json"}));
  sub->add_option("-p,--probes", args->probes,
                  "Comma-separated probes: reclaim, compaction, thp, writeback, oom, faults; "
                  "'default' is all but faults, 'all' adds faults");
  sub->add_option("--attach", args->attach,
                  "Attach mode: auto (tp_btf, else classic tracepoints), tp_btf, or tp")
      ->check(CLI::IsMember({"auto", "tp_btf", "tp"}));
  sub->add_option("--threshold-ms", args->threshold_ms,
                  "Report every stall at least this long individually, with its process")
      ->check(finite_range(0.0, 3600000.0));
  sub->add_option("--top", args->top, "Processes listed per stall kind")
      ->check(CLI::Range(1, 100000));
  add_output_option(sub, args->output);
}

}  // namespace vmtune::app
