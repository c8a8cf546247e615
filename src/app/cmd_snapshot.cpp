// SPDX-License-Identifier: GPL-2.0-or-later
// `vmtune snapshot -o FILE`: capture exactly what the collectors read, twice a window apart,
// into one compressed tar that any command's --root can read back.

#include <algorithm>
#include <iostream>

#include "app/commands.hpp"
#include "app/exit_codes.hpp"
#include "core/escape.hpp"
#include "json/sample_json.hpp"
#include "snapshot/snapshot.hpp"

namespace vmtune::app {
namespace {

struct SnapshotArgs {
  std::string output;
  double window = 3;
  double trace = 0;
  bool redact = false;
  PgArgs pg;
};

int run_snapshot(Context& ctx, const SnapshotArgs& args) {
  std::optional<sampler::Sampler> input;
  if (!open_sampler_or_report(ctx, input)) return kExitInput;
  if (!input->live()) {
    std::cerr << "vmtune snapshot: reads the live machine only; --root/--proc/--sys/--etc "
                 "cannot be combined with it\n";
    return kExitUsage;
  }
  // Exactly what the audit samples: the files of both readings, and the PostgreSQL facts and
  // eBPF aggregates of the last as data, so an offline audit of the file reasons the same way.
  sampler::Options opt;
  opt.record = true;
  set_pg_options(args.pg, opt);
  opt.trace_s = args.trace;
  // Two readings even for --window 0, so a replay has the pair the audit expects.
  const double seconds = std::max(args.window, 1e-3);
  const auto window = input->window(seconds, opt, progress_line("snapshot"), &ctx.stop);
  clear_progress();
  if (window.interrupted) {
    std::cerr << "vmtune snapshot: interrupted, nothing written\n";
    return kExitInterrupted;
  }
  snapshot::WriteOptions wopt;
  wopt.redact = args.redact;
  const auto& host = window.samples.back().host;
  if (auto st = snapshot::write_snapshot(args.output, host, window.captured, window.extras(), wopt);
      !st) {
    std::cerr << "vmtune snapshot: " << core::escape_text(st.error().to_string()) << "\n";
    return kExitRuntime;
  }
  std::size_t files = 0;
  for (const auto& c : window.captured) files += c.record.files.size();
  std::cerr << "vmtune snapshot: wrote " << core::escape_text(args.output) << " (" << files
            << " files in " << window.captured.size() << " readings, " << args.window
            << " s apart)\n";
  return kExitOk;
}

/// `vmtune snapshot --help`.
constexpr const char* kHelp =
    R"(Capture the files vmtune reads, twice --window seconds apart, into a .tar.gz to attach
to a ticket; read it back anywhere with --root FILE.)";

}  // namespace

void add_snapshot_command(CLI::App& app, CommandTable& table) {
  auto [sub, args] = add_command(app, table, "snapshot", kHelp, run_snapshot);
  add_output_option(sub, args->output)
      ->description(
          "Snapshot file to write (e.g. host.vmtune.tar.gz), atomically; an existing "
          "FIFO, device, directory or symlink is refused")
      ->required();
  sub->add_option("-w,--window", args->window, "Seconds between the two readings")
      ->check(finite_range(0.0, 3600.0));
  sub->add_option("--trace", args->trace,
                  "Also trace memory events with eBPF for S seconds and keep their statistics")
      ->type_name("S")
      ->check(finite_range(0.0, 3600.0));
  sub->add_flag("--redact", args->redact, "Leave out process command lines and the host name");
  add_pg_options(sub, args->pg, "Leave PostgreSQL out of the snapshot");
}

}  // namespace vmtune::app
