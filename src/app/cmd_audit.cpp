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
#include "app/evaluate.hpp"
#include "app/exit_codes.hpp"
#include "ui/report/audit_json.hpp"
#include "ui/report/audit_markdown.hpp"
#include "ui/report/audit_text.hpp"

namespace vmtune::app {
namespace {

struct AuditArgs {
  EvaluateArgs evaluate;
  std::string format = "text";
  std::string min_severity = "info";
  std::string output;
};

int exit_code_for(const rules::Evaluation& eval) {
  int rc = kExitOk;
  for (const auto& f : eval.findings) {
    if (f.severity == rules::Severity::critical) return kExitCritical;
    if (f.severity == rules::Severity::warning) rc = kExitWarning;
  }
  return rc;
}

std::string render(const AuditArgs& args, const ui::report::AuditReport& report) {
  if (args.format == "json") return ui::report::render_audit_json(report);
  if (args.format == "markdown") return ui::report::render_audit_markdown(report);
  const bool color = (args.output.empty() || args.output == "-") && stdout_wants_color();
  return ui::report::render_audit_text(report, color);
}

int run_audit(Context& ctx, const AuditArgs& args) {
  int rc = kExitOk;
  auto done = evaluate(ctx, args.evaluate, "audit", rc);
  if (!done) return rc;
  const auto& snap = done->snapshot;
  ui::report::AuditReport report;
  report.evaluation = std::move(done->evaluation);
  report.host = snap.current.host;
  report.live = done->live;
  report.input = done->input;
  report.window_s = snap.rates ? snap.rates->interval_s : 0;
  report.traced = snap.current.bpf.ok();
  report.rules_loaded = done->rules_loaded;
  report.unavailable = snap.current.unavailable;
  const auto min = rules::severity_from_string(args.min_severity);
  if (min && *min != rules::Severity::info) {
    report.min_severity = min;
    std::erase_if(report.evaluation.findings, [&](const rules::Finding& f) {
      return static_cast<int>(f.severity) < static_cast<int>(*min);
    });
  }
  if (rc = write_output(args.output, render(args, report)); rc != kExitOk) return rc;
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
  auto [sub, args] = add_command(app, table, "audit", kHelp, run_audit);
  add_evaluate_options(sub, args->evaluate);
  sub->add_option("-f,--format", args->format, "Output format")
      ->check(CLI::IsMember({"text", "json", "markdown"}));
  sub->add_option("--min-severity", args->min_severity, "Leave out findings below LEVEL")
      ->type_name("LEVEL")
      ->check(CLI::IsMember({"info", "warning", "critical"}));
  add_output_option(sub, args->output);
}

}  // namespace vmtune::app
