// SPDX-License-Identifier: GPL-2.0-or-later
// `vmtune snapshot -o FILE`: capture exactly what the collectors read, twice a window apart,
// into one compressed tar that any command's --root can read back.

#include <iostream>

#include "app/commands.hpp"
#include "app/exit_codes.hpp"
#include "app/postgres_hook.hpp"
#include "core/escape.hpp"
#include "json/sample_json.hpp"
#include "snapshot/snapshot.hpp"

namespace vmtune::app {
namespace {

struct SnapshotArgs {
  std::string output;
  double window = 3;
  bool redact = false;
  PgOptions pg;
};

}  // namespace

void add_snapshot_command(CLI::App& app, CommandTable& table) {
  auto args = std::make_shared<SnapshotArgs>();
  auto* sub = app.add_subcommand(
      "snapshot",
      "Capture the files vmtune reads, twice --window seconds apart, into a .tar.gz to attach\n"
      "to a ticket; read it back anywhere with --root FILE.");
  add_output_option(sub, args->output)
      ->description(
          "Snapshot file to write (e.g. host.vmtune.tar.gz), atomically; an existing "
          "FIFO, device, directory or symlink is refused")
      ->required();
  sub->add_option("-w,--window", args->window, "Seconds between the two readings")
      ->check(finite_range(0.0, 3600.0));
  sub->add_flag("--redact", args->redact, "Leave out process command lines and the host name");
  sub->add_option("--pg", args->pg.conninfo,
                  "libpq connection string for PostgreSQL (default: the PG* environment, else "
                  "each discovered server's socket)")
      ->type_name("CONNINFO");
  sub->add_flag("--no-pg", args->pg.disabled, "Leave PostgreSQL out of the snapshot");
  table.add(sub, [args](Context& ctx) -> int {
    std::optional<Input> input;
    if (!open_input_or_report(ctx, input)) return kExitInput;
    if (!input->live()) {
      std::cerr << "vmtune snapshot: reads the live machine only; --root/--proc/--sys/--etc "
                   "cannot be combined with it\n";
      return kExitUsage;
    }
    std::vector<snapshot::CapturedSample> captured;
    model::HostInfo host;
    const bool tty = stderr_is_tty();
    for (int i = 0; i < 2; ++i) {
      if (i == 1) {
        const bool done = wait_interval(
            args->window,
            [tty](double elapsed, double total) {
              if (tty) {
                std::cerr << "\rvmtune snapshot: second reading in "
                          << static_cast<int>(total - elapsed + 0.999) << " s " << std::flush;
              }
            },
            &ctx.stop);
        if (tty) std::cerr << "\r\033[K" << std::flush;
        if (!done) {
          std::cerr << "vmtune snapshot: interrupted, nothing written\n";
          return kExitInterrupted;
        }
      }
      auto record = std::make_shared<core::ReadRecord>();
      core::RootFs fs = input->fs();
      fs.record_into(record);
      collect::CollectOptions opt;
      const auto sample = collect::collect_sample(fs, opt);
      host = sample.host;
      captured.push_back(snapshot::CapturedSample{std::move(*record), sample.monotonic_s,
                                                  sample.host.time_unix_ms});
    }
    json::Json extras = json::Json::object();
    if (!args->pg.disabled) {
      // PostgreSQL facts (discovery, connection, page cache) go into the snapshot as data, so
      // an offline audit of the file reasons about the database as well.
      model::Sample pg_sample;
      pg_sample.host = host;
      attach_postgres_to_sample(ctx, *input, pg_sample, args->pg);
      if (pg_sample.postgres.value)
        extras["postgres"] = json::postgres_to_json(*pg_sample.postgres.value);
    }
    snapshot::WriteOptions wopt;
    wopt.redact = args->redact;
    if (auto st = snapshot::write_snapshot(args->output, host, captured, extras, wopt); !st) {
      std::cerr << "vmtune snapshot: " << core::escape_text(st.error().to_string()) << "\n";
      return kExitRuntime;
    }
    std::size_t files = 0;
    for (const auto& c : captured) files += c.record.files.size();
    std::cerr << "vmtune snapshot: wrote " << core::escape_text(args->output) << " (" << files
              << " files in " << captured.size() << " readings, " << args->window << " s apart)\n";
    return kExitOk;
  });
}

}  // namespace vmtune::app
