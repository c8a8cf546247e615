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
#include "core/escape.hpp"
#include "rules/audit.hpp"
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
  PgArgs pg;
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

/// The catalogue, then --rules DIRs, then the live machine's /etc/vmtune/rules.d (optional;
/// a captured tree's rules.d is not ours to run).
std::optional<rules::Engine> load_engine(const core::RootFs& fs, const AuditArgs& args) {
  std::vector<rules::RuleDir> dirs;
  dirs.push_back(rules::RuleDir{catalogue_dir(), false});
  for (const auto& d : args.rule_dirs) dirs.push_back(rules::RuleDir{d, false});
  if (fs.is_live(core::Tree::etc)) {
    dirs.push_back(rules::RuleDir{fs.real(core::Tree::etc, "vmtune/rules.d"), true});
  }
  auto engine = rules::Engine::load(dirs);
  if (!engine) {
    report_error("cannot load rules", engine.error());
    return std::nullopt;
  }
  return std::move(*engine);
}

/// --config FILE, else the input's /etc/vmtune/vmtune.toml when present (read through RootFs:
/// in a captured tree nothing resolves outside it), else the defaults.
std::optional<rules::Config> load_config(const core::RootFs& fs, const AuditArgs& args) {
  if (!args.config.empty()) {
    auto c = rules::load_config(args.config, args.config);
    if (!c) {
      report_error("cannot read configuration", c.error());
      return std::nullopt;
    }
    return std::move(*c);
  }
  if (!fs.exists(core::Tree::etc, "vmtune/vmtune.toml")) return rules::Config{};
  auto text = fs.read_text(core::Tree::etc, "vmtune/vmtune.toml", 1u << 20);
  auto c = text ? rules::parse_config(*text, fs.logical(core::Tree::etc, "vmtune/vmtune.toml"))
                : core::Result<rules::Config>(std::move(text).error());
  if (!c) {
    report_error("cannot read configuration", c.error());
    return std::nullopt;
  }
  return std::move(*c);
}

std::string render(const AuditArgs& args, const ui::report::AuditReport& report) {
  if (args.format == "json") return ui::report::render_audit_json(report);
  if (args.format == "markdown") return ui::report::render_audit_markdown(report);
  const bool color = (args.output.empty() || args.output == "-") && stdout_wants_color();
  return ui::report::render_audit_text(report, color);
}

int run_audit(Context& ctx, const AuditArgs& args) {
  std::optional<sampler::Sampler> input;
  if (!open_sampler_or_report(ctx, input)) return kExitInput;
  const auto engine = load_engine(input->fs(), args);
  if (!engine) return kExitInput;
  const auto config = load_config(input->fs(), args);
  if (!config) return kExitInput;

  sampler::Options opt;
  opt.processes = !args.no_processes;
  set_pg_options(args.pg, opt);
  if (args.trace > 0 && !input->live()) {
    std::cerr << "vmtune audit: --trace reads the running kernel; ignored with --root\n";
  } else {
    opt.trace_s = args.trace;
  }
  const auto window = input->window(args.window, opt, progress_line("audit"), &ctx.stop);
  clear_progress();
  if (window.interrupted) {
    std::cerr << "vmtune audit: interrupted before the second sample\n";
    return kExitInterrupted;
  }
  if (window.samples.empty()) {
    std::cerr << "vmtune audit: the input holds no reading\n";
    return kExitInput;
  }
  const auto snap = window.snapshot();

  ui::report::AuditReport report;
  report.evaluation = rules::audit(*engine, snap, *config);
  report.host = snap.current.host;
  report.live = input->live();
  report.input = report.live ? "live" : ctx.global.root;
  if (report.input.empty()) report.input = "tree given by --proc/--sys/--etc";
  report.window_s = snap.rates ? snap.rates->interval_s : 0;
  report.traced = snap.current.bpf.ok();
  report.rules_loaded = engine->rules().size();
  report.unavailable = snap.current.unavailable;
  const auto min = rules::severity_from_string(args.min_severity);
  if (min && *min != rules::Severity::info) {
    report.min_severity = min;
    std::erase_if(report.evaluation.findings, [&](const rules::Finding& f) {
      return static_cast<int>(f.severity) < static_cast<int>(*min);
    });
  }
  if (const int rc = write_output(args.output, render(args, report)); rc != kExitOk) return rc;
  return exit_code_for(report.evaluation);
}

/// `vmtune audit --help`.
constexpr const char* kHelp =
    R"(Explain what is wrong with memory on this machine (or a --root snapshot): findings with
evidence, what to change (current -> proposed, where today's value comes from, predicted
effect), why, and references. Exit 0 nothing at warning or above, 1 warnings,
2 critical, 4 unreadable input, rule or configuration file.)";

}  // namespace

void add_audit_command(CLI::App& app, CommandTable& table) {
  auto args = std::make_shared<AuditArgs>();
  auto* sub = app.add_subcommand("audit", kHelp);
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
  add_pg_options(sub, args->pg, "Do not look for PostgreSQL");
  table.add(sub, [args](Context& ctx) -> int { return run_audit(ctx, *args); });
}

}  // namespace vmtune::app
