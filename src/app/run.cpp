// SPDX-License-Identifier: GPL-2.0-or-later
#include <unistd.h>

#include <cmath>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <sstream>
#include <string_view>

#include "app/commands.hpp"
#include "app/exit_codes.hpp"
#include "core/escape.hpp"
#include "core/file.hpp"
#include "core/temp_dir.hpp"
#include "core/version.hpp"

namespace vmtune::app {
namespace {

Context* g_ctx = nullptr;

extern "C" void on_signal(int /*sig*/) {
  if (g_ctx != nullptr) g_ctx->stop.store(true);
}

void install_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: sleeps and reads wake up
  // SIGHUP (the ssh session dropped) and SIGQUIT end a command the same way: apply --verify
  // must roll back rather than die with values changed.
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaction(sig, &sa, nullptr);
}

// The first word that is neither a global option nor its value, when it names no subcommand:
// CLI11 would say "A subcommand is required", which misleads.
std::optional<std::string> unknown_command(CLI::App& app, int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--") return std::nullopt;
    if (!arg.empty() && arg.front() == '-') {
      if (arg.find('=') == std::string_view::npos) {
        for (const char* takes_value : {"--root", "--proc", "--sys", "--etc"}) {
          if (arg == takes_value) ++i;
        }
      }
      continue;
    }
    for (const auto* sub : app.get_subcommands({})) {
      if (sub->get_name() == arg) return std::nullopt;
    }
    return std::string(arg);
  }
  return std::nullopt;
}

}  // namespace

bool stderr_is_tty() {
  const char* term = std::getenv("TERM");
  if (term == nullptr || *term == '\0' || std::string_view(term) == "dumb") return false;
  return ::isatty(STDERR_FILENO) == 1;
}

CLI::Validator finite_range(double lo, double hi) {
  std::ostringstream desc;
  desc << "in [" << lo << " - " << hi << "]";
  return CLI::Validator(
      [lo, hi](std::string& value) -> std::string {
        double v = 0;
        std::size_t used = 0;
        try {
          v = std::stod(value, &used);
        } catch (const std::exception&) {  // not a number, or beyond a double (1e400)
          used = 0;
        }
        if (used == 0 || used != value.size() || !std::isfinite(v) || v < lo || v > hi) {
          std::ostringstream msg;
          msg << "expected a finite number from " << lo << " to " << hi << ", got '"
              << core::escape_text(value) << "'";
          return msg.str();
        }
        return {};
      },
      desc.str());
}

CLI::Option* add_output_option(CLI::App* sub, std::string& target) {
  return sub
      ->add_option("-o,--output", target,
                   "Write to FILE (atomically: a temporary file beside it, then rename) instead "
                   "of stdout; an existing FIFO, device, directory or symlink is refused")
      ->type_name("FILE")
      ->check(CLI::Validator(
          [](std::string& value) -> std::string {
            if (value.empty()) return "empty file name";
            if (value == "-") return {};
            auto ok = core::check_output_target(value);
            return ok ? std::string() : core::escape_text(ok.error().message);
          },
          ""));
}

bool stdout_wants_color() {
  const char* no_color = std::getenv("NO_COLOR");
  if (no_color != nullptr && *no_color != '\0') return false;
  const char* term = std::getenv("TERM");
  if (term != nullptr && std::string(term) == "dumb") return false;
  return ::isatty(STDOUT_FILENO) == 1;
}

int write_output(const std::string& path, const std::string& text) {
  if (path.empty() || path == "-") {
    std::cout << text;
    std::cout.flush();
    return std::cout ? kExitOk : kExitRuntime;
  }
  if (auto st = core::write_file_atomic(path, text); !st) {
    std::cerr << "vmtune: " << core::escape_text(st.error().to_string()) << "\n";
    return kExitRuntime;
  }
  return kExitOk;
}

bool open_sampler_or_report(const Context& ctx, std::optional<sampler::Sampler>& out) {
  auto in = sampler::Sampler::open(ctx.global);
  if (!in) {
    std::cerr << "vmtune: " << core::escape_text(in.error().to_string()) << "\n";
    return false;
  }
  out.emplace(std::move(*in));
  return true;
}

void add_pg_options(CLI::App* sub, PgArgs& pg, const std::string& disabled_help) {
  sub->add_option("--pg", pg.conninfo,
                  "libpq connection string for a PostgreSQL server; repeat for several servers "
                  "(default: the PG* environment, else each discovered server's socket)")
      ->type_name("CONNINFO")
      ->expected(1)
      ->allow_extra_args(false)
      ->take_all();
  sub->add_flag("--no-pg", pg.disabled, disabled_help);
}

void set_pg_options(const PgArgs& pg, sampler::Options& options) {
  options.postgres = !pg.disabled;
  options.conninfo = pg.conninfo;
}

sampler::Progress progress_line(const std::string& command) {
  if (!stderr_is_tty()) return {};
  return [command](std::string_view phase, double elapsed, double total) {
    std::cerr << "\rvmtune " << command << ": " << phase << ", "
              << static_cast<int>(total - elapsed + 0.999) << " s left " << std::flush;
  };
}

void clear_progress() {
  if (stderr_is_tty()) std::cerr << "\r\033[K" << std::flush;
}

int run(int argc, char** argv) {
  Context ctx;
  CLI::App app{
      "vmtune: Linux virtual-memory diagnostics and sysctl tuning advisor.\n"
      "Reads /proc, /sys, cgroups, eBPF tracepoints and PostgreSQL, and explains what to change.",
      "vmtune"};
  app.set_version_flag("--version", std::string("vmtune ") + core::kVersion);
  app.require_subcommand(1);
  app.fallthrough();
  app.footer(
      "Exit codes: 0 ok, 1 warnings found, 2 critical findings, 3 usage error,\n"
      "4 unreadable input (root, snapshot, rule or config file), 5 runtime error,\n"
      "6 no requested probe available. See vmtune(8).");
  app.option_defaults()->always_capture_default();
  app.add_option("--root", ctx.global.root,
                 "Read a captured tree or snapshot file instead of the live machine")
      ->type_name("DIR|FILE");
  app.add_option("--proc", ctx.global.proc, "Read /proc from DIR")->type_name("DIR");
  app.add_option("--sys", ctx.global.sys, "Read /sys from DIR")->type_name("DIR");
  app.add_option("--etc", ctx.global.etc, "Read /etc (sysctl.d provenance) from DIR")
      ->type_name("DIR");

  CommandTable table;
  add_collect_command(app, table);
  add_snapshot_command(app, table);
  add_audit_command(app, table);
  add_sysctl_command(app, table);
  add_apply_commands(app, table);
  add_top_command(app, table);
  add_trace_command(app, table);

  if (auto unknown = unknown_command(app, argc, argv)) {
    std::cerr << "vmtune: unknown command '" << core::escape_text(*unknown) << "' (commands:";
    for (const auto* sub : app.get_subcommands({})) std::cerr << " " << sub->get_name();
    std::cerr << "); see vmtune --help\n";
    return kExitUsage;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }

  g_ctx = &ctx;
  install_signal_handlers();
  for (auto& [sub, runner] : table.entries) {
    if (sub->parsed()) {
      const int rc = runner(ctx);
      g_ctx = nullptr;
      return rc;
    }
  }
  g_ctx = nullptr;
  std::cerr << app.help();
  return kExitUsage;
}

}  // namespace vmtune::app
