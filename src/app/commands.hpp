// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// Subcommand registration. Each subcommand lives in its own cmd_<name>.cpp with an
// add_<name>_command() that declares its options on a CLI11 subcommand and returns the code
// that runs it. main.cpp → run() parses and runs the one the user chose.

#include <CLI/CLI.hpp>
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "sampler/sampler.hpp"

namespace vmtune::app {

struct Context {
  sampler::Origin global;         ///< --root, --proc, --sys, --etc
  std::atomic<bool> stop{false};  ///< set by SIGINT/SIGTERM
};

using Runner = std::function<int(Context&)>;
struct CommandTable {
  std::vector<std::pair<CLI::App*, Runner>> entries;
  void add(CLI::App* sub, Runner run) { entries.emplace_back(sub, std::move(run)); }
};

/// Declares subcommand `name` with its --help text and the function that runs it with the
/// options its flags fill in; returns the subcommand (to declare flags on) and those options.
template <typename Args>
std::pair<CLI::App*, std::shared_ptr<Args>> add_command(CLI::App& app, CommandTable& table,
                                                        const char* name, const char* help,
                                                        int (*runner)(Context&, const Args&)) {
  auto args = std::make_shared<Args>();
  auto* sub = app.add_subcommand(name, help);
  table.add(sub, [args, runner](Context& ctx) -> int { return runner(ctx, *args); });
  return {sub, args};
}

void add_collect_command(CLI::App& app, CommandTable& table);
void add_snapshot_command(CLI::App& app, CommandTable& table);
void add_audit_command(CLI::App& app, CommandTable& table);
void add_trace_command(CLI::App& app, CommandTable& table);
void add_sysctl_command(CLI::App& app, CommandTable& table);
void add_top_command(CLI::App& app, CommandTable& table);
/// `apply` and `rollback`.
void add_apply_commands(CLI::App& app, CommandTable& table);

/// Parses argv and runs the chosen subcommand; returns the process exit code.
int run(int argc, char** argv);

/// Opens the sampler on the input the global options name, printing the error (and returning
/// false) if it cannot be opened.
bool open_sampler_or_report(const Context& ctx, std::optional<sampler::Sampler>& out);

/// A progress line on stderr while the sampler waits: "\rvmtune <command>: <phase>, N s left",
/// only when stderr is a terminal (stderr_is_tty); clear_progress() erases it.
sampler::Progress progress_line(const std::string& command);
void clear_progress();

/// --pg CONNINFO and --no-pg, shared by every command that samples.
struct PgArgs {
  /// One per --pg; empty: the PG* environment, else each discovered server's socket.
  std::vector<std::string> conninfo;
  bool disabled = false;  ///< --no-pg
};
void add_pg_options(CLI::App* sub, PgArgs& pg, const std::string& disabled_help);
/// Sets the sampler's PostgreSQL options from the command line.
void set_pg_options(const PgArgs& pg, sampler::Options& options);

/// A number of seconds (or milliseconds) that must be finite and within [lo, hi]: NaN, inf
/// and out-of-range values are usage errors naming the option (exit 3).
CLI::Validator finite_range(double lo, double hi);
/// `-o,--output FILE`: not empty, and not an existing FIFO, device, directory or symlink.
CLI::Option* add_output_option(CLI::App* sub, std::string& target);

/// True when stderr is a terminal that understands "\r\033[K" (not TERM=dumb): progress lines.
bool stderr_is_tty();
bool stdout_wants_color();

/// Writes `text` to `path` atomically, or to stdout when path is empty or "-".
int write_output(const std::string& path, const std::string& text);

}  // namespace vmtune::app
