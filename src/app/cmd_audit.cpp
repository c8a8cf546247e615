// SPDX-License-Identifier: GPL-2.0-or-later
// `vmtune audit`: sample the machine (or a snapshot) over a window, evaluate every rule, attach
// sysctl.d provenance, predicted effects and the container context, and print the report.
// Exit codes (app/exit_codes.hpp): 0 nothing at warning or above among the findings shown,
// 1 warnings, 2 critical, 3 usage, 4 unreadable input / rule / config file, 5 output error,
// 130 interrupted before a result.

#include <algorithm>
#include <iostream>
#include <memory>

#include "app/commands.hpp"
#include "app/exit_codes.hpp"
#include "app/postgres_hook.hpp"
#include "app/trace_hook.hpp"
#include "collect/source_util.hpp"
#include "core/escape.hpp"
#include "rules/context.hpp"
#include "rules/effects.hpp"
#include "rules/engine.hpp"
#include "rules/provenance.hpp"
#include "ui/report/audit_json.hpp"
#include "ui/report/audit_markdown.hpp"
#include "ui/report/audit_text.hpp"

namespace vmtune::app {
namespace {

struct AuditArgs {
  double window = 3;
  double trace = 0;
  std::string format = "text";
  std::string min_severity = "info";
  std::vector<std::string> rule_dirs;
  std::string config;
  std::string output;
  bool no_processes = false;
  std::string pg;
  bool no_pg = false;
};

/// The catalogue shipped with vmtune: the source tree's rules/ when running from a build
/// directory, else the installed copy.
std::filesystem::path catalogue_dir() {
  std::error_code ec;
#ifdef VMTUNE_SOURCE_RULES_DIR
  if (std::filesystem::is_directory(VMTUNE_SOURCE_RULES_DIR, ec)) return VMTUNE_SOURCE_RULES_DIR;
#endif
#ifdef VMTUNE_INSTALL_RULES_DIR
  return VMTUNE_INSTALL_RULES_DIR;
#else
  return "rules";
#endif
}

int exit_code_for(const rules::Evaluation& eval) {
  int rc = kExitOk;
  for (const auto& f : eval.findings) {
    if (f.severity == rules::Severity::critical) return kExitCritical;
    if (f.severity == rules::Severity::warning) rc = kExitWarning;
  }
  return rc;
}

void report_error(const std::string& what, const core::Error& e) {
  std::cerr << "vmtune audit: " << what << ": " << core::escape_text(e.to_string()) << "\n";
}

int run_audit(Context& ctx, const AuditArgs& args) {
  std::optional<Input> input;
  if (!open_input_or_report(ctx, input)) return kExitInput;
  const auto& fs = input->fs();

  // Rules: the catalogue, then --rules DIRs, then /etc/vmtune/rules.d (optional).
  std::vector<rules::RuleDir> dirs;
  dirs.push_back(rules::RuleDir{catalogue_dir(), false});
  for (const auto& d : args.rule_dirs) dirs.push_back(rules::RuleDir{d, false});
  // A captured tree's rules.d is not ours to run: only the live machine's is loaded.
  if (fs.is_live(core::Tree::etc)) {
    dirs.push_back(rules::RuleDir{fs.real(core::Tree::etc, "vmtune/rules.d"), true});
  }
  auto engine = rules::Engine::load(dirs);
  if (!engine) {
    report_error("cannot load rules", engine.error());
    return kExitInput;
  }

  rules::Config config;
  if (!args.config.empty()) {
    auto c = rules::load_config(args.config, args.config);
    if (!c) {
      report_error("cannot read configuration", c.error());
      return kExitInput;
    }
    config = std::move(*c);
  } else if (fs.exists(core::Tree::etc, "vmtune/vmtune.toml")) {
    // Read through RootFs: in a captured tree nothing resolves outside it.
    auto text = fs.read_text(core::Tree::etc, "vmtune/vmtune.toml", 1u << 20);
    auto c = text ? rules::parse_config(*text, fs.logical(core::Tree::etc, "vmtune/vmtune.toml"))
                  : core::Result<rules::Config>(std::move(text).error());
    if (!c) {
      report_error("cannot read configuration", c.error());
      return kExitInput;
    }
    config = std::move(*c);
  }

  collect::CollectOptions opt;
  opt.processes = !args.no_processes;
  const bool tty = stderr_is_tty();
  std::vector<model::Sample> samples;
  bool traced = false;
  if (input->live()) {
    samples.push_back(input->sample_one(opt));
    model::Sample traced_part;
    double waited = 0;
    if (args.trace > 0) {
#if VMTUNE_TRACE_HOOK_IMPLEMENTED
      attach_trace_to_sample(ctx, *input, traced_part, TraceRequest{args.trace, tty});
      traced = traced_part.bpf.ok();
      waited = args.trace;
#else
      std::cerr << "vmtune audit: eBPF tracing is not built into this binary; continuing "
                   "without --trace\n";
#endif
    }
    if (args.window > 0) {
      const double rest = std::max(0.0, args.window - waited);
      const bool done = wait_interval(
          rest,
          [tty](double elapsed, double total) {
            if (tty) {
              std::cerr << "\rvmtune audit: sampling, " << static_cast<int>(total - elapsed + 0.999)
                        << " s left " << std::flush;
            }
          },
          &ctx.stop);
      if (tty) std::cerr << "\r\033[K" << std::flush;
      if (!done) {
        std::cerr << "vmtune audit: interrupted before the second sample\n";
        return kExitInterrupted;
      }
      samples.push_back(input->sample_one(opt));
    }
    if (traced || traced_part.bpf.state != model::SourceState::not_collected) {
      samples.back().bpf = std::move(traced_part.bpf);
      for (auto& u : traced_part.unavailable)
        collect::add_unavailable(samples.back(), std::move(u));
    }
  } else {
    if (args.trace > 0) {
      std::cerr << "vmtune audit: --trace reads the running kernel; ignored with --root\n";
    }
    samples = input->sample(0, 1, opt);
    if (samples.empty()) {
      std::cerr << "vmtune audit: the input holds no reading\n";
      return kExitInput;
    }
    apply_snapshot_extras(*input, samples.back());
    traced = samples.back().bpf.ok();
  }
#if VMTUNE_POSTGRES_HOOK_IMPLEMENTED
  if (!input->replaying_snapshot()) {
    attach_postgres_to_sample(ctx, *input, samples.back(), PgOptions{args.pg, args.no_pg});
  }
#endif

  std::optional<model::Sample> previous;
  if (samples.size() > 1) previous = samples[samples.size() - 2];
  const auto snap = model::make_snapshot(samples.back(), std::move(previous));

  rules::Evaluation eval = engine->evaluate(snap, config);
  rules::attach_provenance(eval, snap.current);
  rules::attach_effects(eval, snap.current);
  const auto context = rules::detect_context(snap.current);
  rules::apply_context(eval, context, snap);

  ui::report::AuditReport report;
  report.host = snap.current.host;
  report.live = input->live();
  report.input = report.live ? "live" : ctx.global.root;
  if (report.input.empty()) report.input = "tree given by --proc/--sys/--etc";
  report.window_s = snap.rates ? snap.rates->interval_s : 0;
  report.traced = traced;
  report.rules_loaded = engine->rules().size();
  report.context = context;
  report.unavailable = snap.current.unavailable;
  const auto min = rules::severity_from_string(args.min_severity);
  if (min && *min != rules::Severity::info) {
    report.min_severity = min;
    std::erase_if(eval.findings, [&](const rules::Finding& f) {
      return static_cast<int>(f.severity) < static_cast<int>(*min);
    });
  }
  report.evaluation = std::move(eval);

  std::string text;
  if (args.format == "json") {
    text = ui::report::render_audit_json(report);
  } else if (args.format == "markdown") {
    text = ui::report::render_audit_markdown(report);
  } else {
    const bool color = (args.output.empty() || args.output == "-") && stdout_wants_color();
    text = ui::report::render_audit_text(report, color);
  }
  if (const int rc = write_output(args.output, text); rc != kExitOk) return rc;
  return exit_code_for(report.evaluation);
}

}  // namespace

void add_audit_command(CLI::App& app, CommandTable& table) {
  auto args = std::make_shared<AuditArgs>();
  auto* sub = app.add_subcommand(
      "audit",
      "Explain what is wrong with memory on this machine (or a --root snapshot): findings with\n"
      "evidence, what to change (current -> proposed, where today's value comes from, predicted\n"
      "effect), why, and references. Exit 0 nothing at warning or above, 1 warnings,\n"
      "2 critical, 4 unreadable input, rule or configuration file.");
  sub->add_option("-w,--window", args->window,
                  "Seconds between the two samples rates are computed from; 0 uses counters only")
      ->check(finite_range(0.0, 3600.0));
  sub->add_option("--trace", args->trace, "Also trace memory events with eBPF for S seconds")
      ->type_name("S")
      ->check(finite_range(0.0, 3600.0));
  sub->add_option("-f,--format", args->format, "Output format")
      ->check(CLI::IsMember({"text", "json", "markdown"}));
  sub->add_option("--min-severity", args->min_severity, "Leave out findings below LEVEL")
      ->type_name("LEVEL")
      ->check(CLI::IsMember({"info", "warning", "critical"}));
  sub->add_option("--rules", args->rule_dirs, "Also load the rule files in DIR (repeatable)")
      ->type_name("DIR");
  sub->add_option("--config", args->config,
                  "Configuration file (default: /etc/vmtune/vmtune.toml when present)")
      ->type_name("FILE");
  add_output_option(sub, args->output);
  sub->add_flag("--no-processes", args->no_processes, "Skip the per-process scan");
  sub->add_option("--pg", args->pg, "PostgreSQL connection string (libpq)")->type_name("CONNINFO");
  sub->add_flag("--no-pg", args->no_pg, "Do not look for PostgreSQL");
  table.add(sub, [args](Context& ctx) -> int { return run_audit(ctx, *args); });
}

}  // namespace vmtune::app
