// SPDX-License-Identifier: GPL-2.0-or-later
#include "app/evaluate.hpp"

#include <filesystem>
#include <iostream>

#include "app/exit_codes.hpp"
#include "core/escape.hpp"
#include "plan/plan.hpp"
#include "rules/audit.hpp"
#include "rules/config.hpp"
#include "rules/engine.hpp"

namespace vmtune::app {
namespace {

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

void report_error(const std::string& command, const std::string& what, const core::Error& e) {
  std::cerr << "vmtune " << command << ": " << what << ": " << core::escape_text(e.to_string())
            << "\n";
}

}  // namespace

std::optional<rules::Config> load_config(const core::RootFs& fs, const EvaluateArgs& args,
                                         const std::string& command) {
  core::Result<rules::Config> c = rules::Config{};
  if (!args.config.empty()) {
    c = rules::load_config(args.config, args.config);
  } else if (fs.exists(core::Tree::etc, "vmtune/vmtune.toml")) {
    auto text = fs.read_text(core::Tree::etc, "vmtune/vmtune.toml", 1u << 20);
    c = text ? rules::parse_config(*text, fs.logical(core::Tree::etc, "vmtune/vmtune.toml"))
             : core::Result<rules::Config>(std::move(text).error());
  }
  if (!c) {
    report_error(command, "cannot read configuration", c.error());
    return std::nullopt;
  }
  return std::move(*c);
}

std::optional<rules::Engine> load_engine(const core::RootFs& fs, const EvaluateArgs& args,
                                         const std::string& command) {
  std::vector<rules::RuleDir> dirs;
  dirs.push_back(rules::RuleDir{catalogue_dir(), false});
  for (const auto& d : args.rule_dirs) dirs.push_back(rules::RuleDir{d, false});
  if (fs.is_live(core::Tree::etc)) {
    dirs.push_back(rules::RuleDir{fs.real(core::Tree::etc, "vmtune/rules.d"), true});
  }
  auto engine = rules::Engine::load(dirs);
  if (!engine) {
    report_error(command, "cannot load rules", engine.error());
    return std::nullopt;
  }
  return std::move(*engine);
}

void add_evaluate_options(CLI::App* sub, EvaluateArgs& args) {
  sub->add_option("-w,--window", args.window,
                  "Seconds between the two samples rates are computed from; 0 uses counters only")
      ->check(finite_range(0.0, 3600.0));
  sub->add_option("--trace", args.trace, "Also trace memory events with eBPF for S seconds")
      ->type_name("S")
      ->check(finite_range(0.0, 3600.0));
  sub->add_option("--rules", args.rule_dirs, "Also load the rule files in DIR (repeatable)")
      ->type_name("DIR");
  sub->add_option("--config", args.config,
                  "Configuration file (default: /etc/vmtune/vmtune.toml when present)")
      ->type_name("FILE");
  sub->add_flag("--no-processes", args.no_processes, "Skip the per-process scan");
  add_pg_options(sub, args.pg, "Do not look for PostgreSQL");
}

std::optional<Evaluated> evaluate(Context& ctx, const EvaluateArgs& args,
                                  const std::string& command, int& exit_code) {
  exit_code = kExitInput;
  std::optional<sampler::Sampler> input;
  if (!open_sampler_or_report(ctx, input)) return std::nullopt;
  const auto engine = load_engine(input->fs(), args, command);
  if (!engine) return std::nullopt;
  const auto config = load_config(input->fs(), args, command);
  if (!config) return std::nullopt;

  sampler::Options opt;
  opt.processes = !args.no_processes;
  set_pg_options(args.pg, opt);
  if (args.trace > 0 && !input->live()) {
    std::cerr << "vmtune " << command
              << ": --trace reads the running kernel; ignored with --root\n";
  } else {
    opt.trace_s = args.trace;
  }
  const auto window = input->window(args.window, opt, progress_line(command), &ctx.stop);
  clear_progress();
  if (window.interrupted) {
    std::cerr << "vmtune " << command << ": interrupted before the second sample\n";
    exit_code = kExitInterrupted;
    return std::nullopt;
  }
  if (window.samples.empty()) {
    std::cerr << "vmtune " << command << ": the input holds no reading\n";
    return std::nullopt;
  }
  Evaluated out;
  out.snapshot = window.snapshot();
  out.evaluation = rules::audit(*engine, out.snapshot, *config);
  plan::attach_apply_lines(out.evaluation, out.snapshot);
  out.rules_loaded = engine->rules().size();
  out.live = input->live();
  out.input = out.live ? "live" : ctx.global.root;
  if (out.input.empty()) out.input = "tree given by --proc/--sys/--etc";
  exit_code = kExitOk;
  return out;
}

}  // namespace vmtune::app
