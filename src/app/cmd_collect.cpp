// SPDX-License-Identifier: GPL-2.0-or-later
// `vmtune collect`: print the raw sample (and rates when two samples were taken).

#include <iostream>

#include "app/commands.hpp"
#include "app/exit_codes.hpp"
#include "json/sample_json.hpp"
#include "ui/report/collect_text.hpp"

namespace vmtune::app {
namespace {

struct CollectArgs {
  std::string format = "text";
  double interval = 0;
  int count = 1;
  bool no_processes = false;
  PgArgs pg;
  std::string output;
};

int run_collect(Context& ctx, const CollectArgs& args) {
  std::optional<sampler::Sampler> input;
  if (!open_sampler_or_report(ctx, input)) return kExitInput;
  sampler::Options opt;
  opt.processes = !args.no_processes;
  set_pg_options(args.pg, opt);
  const bool json = args.format == "json";
  std::string out;
  int reports = 0;
  auto emit = [&](const model::Snapshot& snap) {
    if (json) {
      out += json::dump(json::snapshot_to_json(snap), args.count > 1 ? -1 : 2) + "\n";
    } else {
      if (reports > 0) out += "\n";
      out += ui::report::render_collect_text(snap);
    }
    ++reports;
  };
  if (!input->live()) {
    emit(input->window(0, opt).snapshot());
    return write_output(args.output, out);
  }
  // Live: with an interval, one extra reading first so every report carries rates.
  const bool with_rates = args.interval > 0;
  const int samples = with_rates ? args.count + 1 : args.count;
  std::optional<model::Sample> prev;
  for (int i = 0; i < samples && !ctx.stop.load(); ++i) {
    if (i > 0 && !sampler::wait_interval(args.interval, {}, &ctx.stop)) break;
    auto s = input->sample(opt);
    if (with_rates && !prev) {
      prev = std::move(s);
      continue;
    }
    emit(model::make_snapshot(s, prev));
    prev = std::move(s);
    if (args.count > 1 && args.output.empty()) {
      std::cout << out << std::flush;  // stream reports as they come
      out.clear();
    }
  }
  const int rc = write_output(args.output, out);
  if (rc != kExitOk) return rc;
  return ctx.stop.load() && reports == 0 ? kExitInterrupted : kExitOk;
}

/// `vmtune collect --help`.
constexpr const char* kHelp =
    R"(Print one sample of the machine's memory state (or of --root). With --interval, samples
are taken that far apart and every report carries per-second rates of every counter.)";

}  // namespace

void add_collect_command(CLI::App& app, CommandTable& table) {
  auto [sub, args] = add_command(app, table, "collect", kHelp, run_collect);
  sub->add_option("-f,--format", args->format, "Output format")
      ->check(CLI::IsMember({"text", "json"}));
  sub->add_option("-i,--interval", args->interval,
                  "Seconds between samples; 0 takes a single sample without rates")
      ->check(finite_range(0.0, 86400.0));
  sub->add_option("-n,--count", args->count,
                  "Number of reports (JSON: one document per line when more than one)")
      ->check(CLI::Range(1, 1000000));
  sub->add_flag("--no-processes", args->no_processes, "Skip the per-process scan");
  add_pg_options(sub, args->pg, "Skip PostgreSQL discovery and connection");
  add_output_option(sub, args->output);
}

}  // namespace vmtune::app
