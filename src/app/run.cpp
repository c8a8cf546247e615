// SPDX-License-Identifier: GPL-2.0-or-later
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <iostream>

#include "app/commands.hpp"
#include "app/exit_codes.hpp"
#include "core/escape.hpp"
#include "core/temp_dir.hpp"
#include "core/version.hpp"

namespace vmtune::app {
namespace {

Context* g_ctx = nullptr;

extern "C" void on_signal(int /*sig*/) {
  if (g_ctx != nullptr) g_ctx->stop.store(true);
}

void install_signal_handlers() {
  struct sigaction sa{};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: sleeps and reads wake up
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

}  // namespace

bool stderr_is_tty() { return ::isatty(STDERR_FILENO) == 1; }

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

bool open_input_or_report(const Context& ctx, std::optional<Input>& out) {
  auto in = Input::open(ctx.global);
  if (!in) {
    std::cerr << "vmtune: " << core::escape_text(in.error().to_string()) << "\n";
    return false;
  }
  out.emplace(std::move(*in));
  return true;
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
  add_trace_command(app, table);

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
