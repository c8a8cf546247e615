// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// The path every command that gives advice shares (audit, sysctl, and later apply and top):
// open the input, load the rules and the configuration, sample a window with the Sampler and
// run rules::audit on it. Errors are printed as "vmtune <command>: ..." with the exit code to
// return.

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "app/commands.hpp"
#include "model/derive.hpp"
#include "rules/config.hpp"
#include "rules/engine.hpp"
#include "rules/finding.hpp"

namespace vmtune::app {

/// The options that decide what is evaluated.
struct EvaluateArgs {
  double window = 3;
  double trace = 0;
  std::vector<std::string> rule_dirs;
  std::string config;
  bool no_processes = false;
  PgArgs pg;
};

/// --window, --trace, --rules, --config, --no-processes, --pg, --no-pg.
void add_evaluate_options(CLI::App* sub, EvaluateArgs& args);

struct Evaluated {
  model::Snapshot snapshot;
  rules::Evaluation evaluation;
  std::size_t rules_loaded = 0;
  bool live = false;
  std::string input;  ///< "live", the --root given, or "tree given by --proc/--sys/--etc"
};

/// The catalogue, then --rules DIRs, then the live machine's /etc/vmtune/rules.d (optional;
/// a captured tree's rules.d is not ours to run). Prints why on failure.
std::optional<rules::Engine> load_engine(const core::RootFs& fs, const EvaluateArgs& args,
                                         const std::string& command);

/// --config FILE, else the input's /etc/vmtune/vmtune.toml when present (read through RootFs:
/// in a captured tree nothing resolves outside it), else the defaults. Prints why on failure.
std::optional<rules::Config> load_config(const core::RootFs& fs, const EvaluateArgs& args,
                                         const std::string& command);

/// Samples and evaluates; on failure prints why and sets `exit_code` (4 input, 130 interrupted).
std::optional<Evaluated> evaluate(Context& ctx, const EvaluateArgs& args,
                                  const std::string& command, int& exit_code);

}  // namespace vmtune::app
