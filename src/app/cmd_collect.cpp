// SPDX-License-Identifier: GPL-2.0-or-later
// `vmtune collect`: print the raw sample (and rates when two samples were taken).

#include <iostream>

#include "app/commands.hpp"
#include "app/exit_codes.hpp"
#include "app/postgres_hook.hpp"
#include "json/sample_json.hpp"
#include "ui/report/collect_text.hpp"

namespace vmtune::app {
namespace {

struct CollectArgs {
  std::string format = "text";
  double interval = 0;
  int count = 1;
  bool no_processes = false;
  PgOptions pg;
  std::string output;
};

}  // namespace

void add_collect_command(CLI::App& app, CommandTable& table) {
  auto args = std::make_shared<CollectArgs>();
  auto* sub = app.add_subcommand(
      "collect",
      "Print one sample of the machine's memory state (or of --root). With --interval, samples\n"
      "are taken that far apart and every report carries per-second rates of every counter.");
  sub->add_option("-f,--format", args->format, "Output format")
      ->check(CLI::IsMember({"text", "json"}));
  sub->add_option("-i,--interval", args->interval,
                  "Seconds between samples; 0 takes a single sample without rates")
      ->check(finite_range(0.0, 86400.0));
  sub->add_option("-n,--count", args->count,
                  "Number of reports (JSON: one document per line when more than one)")
      ->check(CLI::Range(1, 1000000));
  sub->add_flag("--no-processes", args->no_processes, "Skip the per-process scan");
  sub->add_option("--pg", args->pg.conninfo,
                  "libpq connection string for PostgreSQL (default: the PG* environment, else "
                  "each discovered server's socket)")
      ->type_name("CONNINFO");
  sub->add_flag("--no-pg", args->pg.disabled, "Skip PostgreSQL discovery and connection");
  add_output_option(sub, args->output);
  table.add(sub, [args](Context& ctx) -> int {
    std::optional<Input> input;
    if (!open_input_or_report(ctx, input)) return kExitInput;
    collect::CollectOptions opt;
    opt.processes = !args->no_processes;
    const bool with_rates = args->interval > 0 || input->replaying_snapshot();
    const int samples = input->live() && args->interval > 0 ? args->count + 1 : args->count;
    std::string out;
    const bool json = args->format == "json";
    std::optional<model::Sample> prev;
    int reports = 0;
    auto emit = [&](model::Snapshot snap) {
      if (json) {
        out += json::dump(json::snapshot_to_json(snap), args->count > 1 ? -1 : 2) + "\n";
      } else {
        if (reports > 0) out += "\n";
        out += ui::report::render_collect_text(snap);
      }
      ++reports;
    };
    if (!input->live()) {
      auto all = input->sample(0, 1, opt);
      apply_snapshot_extras(*input, all.back());
      attach_postgres_to_sample(ctx, *input, all.back(), args->pg);
      std::optional<model::Sample> before;
      if (all.size() > 1) before = all[all.size() - 2];
      emit(model::make_snapshot(all.back(), std::move(before)));
    } else {
      for (int i = 0; i < samples && !ctx.stop.load(); ++i) {
        if (i > 0 && !wait_interval(args->interval, {}, &ctx.stop)) break;
        auto s = input->sample_one(opt);
        attach_postgres_to_sample(ctx, *input, s, args->pg);
        if (with_rates && !prev) {
          prev = std::move(s);
          continue;
        }
        auto snap = model::make_snapshot(s, prev);
        prev = std::move(s);
        emit(std::move(snap));
        if (args->count > 1 && args->output.empty()) {
          std::cout << out << std::flush;  // stream reports as they come
          out.clear();
        }
      }
    }
    const int rc = write_output(args->output, out);
    if (rc != kExitOk) return rc;
    return ctx.stop.load() && reports == 0 ? kExitInterrupted : kExitOk;
  });
}

}  // namespace vmtune::app
