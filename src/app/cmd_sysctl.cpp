// SPDX-License-Identifier: GPL-2.0-or-later
// `vmtune sysctl`: the snippet generator. Evaluates like `vmtune audit` (same sampler, same
// rules::audit), turns the findings into a plan (plan/plan.hpp) and prints it in the form a
// tool takes: a sysctl.d file (default), a tuned profile, postgresql.conf lines, kernel
// command-line parameters, tmpfiles.d lines, the plan as text, or JSON.
// Exit codes: 0 written (an empty snippet says so), 3 usage, 4 unreadable input / rule /
// config file, 5 output refused or not written, 130 interrupted.

#include <chrono>
#include <ctime>
#include <iostream>
#include <memory>

#include "app/commands.hpp"
#include "app/evaluate.hpp"
#include "app/exit_codes.hpp"
#include "core/escape.hpp"
#include "core/file.hpp"
#include "plan/plan.hpp"
#include "ui/sysctl/snippet.hpp"

namespace vmtune::app {
namespace {

struct SysctlArgs {
  EvaluateArgs evaluate;
  std::string format = "sysctl";
  std::string output;
  bool force = false;
};

std::string utc_now() {
  const auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

/// An existing output file is overwritten only when vmtune wrote it (its marker line) or with
/// --force. Read without following a link, at most 1 MiB.
bool may_overwrite(const std::string& path, bool force) {
  if (force || path.empty() || path == "-") return true;
  core::OpenPolicy policy;
  policy.follow_final_link = false;
  policy.max_bytes = 1u << 20;
  auto text = core::read_file(path, policy);
  if (!text) {
    if (text.error().kind == core::ErrorKind::missing) return true;
    std::cerr << "vmtune sysctl: " << core::escape_text(text.error().to_string())
              << "; not overwritten (--force to replace it)\n";
    return false;
  }
  const auto head = std::string_view(*text).substr(0, 1024);
  if (head.find(ui::sysctl::kMarker) != std::string_view::npos) return true;
  std::cerr << "vmtune sysctl: " << core::escape_text(path)
            << " exists and was not written by vmtune; not overwritten (--force to replace it)\n";
  return false;
}

ui::sysctl::Header header_for(const Evaluated& done) {
  ui::sysctl::Header h;
  h.host = done.snapshot.current.host.hostname;
  h.kernel = done.snapshot.current.host.kernel_release;
  h.generated = utc_now();
  h.input = done.input;
  const auto& ctx = done.evaluation.context;
  if (ctx.restricted()) {
    h.context_note = std::string("vmtune ran ") +
                     (ctx.in_container ? "inside a container" : "in a memory-limited cgroup") +
                     ": vm.*, THP and hugetlb settings are host-wide; apply them on the host.";
  }
  return h;
}

std::string render(const SysctlArgs& args, const plan::Plan& plan, const Evaluated& done) {
  using namespace ui::sysctl;
  const auto h = header_for(done);
  if (args.format == "tuned") {
    const auto& conf = done.snapshot.current.sysctl_conf.value;
    return render_tuned(plan, h, conf ? conf->tuned_profile : std::string());
  }
  if (args.format == "postgresql") return render_postgresql(plan, h);
  if (args.format == "cmdline") return render_cmdline(plan, h);
  if (args.format == "tmpfiles") return render_tmpfiles(plan, h);
  if (args.format == "plan") return render_plan_text(plan, h);
  if (args.format == "json") return json::dump(plan_to_json(plan, h), 2) + "\n";
  return render_sysctl_conf(plan, h);
}

int run_sysctl(Context& ctx, const SysctlArgs& args) {
  if (!may_overwrite(args.output, args.force)) return kExitRuntime;
  int rc = kExitOk;
  auto done = evaluate(ctx, args.evaluate, "sysctl", rc);
  if (!done) return rc;
  const auto plan = plan::make_plan(done->evaluation, done->snapshot);
  return write_output(args.output, render(args, plan, *done));
}

/// `vmtune sysctl --help`.
constexpr const char* kHelp =
    R"(Write what the audit proposes in the form that applies it: a file for /etc/sysctl.d/
(default), a tuned profile, postgresql.conf lines, kernel command-line parameters or
tmpfiles.d lines; --format plan lists the steps in the order that works. Every setting
carries the rules and evidence behind it. Nothing is applied.)";

}  // namespace

void add_sysctl_command(CLI::App& app, CommandTable& table) {
  auto [sub, args] = add_command(app, table, "sysctl", kHelp, run_sysctl);
  add_evaluate_options(sub, args->evaluate);
  sub->add_option("-f,--format", args->format, "Output format")
      ->check(
          CLI::IsMember({"sysctl", "tuned", "postgresql", "cmdline", "tmpfiles", "plan", "json"}));
  add_output_option(sub, args->output);
  sub->add_flag("--force", args->force, "Overwrite an output file vmtune did not write");
}

}  // namespace vmtune::app
