// SPDX-License-Identifier: GPL-2.0-or-later
// `vmtune apply` and `vmtune rollback`: write what the plan proposes to the running kernel,
// journaled first (apply/), and put it back. Only on the user's request, only the live machine;
// PostgreSQL settings and boot parameters are printed, never applied.
// Exit codes: apply 0 every value taken, 1 some value granted only in part (vm.nr_hugepages),
// 3 usage, 4 unreadable input / rules / journal, 5 a write failed (everything restored) or the
// journal could not be written (nothing changed), 7 --verify rolled the change back, 130
// interrupted (before anything was written, or during --verify: then rolled back).

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <iostream>
#include <memory>
#include <set>

#include "app/commands.hpp"
#include "app/evaluate.hpp"
#include "app/exit_codes.hpp"
#include "app/verify_report.hpp"
#include "apply/apply.hpp"
#include "apply/plan_file.hpp"
#include "collect/collector.hpp"
#include "collect/meminfo.hpp"
#include "core/escape.hpp"
#include "plan/plan.hpp"
#include "ui/sysctl/snippet.hpp"
#include "verify/verify.hpp"

namespace vmtune::app {
namespace {

using core::escape_text;

/// A value as read ("60\n", "always [madvise] never\n") as the user thinks of it: "60",
/// "madvise"; escaped for the terminal.
std::string shown(const std::string& raw) {
  std::string v = apply::restore_value(raw);
  while (!v.empty() && (v.back() == '\n' || v.back() == ' ')) v.pop_back();
  return escape_text(v);
}

struct ApplyArgs {
  EvaluateArgs evaluate;
  bool dry_run = false;
  std::vector<std::string> only;
  bool persist = false;
  std::string plan;  ///< --plan FILE: apply this plan instead of evaluating
  std::string journal_dir = apply::kDefaultJournalDir.string();
  double verify = 0;  ///< --verify SECONDS: measure before and after, roll back if worse
};

struct RollbackArgs {
  std::string journal;
  std::string journal_dir = apply::kDefaultJournalDir.string();
  bool force = false;
};

bool live_only(const Context& ctx, const char* command) {
  const auto& g = ctx.global;
  if (g.root.empty() && g.proc.empty() && g.sys.empty() && g.etc.empty()) return true;
  std::cerr << "vmtune " << command
            << ": writes the running kernel; --root, --proc, --sys and --etc cannot be used\n";
  return false;
}

/// The plan without the changes `apply` leaves out (--only), so a persisted file holds exactly
/// what was applied.
plan::Plan only_applied(plan::Plan plan, const std::vector<apply::Write>& writes) {
  std::set<std::string> keys;
  for (const auto& w : writes) keys.insert(w.key);
  for (auto& step : plan.steps) {
    std::erase_if(step.changes, [&](const plan::Change& c) { return !keys.count(c.key); });
  }
  std::erase_if(plan.steps, [](const plan::Step& s) { return s.changes.empty(); });
  return plan;
}

std::vector<apply::PersistFile> persist_files(const plan::Plan& plan, const model::HostInfo& host) {
  ui::sysctl::Header h;
  h.host = host.hostname;
  h.kernel = host.kernel_release;
  h.input = "vmtune apply --persist";
  const core::RootFs live;
  std::vector<apply::PersistFile> out;
  out.push_back({live.real(core::Tree::etc, "sysctl.d/90-vmtune.conf"),
                 ui::sysctl::render_sysctl_conf(plan, h)});
  bool sysfs = false;
  for (const auto* c : plan.changes()) {
    sysfs = sysfs || c->kind == rules::RecommendationKind::thp ||
            c->kind == rules::RecommendationKind::hugetlb;
  }
  if (sysfs) {
    out.push_back({live.real(core::Tree::etc, "tmpfiles.d/vmtune.conf"),
                   ui::sysctl::render_tmpfiles(plan, h)});
  }
  return out;
}

/// What vmtune does not apply, with the line that would: PostgreSQL settings, boot parameters.
void print_not_applied(const plan::Plan& plan) {
  for (const auto* c : plan.changes()) {
    if (c->kind != rules::RecommendationKind::postgresql &&
        c->kind != rules::RecommendationKind::kernel_cmdline && c->problem.empty()) {
      continue;
    }
    std::cout << "  not applied: " << escape_text(c->key) << " -> " << escape_text(c->proposed)
              << ": "
              << escape_text(c->problem.empty() ? c->apply_line
                                                : "cannot be applied: " + c->problem)
              << "\n";
  }
}

/// One line per key; returns whether every value was taken as requested.
bool print_keys(const apply::Outcome& out) {
  bool all = true;
  for (const auto& k : out.keys) {
    std::cout << "  " << escape_text(k.key) << " (" << escape_text(k.logical)
              << "): " << shown(k.before) << " -> " << shown(k.requested);
    if (out.dry_run) {
      std::cout << " (dry run: not written)\n";
    } else if (k.restored) {
      std::cout << " (put back)\n";
    } else if (!k.written) {
      std::cout << " (not written)\n";
    } else if (k.took) {
      std::cout << " (taken)\n";
    } else {
      all = false;
      std::cout << "; the kernel kept " << shown(k.granted) << "\n";
    }
  }
  return all;
}

void print_nr_hugepages_shortfall(const apply::Outcome& out) {
  for (const auto& k : out.keys) {
    if (k.key != "vm.nr_hugepages" || !k.written || k.took) continue;
    std::cout
        << "  vm.nr_hugepages: the kernel granted " << escape_text(k.granted) << " of "
        << escape_text(k.requested)
        << " pages: free memory is too fragmented for the rest. Compact it (echo 1 > "
           "/proc/sys/vm/compact_memory) and run apply again, or reserve the pool at boot "  // lint:logical-path
           "(vmtune sysctl --format cmdline).\n";
  }
}

/// The plan to apply: --plan FILE as reviewed, else a fresh evaluation of this machine.
std::optional<plan::Plan> plan_to_apply(Context& ctx, const ApplyArgs& args,
                                        const model::HostInfo& host, int& rc) {
  if (!args.plan.empty()) {
    model::Sample mem;
    collect::read_meminfo(core::RootFs(), mem);
    apply::Machine machine{host.kernel_release, 0, 0};
    if (mem.meminfo.value) {
      const auto& f = mem.meminfo.value->fields;
      if (auto it = f.find("MemTotal"); it != f.end()) machine.mem_total = it->second;
      if (auto it = f.find("Hugepagesize"); it != f.end()) machine.huge_page_size = it->second;
    }
    auto p = apply::read_plan(args.plan, machine);
    if (!p) {
      std::cerr << "vmtune apply: " << escape_text(p.error().to_string()) << "\n";
      rc = kExitInput;
      return std::nullopt;
    }
    return std::move(*p);
  }
  auto done = evaluate(ctx, args.evaluate, "apply", rc);
  if (!done) return std::nullopt;
  return plan::make_plan(done->evaluation, done->snapshot);
}

/// What a rollback did, one line per key and file, then its notes.
void print_restored(const apply::Outcome& out) {
  for (const auto& k : out.keys) {
    const bool same = shown(k.before) == shown(k.requested);
    std::cout << "  " << escape_text(k.key) << ": " << shown(k.before) << " -> "
              << shown(k.requested)
              << (!k.restored ? " (unchanged)"
                  : same      ? " (already so)"
                              : " (put back)")
              << "\n";
  }
  for (const auto& f : out.files) {
    std::cout << "  " << escape_text(f.path.string()) << ": " << f.action << "\n";
  }
  for (const auto& m : out.messages) std::cout << "  " << m << "\n";
}

/// Puts back what `journal` holds after --verify decided against it; prints each key.
int roll_back_verified(const std::filesystem::path& journal, const char* why, int rc) {
  auto back = apply::rollback(core::RootFs(), journal, false);
  if (!back) {
    std::cerr << "vmtune apply: " << why
              << ", but the rollback failed: " << escape_text(back.error().to_string())
              << "; run vmtune rollback " << escape_text(journal.string()) << "\n";
    return kExitRuntime;
  }
  std::cout << "verify: " << why << "; rolled back:\n";
  print_restored(*back);
  if (back->failure) {
    std::cerr << "vmtune apply: rollback: " << escape_text(back->failure->to_string()) << "\n";
    return kExitRuntime;
  }
  return rc;
}

/// The baseline of --verify, measured before anything is written.
struct Baseline {
  std::unique_ptr<verify::Meter> meter;
  verify::Phase phase;
};

std::optional<Baseline> measure_baseline(Context& ctx, const ApplyArgs& args,
                                         const std::vector<apply::Write>& writes, int& rc) {
  const auto engine = load_engine(core::RootFs(), args.evaluate, "apply");
  if (!engine) {
    rc = kExitInput;
    return std::nullopt;
  }
  // Found out now, not after a baseline of SECONDS: a value this process cannot write.
  for (const auto& w : writes) {
    if (::access(core::RootFs().real(w.tree, w.rel).c_str(), W_OK) != 0) {
      std::cerr << "vmtune apply: cannot write " << escape_text(w.logical) << ": "
                << std::strerror(errno) << "; nothing was changed\n";
      rc = kExitRuntime;
      return std::nullopt;
    }
  }
  Baseline b;
  const auto symptoms = symptoms_of(*engine, writes);
  b.meter = verify::Meter::start(core::RootFs(), symptoms, ::geteuid() == 0);
  const auto& ms = b.meter->measures();
  if (std::none_of(ms.begin(), ms.end(), [](const verify::Measure& m) { return m.decides; })) {
    std::string names;
    for (const auto& s : symptoms) names += (names.empty() ? "" : ", ") + s;
    std::cerr << "vmtune apply: cannot verify: nothing on this machine measures " << names;
    for (const auto& n : b.meter->notes()) std::cerr << "; " << escape_text(n);
    std::cerr << "; nothing was changed\n";
    rc = kExitUnavailable;
    return std::nullopt;
  }
  // A closed pipe (| head) must not kill the process between applying and the verdict.
  ::signal(SIGPIPE, SIG_IGN);
  print_measures(std::cout, *b.meter, args.verify);
  std::cout.flush();
  b.phase =
      b.meter->measure("baseline", args.verify, 1.0, progress_line("apply --verify"), &ctx.stop);
  clear_progress();
  if (b.phase.interrupted) {
    std::cerr << "vmtune apply: interrupted while measuring the baseline; nothing was written\n";
    rc = kExitInterrupted;
    return std::nullopt;
  }
  return b;
}

/// The second half of --verify: measure as long again, compare, keep or roll back.
int verify_applied(Context& ctx, const ApplyArgs& args, Baseline& b,
                   const std::filesystem::path& journal, int rc) {
  std::cout.flush();
  const auto after =
      b.meter->measure("after", args.verify, 1.0, progress_line("apply --verify"), &ctx.stop);
  clear_progress();
  if (after.interrupted) {
    return roll_back_verified(journal, "interrupted before the verdict", kExitInterrupted);
  }
  const auto verdict = verify::compare(b.meter->measures(), b.phase, after);
  print_verdict(std::cout, verdict, b.phase, after);
  if (verdict.roll_back || !verdict.judged) {
    for (const auto& r : verdict.reasons) std::cout << "  because: " << escape_text(r) << "\n";
    return roll_back_verified(journal,
                              verdict.judged ? "a symptom got worse" : "nothing could be judged",
                              kExitRolledBack);
  }
  std::cout << "verify: no symptom got worse beyond the noise; the change is kept\n";
  return rc;
}

int run_apply(Context& ctx, const ApplyArgs& args) {
  if (!live_only(ctx, "apply")) return kExitUsage;
  int rc = kExitOk;
  const auto host = collect::live_host_info();
  const auto plan = plan_to_apply(ctx, args, host, rc);
  if (!plan) return rc;
  const auto writes = apply::writes_from(*plan, args.only);
  std::cout << "vmtune apply" << (args.dry_run ? " (dry run)" : "") << ": " << writes.size()
            << (writes.size() == 1 ? " value" : " values") << " to write\n";
  print_not_applied(*plan);
  if (writes.empty()) return kExitOk;
  std::optional<Baseline> baseline;
  if (args.verify > 0 && !args.dry_run) {
    baseline = measure_baseline(ctx, args, writes, rc);
    if (!baseline) return rc;
  }
  apply::ApplyOptions opt;
  opt.journal_dir = args.journal_dir;
  opt.dry_run = args.dry_run;
  if (args.persist) opt.persist = persist_files(only_applied(*plan, writes), host);
  auto out = apply::apply(core::RootFs(), writes, opt);
  if (!out) {
    std::cerr << "vmtune apply: " << escape_text(out.error().to_string())
              << "; nothing was changed\n";
    return kExitRuntime;
  }
  const bool all = print_keys(*out);
  for (const auto& f : out->files) {
    std::cout << "  " << escape_text(f.path.string()) << ": " << f.action << "\n";
  }
  for (const auto& m : out->messages) std::cout << "  " << m << "\n";
  if (out->failure) {
    std::cerr << "vmtune apply: " << escape_text(out->failure->to_string())
              << (out->state == apply::JournalState::failed_restored
                      ? "; every value written before it was put back\n"
                      : "; not every value could be put back: run vmtune rollback " +
                            escape_text(out->journal.string()) + "\n");
    return kExitRuntime;
  }
  if (out->dry_run) return kExitOk;
  print_nr_hugepages_shortfall(*out);
  std::cout << "journal: " << escape_text(out->journal.string()) << "\nundo with: vmtune rollback "
            << escape_text(out->journal.string()) << "\n";
  rc = all ? kExitOk : kExitWarning;
  return baseline ? verify_applied(ctx, args, *baseline, out->journal, rc) : rc;
}

int run_rollback(Context& ctx, const RollbackArgs& args) {
  if (!live_only(ctx, "rollback")) return kExitUsage;
  std::filesystem::path journal = args.journal;
  if (journal.empty()) {
    const auto latest = apply::latest_journal(args.journal_dir);
    if (!latest) {
      std::cerr << "vmtune rollback: no journal in " << escape_text(args.journal_dir)
                << "; nothing to roll back\n";
      return kExitInput;
    }
    journal = *latest;
  }
  auto out = apply::rollback(core::RootFs(), journal, args.force);
  if (!out) {
    std::cerr << "vmtune rollback: " << escape_text(out.error().to_string()) << "\n";
    return out.error().kind == core::ErrorKind::io_error ? kExitRuntime : kExitInput;
  }
  std::cout << "vmtune rollback: " << escape_text(journal.string()) << "\n";
  print_restored(*out);
  if (out->failure) {
    std::cerr << "vmtune rollback: " << escape_text(out->failure->to_string()) << "\n";
    return kExitRuntime;
  }
  return kExitOk;
}

/// `vmtune apply --help`.
constexpr const char* kApplyHelp =
    R"(Write what the audit proposes to the running kernel: every /proc/sys and /sys value is
journaled first (under /var/lib/vmtune/journal), written, read back and reported; a failed
write puts back everything written before it. PostgreSQL settings and boot parameters are
printed, never applied. Undo with vmtune rollback.

With --verify SECONDS, the symptoms the applied rules fired on (PSI memory, time in direct
reclaim and compaction, dirty-page throttling, refaults, swap, OOM kills) are measured once a
second for SECONDS before writing and for as long after; if one got worse beyond the noise
the baseline showed, everything is rolled back on its own (exit 7). Both phases are printed
side by side. Ctrl-C during the baseline writes nothing; during the second phase it rolls
back.)";

/// `vmtune rollback --help`.
constexpr const char* kRollbackHelp =
    R"(Put back, byte for byte, every value (and file) an apply journal holds: the latest one,
or JOURNAL. A journal from another host or boot is refused unless --force; rolling back
twice changes nothing.)";

}  // namespace

void add_apply_commands(CLI::App& app, CommandTable& table) {
  {
    auto [sub, args] = add_command(app, table, "apply", kApplyHelp, run_apply);
    add_evaluate_options(sub, args->evaluate);
    sub->add_flag("--dry-run", args->dry_run, "Show exactly what would be written; write nothing");
    sub->add_option("--only", args->only, "Apply only these keys (e.g. vm.swappiness; repeatable)")
        ->type_name("KEY");
    sub->add_flag("--persist", args->persist,
                  "Also install /etc/sysctl.d/90-vmtune.conf (and /etc/tmpfiles.d/vmtune.conf "
                  "for THP); rollback removes them");
    sub->add_option("--plan", args->plan,
                    "Apply this plan (vmtune sysctl -f json -o FILE) instead of evaluating")
        ->type_name("FILE");
    sub->add_option("--journal-dir", args->journal_dir, "Where journals are kept")
        ->type_name("DIR");
    sub->add_option("--verify", args->verify,
                    "Measure the applied rules' symptoms for SECONDS before and after applying; "
                    "roll back on its own if one got worse beyond the noise (exit 7)")
        ->type_name("SECONDS")
        ->check(finite_range(3, 86400));
    sub->get_option("--verify")->excludes(sub->get_option("--dry-run"));
  }
  auto [sub, args] = add_command(app, table, "rollback", kRollbackHelp, run_rollback);
  sub->add_option("journal", args->journal, "Journal to roll back (default: the latest)")
      ->type_name("JOURNAL");
  sub->add_option("--journal-dir", args->journal_dir, "Where journals are kept")->type_name("DIR");
  sub->add_flag("--force", args->force, "Roll back a journal from another host or boot");
}

}  // namespace vmtune::app
