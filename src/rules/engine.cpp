// SPDX-License-Identifier: GPL-2.0-or-later
#include "rules/engine.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

#include "core/parse.hpp"
#include "rules/metrics.hpp"

namespace vmtune::rules {
namespace {

struct Pending {
  Recommendation rec;
  bool already_applied = false;
};

struct PendingFinding {
  Finding finding;
  std::size_t order = 0;  ///< rule index
  std::vector<Pending> recs;
  bool had_values = false;  ///< at least one recommendation produced a value
};

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

/// " (<target>)", or nothing for a setting without a target.
std::string target_suffix(const std::string& target) {
  return target.empty() ? "" : " (" + target + ")";
}

/// Whether a rule's `requires` and `when` let it fire.
struct Gate {
  bool fires = false;
  std::string missing;  ///< non-empty: the rule is not evaluated, for this reason
};

Gate check_gate(const Rule& rule, const EvalContext& ctx, LetMemo& memo) {
  for (const auto& req : rule.requires_) {
    auto v = req.evaluate(ctx, memo);
    if (!v.ok()) return Gate{false, v.missing};
  }
  auto w = rule.when.evaluate_condition(ctx, memo);
  if (!w.ok()) return Gate{false, w.missing};
  return Gate{std::get<bool>(*w.value), {}};
}

Evidence make_evidence(const EvidenceSpec& e, const EvalContext& ctx, LetMemo& memo) {
  Evidence ev;
  ev.name = e.name;
  ev.expression = e.expr.text();
  ev.unit = e.unit;
  auto v = e.expr.evaluate(ctx, memo);
  if (v.ok()) {
    if (const auto* d = std::get_if<double>(&*v.value)) ev.number = *d;
    ev.text = to_text(*v.value);
  } else {
    ev.text = "unavailable: " + v.missing;
  }
  return ev;
}

/// A fired rule's finding, without recommendations: severity (raised by severity_if), text
/// and evidence.
Finding make_finding(const Rule& rule, const EvalContext& ctx, LetMemo& memo) {
  Finding f;
  f.rule_id = rule.id;
  f.title = rule.title;
  f.severity = rule.severity;
  for (const auto& step : rule.severity_if) {
    auto v = step.when.evaluate_condition(ctx, memo);
    if (v.ok() && std::get<bool>(*v.value) && step.severity > f.severity)
      f.severity = step.severity;
  }
  f.rationale = rule.rationale;
  f.references = rule.references;
  f.rule_file = rule.file;
  for (const auto& e : rule.evidence) f.evidence.push_back(make_evidence(e, ctx, memo));
  return f;
}

bool host_level(RecommendationKind kind) {
  return kind == RecommendationKind::sysctl || kind == RecommendationKind::thp ||
         kind == RecommendationKind::hugetlb || kind == RecommendationKind::kernel_cmdline;
}

/// One [[rule.recommend]] of a fired rule, or nothing: its only_if is false, or a value it needs
/// is missing (then a note says so).
std::optional<Pending> make_recommendation(const Rule& rule, const RecommendSpec& spec,
                                           const EvalContext& ctx, LetMemo& memo,
                                           std::vector<std::string>& notes) {
  const auto not_made = [&](const std::string& missing) {
    notes.push_back(rule.id + ": recommendation for " + spec.key + " not made: " + missing);
    return std::nullopt;
  };
  if (spec.only_if) {
    auto c = spec.only_if->evaluate_condition(ctx, memo);
    if (!c.ok()) return not_made(c.missing);
    if (!std::get<bool>(*c.value)) return std::nullopt;
  }
  auto v = spec.value.evaluate(ctx, memo);
  if (!v.ok()) return not_made(v.missing);
  Pending p;
  p.rec.kind = spec.kind;
  p.rec.key = spec.key;
  p.rec.proposed = to_text(*v.value);
  p.rec.note = spec.note;
  p.rec.host_level = host_level(spec.kind);
  if (spec.target) {
    auto t = spec.target->evaluate(ctx, memo);
    if (!t.ok()) return not_made(t.missing);
    p.rec.target = to_text(*t.value);
  }
  if (spec.current) {
    auto c = spec.current->evaluate(ctx, memo);
    if (c.ok()) p.rec.current = to_text(*c.value);
  } else if (auto cur = current_setting(spec.kind, spec.key, p.rec.target, ctx.snapshot)) {
    p.rec.current = *cur;
  }
  return p;
}

/// Evaluates one selected rule: a finding with its recommendations when it fires, else nothing
/// (a rule that cannot be evaluated is listed in out.not_evaluated).
std::optional<PendingFinding> evaluate_rule(const Rule& rule, std::size_t idx,
                                            const EvalContext& ctx, const std::string& subject,
                                            Evaluation& out) {
  // One memo per rule and sample: each [rule.let] is evaluated once, however many of the
  // rule's expressions use it.
  LetMemo memo;
  const Gate gate = check_gate(rule, ctx, memo);
  if (!gate.missing.empty()) {
    out.not_evaluated.push_back(NotEvaluated{rule.id, rule.title, gate.missing, subject});
    return std::nullopt;
  }
  if (!gate.fires) return std::nullopt;

  PendingFinding pf;
  pf.order = idx;
  pf.finding = make_finding(rule, ctx, memo);
  pf.finding.subject = subject;
  const std::string about = subject.empty() ? rule.id : rule.id + " for " + subject;
  for (const auto& spec : rule.recommend) {
    std::vector<std::string> notes;
    auto p = make_recommendation(rule, spec, ctx, memo, notes);
    for (auto& n : notes)
      out.notes.push_back(subject.empty() ? n : n.replace(0, rule.id.size(), about));
    if (!p) continue;
    // A PostgreSQL setting belongs to the instance the rule was evaluated for.
    if (p->rec.kind == RecommendationKind::postgresql && p->rec.target.empty() &&
        !subject.empty()) {
      p->rec.target = subject;
      if (auto cur = current_setting(p->rec.kind, p->rec.key, subject, ctx.snapshot)) {
        p->rec.current = *cur;
      }
    }
    pf.had_values = true;
    pf.recs.push_back(std::move(*p));
  }
  return pf;
}

/// Evaluates a selected rule: once, or once per PostgreSQL instance for a per-instance rule
/// (with no instance, once without one, so the rule says it has nothing to describe).
void evaluate_selected(const Rule& rule, std::size_t idx, const EvalContext& ctx, Evaluation& out,
                       std::vector<PendingFinding>& pending) {
  const auto* pg =
      ctx.snapshot.current.postgres.value ? &*ctx.snapshot.current.postgres.value : nullptr;
  if (!rule.per_postgres_instance || pg == nullptr || pg->instances.empty()) {
    if (auto pf = evaluate_rule(rule, idx, ctx, {}, out)) pending.push_back(std::move(*pf));
    return;
  }
  for (const auto& inst : pg->instances) {
    EvalContext one = ctx;
    one.pg_instance = &inst;
    if (auto pf = evaluate_rule(rule, idx, one, model::pg_instance_label(inst), out)) {
      pending.push_back(std::move(*pf));
    }
  }
}

using SettingKey = std::tuple<RecommendationKind, std::string, std::string>;
using Winners = std::map<SettingKey, std::pair<std::size_t, std::size_t>>;  // -> (finding, rec)

SettingKey setting_key(const Recommendation& r) { return SettingKey{r.kind, r.key, r.target}; }

// One value per (kind, key, target). The winner is the most severe finding, then the rule
// loaded first.
Winners pick_winners(const std::vector<PendingFinding>& pending) {
  Winners winner;
  for (std::size_t i = 0; i < pending.size(); ++i) {
    for (std::size_t j = 0; j < pending[i].recs.size(); ++j) {
      const SettingKey key = setting_key(pending[i].recs[j].rec);
      const auto it = winner.find(key);
      if (it == winner.end()) {
        winner[key] = {i, j};
        continue;
      }
      const auto& w = pending[it->second.first];
      if (pending[i].finding.severity > w.finding.severity) it->second = {i, j};
    }
  }
  return winner;
}

/// Rewrites every losing recommendation to the winning value, with a note on both sides.
void resolve_conflicts(std::vector<PendingFinding>& pending, std::vector<std::string>& notes) {
  const Winners winner = pick_winners(pending);
  for (std::size_t i = 0; i < pending.size(); ++i) {
    const Finding& loser = pending[i].finding;
    for (auto& p : pending[i].recs) {
      auto& r = p.rec;
      const auto [wi, wj] = winner.at(setting_key(r));
      if (wi == i) continue;
      const Finding& w = pending[wi].finding;
      const auto& wr = pending[wi].recs[wj].rec;
      if (same_setting(wr.proposed, r.proposed)) continue;
      const bool by_severity = w.severity > loser.severity;
      const std::string how = by_severity
                                  ? std::string("the ") + to_string(w.severity) +
                                        " finding wins over " + to_string(loser.severity)
                                  : std::string("equal severity, the rule loaded first wins");
      notes.push_back(r.key + target_suffix(r.target) + ": " + loser.rule_id + " proposed " +
                      r.proposed + ", " + w.rule_id + " proposed " + wr.proposed + "; using " +
                      wr.proposed + " (" + how + ")");
      r.note = (r.note.empty() ? "" : r.note + " ") + "Conflict: this rule proposed " + r.proposed +
               "; " + w.rule_id + " proposes " + wr.proposed + " and wins (" + how + ").";
      r.proposed = wr.proposed;
    }
  }
}

/// Idempotency: drops recommendations already in effect, and suppresses (clears the rule id of)
/// a finding left with none of its own.
void drop_applied(std::vector<PendingFinding>& pending, const std::vector<Rule>& rules,
                  std::vector<std::string>& notes) {
  for (auto& pf : pending) {
    std::vector<Recommendation> kept;
    std::vector<std::string> applied;
    for (auto& p : pf.recs) {
      if (!p.rec.current.empty() && same_setting(p.rec.current, p.rec.proposed)) {
        applied.push_back(p.rec.key + target_suffix(p.rec.target) + " = " + p.rec.current);
        continue;
      }
      kept.push_back(std::move(p.rec));
    }
    pf.finding.recommendations = std::move(kept);
    if (pf.had_values && pf.finding.recommendations.empty() && !applied.empty() &&
        !rules[pf.order].always_report) {
      const std::string about = pf.finding.subject.empty()
                                    ? pf.finding.rule_id
                                    : pf.finding.rule_id + " for " + pf.finding.subject;
      notes.push_back(about + ": already at the proposed value (" + join(applied, ", ") +
                      "); not reported");
      pf.finding.rule_id.clear();  // suppressed
    }
  }
}

/// Most severe first, then in rule order; suppressed findings are left out.
std::vector<Finding> sorted_findings(std::vector<PendingFinding>& pending) {
  std::stable_sort(pending.begin(), pending.end(),
                   [](const PendingFinding& a, const PendingFinding& b) {
                     return a.finding.severity > b.finding.severity;
                   });
  std::vector<Finding> out;
  for (auto& pf : pending) {
    if (!pf.finding.rule_id.empty()) out.push_back(std::move(pf.finding));
  }
  return out;
}

}  // namespace

bool same_setting(const std::string& a, const std::string& b) {
  const auto x = parse_number(a);
  const auto y = parse_number(b);
  if (x && y) return std::fabs(*x - *y) <= 1e-9 * std::max({1.0, std::fabs(*x), std::fabs(*y)});
  return core::trim(a) == core::trim(b);
}

std::string resolve_profile(const Config& config, const model::Snapshot& snapshot) {
  if (config.profile != "auto" && !config.profile.empty()) return config.profile;
  const auto& pg = snapshot.current.postgres;
  if (pg.value && !pg.value->instances.empty()) return "database";
  return "general";
}

core::Result<Engine> Engine::load(const std::vector<RuleDir>& dirs) {
  std::vector<std::string> notes;
  auto rules = load_rule_dirs(dirs, &notes);
  if (!rules) return std::move(rules).error();
  Engine engine(std::move(*rules));
  engine.load_notes_ = std::move(notes);
  return engine;
}

Evaluation Engine::evaluate(const model::Snapshot& snapshot, const Config& config) const {
  Evaluation out;
  out.notes = load_notes_;
  EvalContext ctx{snapshot, resolve_profile(config, snapshot), std::nullopt};
  if (config.db_reserved_bytes)
    ctx.db_reserved_bytes = static_cast<double>(*config.db_reserved_bytes);

  for (const auto& id : config.skip) {
    if (std::none_of(rules_.begin(), rules_.end(), [&](const Rule& r) { return r.id == id; })) {
      out.notes.push_back("configuration skips unknown rule id " + id);
    }
  }
  std::vector<std::string> skipped;
  std::vector<std::string> other_profile;
  std::vector<PendingFinding> pending;
  for (std::size_t idx = 0; idx < rules_.size(); ++idx) {
    const Rule& rule = rules_[idx];
    if (config.skip.count(rule.id)) {
      skipped.push_back(rule.id);
    } else if (!rule.profiles.empty() && std::find(rule.profiles.begin(), rule.profiles.end(),
                                                   ctx.profile) == rule.profiles.end()) {
      other_profile.push_back(rule.id);
    } else {
      evaluate_selected(rule, idx, ctx, out, pending);
    }
  }

  resolve_conflicts(pending, out.notes);
  drop_applied(pending, rules_, out.notes);
  out.findings = sorted_findings(pending);
  if (!skipped.empty()) out.notes.push_back("skipped by configuration: " + join(skipped, ", "));
  if (!other_profile.empty()) {
    out.notes.push_back("not applicable to the " + ctx.profile +
                        " profile: " + join(other_profile, ", "));
  }
  return out;
}

}  // namespace vmtune::rules
