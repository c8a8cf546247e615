// SPDX-License-Identifier: GPL-2.0-or-later
// `vmtune top`: the live dashboard. Each refresh: one sampler reading, the same audit as
// `vmtune audit` on it and the reading before, the eBPF probes' totals, then ui/tui builds the
// content, lays it out and paints only what changed. A captured tree or snapshot (--root) is
// shown as a still picture. Exit 0 on q, SIGINT, SIGTERM or SIGHUP (the terminal restored).

#include <algorithm>
#include <chrono>
#include <exception>
#include <iostream>
#include <memory>

#include "app/commands.hpp"
#include "app/evaluate.hpp"
#include "app/exit_codes.hpp"
#include "collect/bpf/trace_session.hpp"
#include "core/escape.hpp"
#include "plan/plan.hpp"
#include "rules/audit.hpp"
#include "ui/tui/terminal.hpp"
#include "ui/tui/view.hpp"

namespace vmtune::app {
namespace {

struct TopArgs {
  EvaluateArgs evaluate;  ///< --rules, --config, --pg, --no-pg (window and trace unused)
  double interval = 1.0;
  bool ascii = false;
  bool no_trace = false;
};

/// PostgreSQL is read every this many refreshes (a connection and a page-cache walk cost more
/// than the kernel files); the facts in between are the last ones read.
constexpr int kPostgresEvery = 5;

/// What stays between refreshes of the live view.
struct Live {
  sampler::Sampler& sampler;
  const rules::Engine& engine;
  const rules::Config& config;
  sampler::Options options;
  std::optional<model::Sample> previous;
  std::unique_ptr<collect::bpf::TraceSession> trace;
  std::string trace_why;
  std::chrono::steady_clock::time_point trace_start = std::chrono::steady_clock::now();
  int readings = 0;
};

std::string probes_why(const collect::bpf::TraceSession& t) {
  std::string why;
  for (const auto& p : t.probes()) {
    if (!p.attached) why += (why.empty() ? "" : "; ") + p.name + ": " + p.reason;
  }
  return why.empty() ? "no stall probe attached" : why;
}

ui::tui::Content refresh(Live& live, ui::tui::History& history) {
  auto opt = live.options;
  opt.postgres = live.options.postgres && live.readings % kPostgresEvery == 0;
  auto current = live.sampler.sample(opt);
  if (!opt.postgres && live.previous && live.previous->postgres.value) {
    current.postgres = live.previous->postgres;
  }
  ++live.readings;
  auto snap = model::make_snapshot(current, live.previous);
  live.previous = std::move(current);
  auto evaluation = rules::audit(live.engine, snap, live.config);
  plan::attach_apply_lines(evaluation, snap);
  std::optional<model::BpfStats> bpf;
  if (live.trace) {
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - live.trace_start).count();
    bpf = live.trace->read(elapsed);
  }
  auto content =
      ui::tui::build_content(snap, evaluation, bpf ? &*bpf : nullptr, live.trace_why, "", history);
  content.stalls_scope = "since start";
  return content;
}

/// Paints `content` until the next refresh is due (`from` + the interval); returns false to
/// quit. Changing the interval moves the deadline, it does not refresh at once.
bool show(ui::tui::Terminal& term, const ui::tui::Content& content, ui::tui::ViewState& state,
          std::chrono::steady_clock::time_point from, Context& ctx) {
  using clock = std::chrono::steady_clock;
  const auto paint = [&] {
    term.paint(ui::tui::layout(content, state, term.width(), term.height()), state.ascii);
  };
  paint();
  while (!ctx.stop.load()) {
    const auto until = from + std::chrono::duration_cast<clock::duration>(
                                  std::chrono::duration<double>(state.interval_s));
    const auto left = std::chrono::duration<double>(until - clock::now()).count();
    if (left <= 0 && !state.paused && !content.still) return true;
    const int ms =
        content.still || state.paused ? 200 : std::clamp(static_cast<int>(left * 1000), 1, 200);
    const auto key = term.read_key(ms);
    if (key.kind == ui::tui::Key::Kind::none) continue;
    const auto action = ui::tui::handle_key(key, content, state);
    if (action.quit) return false;
    if (action.redraw) paint();
  }
  return false;
}

int run_top(Context& ctx, const TopArgs& args) {
  std::optional<sampler::Sampler> input;
  if (!open_sampler_or_report(ctx, input)) return kExitInput;
  const auto engine = load_engine(input->fs(), args.evaluate, "top");
  const auto config = load_config(input->fs(), args.evaluate, "top");
  if (!engine || !config) return kExitInput;
  sampler::Options opt;
  set_pg_options(args.evaluate.pg, opt);

  ui::tui::ViewState state;
  state.interval_s = args.interval;
  ui::tui::History history;
  std::optional<ui::tui::Content> still;
  std::optional<Live> live;
  if (!input->live()) {  // a captured tree or snapshot: one picture, with its own rates
    const auto window = input->window(0, opt);
    const auto snap = window.snapshot();
    auto evaluation = rules::audit(*engine, snap, *config);
    plan::attach_apply_lines(evaluation, snap);
    const auto* bpf = snap.current.bpf.value ? &*snap.current.bpf.value : nullptr;
    still = ui::tui::build_content(snap, evaluation, bpf, bpf ? "" : "no eBPF data in this capture",
                                   ctx.global.root.empty() ? "captured tree" : ctx.global.root,
                                   history);
    still->still = true;
  } else {
    live.emplace(Live{*input, *engine, *config, opt, {}, {}, {}, {}, 0});
    if (!args.no_trace) {
      collect::bpf::TraceOptions trace;
      trace.probes = {"reclaim", "compaction", "writeback"};
      live->trace = collect::bpf::TraceSession::start(input->fs(), trace);
      live->trace_start = std::chrono::steady_clock::now();
      if (!live->trace->any_attached()) {
        live->trace_why = "eBPF probes not attached: " + probes_why(*live->trace);
        live->trace.reset();
      }
    } else {
      live->trace_why = "eBPF probes off (--no-trace)";
    }
  }

  auto term = ui::tui::Terminal::open(stdout_wants_color());
  if (!term) {
    std::cerr << "vmtune top: " << core::escape_text(term.error().message) << "\n";
    return kExitUsage;
  }
  state.ascii = args.ascii || (*term)->needs_ascii();
  try {
    if (still) {
      show(**term, *still, state, std::chrono::steady_clock::now(), ctx);
      return kExitOk;
    }
    // The first reading has no rates: the second comes half a second later.
    auto from = std::chrono::steady_clock::now() -
                std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                    std::chrono::duration<double>(std::max(0.0, state.interval_s - 0.5)));
    ui::tui::Content content = refresh(*live, history);
    while (show(**term, content, state, from, ctx)) {
      from = std::chrono::steady_clock::now();
      content = refresh(*live, history);
      ui::tui::sync_state(content, state);
    }
  } catch (const std::exception& e) {
    term->reset();  // the terminal back first, so the message is readable
    std::cerr << "vmtune top: " << core::escape_text(e.what()) << "\n";
    return kExitRuntime;
  }
  return kExitOk;
}

/// `vmtune top --help`.
constexpr const char* kTopHelp =
    R"(The live dashboard: memory composition, reclaim/fault/swap/THP/compaction rates, PSI with
its recent history, eBPF stall totals (when the probes attach), NUMA nodes, PostgreSQL
instances, the rules' findings (Enter: evidence, recommendation and the line that applies it)
and a process table you can sort (s), filter (/) and group by cgroup (g). ? shows every key.
With --root, a captured tree or snapshot is shown as a still picture.)";

}  // namespace

void add_top_command(CLI::App& app, CommandTable& table) {
  auto [sub, args] = add_command(app, table, "top", kTopHelp, run_top);
  sub->add_option("-d,--interval", args->interval, "Seconds between refreshes (default 1)")
      ->type_name("SECONDS")
      ->check(finite_range(0.5, 30));
  sub->add_flag("--ascii", args->ascii,
                "Draw with ASCII only (automatic when the locale is not UTF-8)");
  sub->add_flag("--no-trace", args->no_trace, "Do not attach the eBPF stall probes");
  sub->add_option("--rules", args->evaluate.rule_dirs,
                  "Also load the rule files in DIR (repeatable)")
      ->type_name("DIR");
  sub->add_option("--config", args->evaluate.config, "Configuration file")->type_name("FILE");
  add_pg_options(sub, args->evaluate.pg, "Skip PostgreSQL discovery and connection");
}

}  // namespace vmtune::app
