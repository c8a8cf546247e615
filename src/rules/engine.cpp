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

  std::vector<std::string> skipped;
  std::vector<std::string> other_profile;
  std::vector<PendingFinding> pending;
  for (const auto& id : config.skip) {
    if (std::none_of(rules_.begin(), rules_.end(), [&](const Rule& r) { return r.id == id; })) {
      out.notes.push_back("configuration skips unknown rule id " + id);
    }
  }

  for (std::size_t idx = 0; idx < rules_.size(); ++idx) {
    const Rule& rule = rules_[idx];
    if (config.skip.count(rule.id)) {
      skipped.push_back(rule.id);
      continue;
    }
    if (!rule.profiles.empty() &&
        std::find(rule.profiles.begin(), rule.profiles.end(), ctx.profile) == rule.profiles.end()) {
      other_profile.push_back(rule.id);
      continue;
    }
    // One memo per rule and sample: each [rule.let] is evaluated once, however many of the
    // rule's expressions use it.
    LetMemo memo;
    std::string missing;
    for (const auto& req : rule.requires_) {
      auto v = req.evaluate(ctx, memo);
      if (!v.ok()) {
        missing = v.missing;
        break;
      }
    }
    if (missing.empty()) {
      auto w = rule.when.evaluate_condition(ctx, memo);
      if (!w.ok()) {
        missing = w.missing;
      } else if (!std::get<bool>(*w.value)) {
        continue;
      }
    }
    if (!missing.empty()) {
      out.not_evaluated.push_back(NotEvaluated{rule.id, rule.title, missing});
      continue;
    }

    PendingFinding pf;
    pf.order = idx;
    Finding& f = pf.finding;
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
    for (const auto& e : rule.evidence) {
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
      f.evidence.push_back(std::move(ev));
    }
    for (const auto& spec : rule.recommend) {
      if (spec.only_if) {
        auto c = spec.only_if->evaluate_condition(ctx, memo);
        if (!c.ok()) {
          out.notes.push_back(rule.id + ": recommendation for " + spec.key +
                              " not made: " + c.missing);
          continue;
        }
        if (!std::get<bool>(*c.value)) continue;
      }
      auto v = spec.value.evaluate(ctx, memo);
      if (!v.ok()) {
        out.notes.push_back(rule.id + ": recommendation for " + spec.key +
                            " not made: " + v.missing);
        continue;
      }
      Pending p;
      p.rec.kind = spec.kind;
      p.rec.key = spec.key;
      p.rec.proposed = to_text(*v.value);
      p.rec.note = spec.note;
      p.rec.host_level = spec.kind == RecommendationKind::sysctl ||
                         spec.kind == RecommendationKind::thp ||
                         spec.kind == RecommendationKind::hugetlb ||
                         spec.kind == RecommendationKind::kernel_cmdline;
      if (spec.target) {
        auto t = spec.target->evaluate(ctx, memo);
        if (!t.ok()) {
          out.notes.push_back(rule.id + ": recommendation for " + spec.key +
                              " not made: " + t.missing);
          continue;
        }
        p.rec.target = to_text(*t.value);
      }
      if (spec.current) {
        auto c = spec.current->evaluate(ctx, memo);
        if (c.ok()) p.rec.current = to_text(*c.value);
      } else if (auto cur = current_setting(spec.kind, spec.key, p.rec.target, snapshot)) {
        p.rec.current = *cur;
      }
      pf.had_values = true;
      pf.recs.push_back(std::move(p));
    }
    pending.push_back(std::move(pf));
  }

  // Consistency: one value per (kind, key, target). The winner is the most severe finding,
  // then the rule loaded first.
  using SettingKey = std::tuple<RecommendationKind, std::string, std::string>;
  std::map<SettingKey, std::pair<std::size_t, std::size_t>> winner;  // -> (finding, rec)
  for (std::size_t i = 0; i < pending.size(); ++i) {
    for (std::size_t j = 0; j < pending[i].recs.size(); ++j) {
      const auto& r = pending[i].recs[j].rec;
      const SettingKey key{r.kind, r.key, r.target};
      const auto it = winner.find(key);
      if (it == winner.end()) {
        winner[key] = {i, j};
        continue;
      }
      const auto& w = pending[it->second.first];
      if (pending[i].finding.severity > w.finding.severity) it->second = {i, j};
    }
  }
  for (std::size_t i = 0; i < pending.size(); ++i) {
    for (auto& p : pending[i].recs) {
      auto& r = p.rec;
      const auto [wi, wj] = winner.at(SettingKey{r.kind, r.key, r.target});
      if (wi == i) continue;
      const auto& w = pending[wi];
      const auto& wr = w.recs[wj].rec;
      if (same_setting(wr.proposed, r.proposed)) continue;
      const bool by_severity = w.finding.severity > pending[i].finding.severity;
      const std::string how =
          by_severity ? std::string("the ") + to_string(w.finding.severity) +
                            " finding wins over " + to_string(pending[i].finding.severity)
                      : std::string("equal severity, the rule loaded first wins");
      const std::string target = r.target.empty() ? "" : " (" + r.target + ")";
      out.notes.push_back(r.key + target + ": " + pending[i].finding.rule_id + " proposed " +
                          r.proposed + ", " + w.finding.rule_id + " proposed " + wr.proposed +
                          "; using " + wr.proposed + " (" + how + ")");
      r.note = (r.note.empty() ? "" : r.note + " ") + "Conflict: this rule proposed " + r.proposed +
               "; " + w.finding.rule_id + " proposes " + wr.proposed + " and wins (" + how + ").";
      r.proposed = wr.proposed;
    }
  }

  // Idempotency.
  for (auto& pf : pending) {
    std::vector<Recommendation> kept;
    std::vector<std::string> applied;
    for (auto& p : pf.recs) {
      if (!p.rec.current.empty() && same_setting(p.rec.current, p.rec.proposed)) {
        applied.push_back(p.rec.key + (p.rec.target.empty() ? "" : " (" + p.rec.target + ")") +
                          " = " + p.rec.current);
        continue;
      }
      kept.push_back(std::move(p.rec));
    }
    pf.finding.recommendations = std::move(kept);
    if (pf.had_values && pf.finding.recommendations.empty() && !applied.empty() &&
        !rules_[pf.order].always_report) {
      out.notes.push_back(pf.finding.rule_id + ": already at the proposed value (" +
                          join(applied, ", ") + "); not reported");
      pf.finding.rule_id.clear();  // suppressed
    }
  }

  std::stable_sort(pending.begin(), pending.end(),
                   [](const PendingFinding& a, const PendingFinding& b) {
                     return a.finding.severity > b.finding.severity;
                   });
  for (auto& pf : pending) {
    if (!pf.finding.rule_id.empty()) out.findings.push_back(std::move(pf.finding));
  }
  if (!skipped.empty()) out.notes.push_back("skipped by configuration: " + join(skipped, ", "));
  if (!other_profile.empty()) {
    out.notes.push_back("not applicable to the " + ctx.profile +
                        " profile: " + join(other_profile, ", "));
  }
  return out;
}

}  // namespace vmtune::rules
