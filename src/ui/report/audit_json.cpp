// SPDX-License-Identifier: GPL-2.0-or-later
#include "ui/report/audit_json.hpp"

#include <cmath>

namespace vmtune::ui::report {
namespace {

using json::Json;

Json number_or_null(double v) { return std::isfinite(v) ? Json(v) : Json(); }

template <typename T>
Json opt(const std::optional<T>& v) {
  return v ? Json(*v) : Json();
}

Json recommendation_json(const rules::Recommendation& r) {
  Json j;
  j["kind"] = rules::to_string(r.kind);
  j["key"] = r.key;
  j["target"] = r.target;
  j["current"] = r.current;
  j["proposed"] = r.proposed;
  j["host_level"] = r.host_level;
  j["note"] = r.note;
  if (r.provenance) {
    Json p;
    p["source"] = r.provenance->source;
    p["line"] = r.provenance->line;
    p["conflicts"] = Json::array();
    for (const auto& c : r.provenance->conflicts) {
      p["conflicts"].push_back({{"file", c.file}, {"line", c.line}, {"value", c.value}});
    }
    j["provenance"] = std::move(p);
  } else {
    j["provenance"] = nullptr;
  }
  j["effects"] = Json::array();
  for (const auto& e : r.effects) {
    j["effects"].push_back({{"name", e.name},
                            {"before", number_or_null(e.before)},
                            {"after", number_or_null(e.after)},
                            {"unit", e.unit}});
  }
  return j;
}

}  // namespace

Json audit_to_json(const AuditReport& rep) {
  const auto& ev = rep.evaluation;
  Json j;
  j["schema"] = "vmtune-audit";
  j["version"] = kAuditJsonVersion;
  j["host"] = json::host_to_json(rep.host);
  j["input"] = {{"live", rep.live},
                {"source", rep.input},
                {"window_s", rep.window_s},
                {"traced", rep.traced},
                {"rules_loaded", rep.rules_loaded},
                {"min_severity", rep.min_severity ? Json(rules::to_string(*rep.min_severity))
                                                  : Json()}};
  const auto& c = rep.context;
  j["context"] = {{"in_container", c.in_container},
                  {"container", c.container},
                  {"cgroup_limited", c.cgroup_limited},
                  {"cgroup", c.cgroup},
                  {"memory_max", opt(c.memory_max)},
                  {"memory_high", opt(c.memory_high)},
                  {"memory_current", opt(c.memory_current)},
                  {"limit_from", c.limit_from},
                  {"proc_sys_read_only", opt(c.proc_sys_read_only)},
                  {"reasons", c.reasons}};
  const auto counts = count_findings(ev);
  j["summary"] = {{"critical", counts.critical},
                  {"warning", counts.warning},
                  {"info", counts.info},
                  {"not_evaluated", ev.not_evaluated.size()}};
  j["findings"] = Json::array();
  for (const auto& f : ev.findings) {
    Json fj;
    fj["rule_id"] = f.rule_id;
    fj["title"] = f.title;
    fj["severity"] = rules::to_string(f.severity);
    fj["rule_file"] = f.rule_file;
    fj["evidence"] = Json::array();
    for (const auto& e : f.evidence) {
      fj["evidence"].push_back({{"name", e.name},
                                {"expression", e.expression},
                                {"value", e.number ? number_or_null(*e.number) : Json()},
                                {"text", e.text},
                                {"unit", e.unit}});
    }
    fj["recommendations"] = Json::array();
    for (const auto& r : f.recommendations) fj["recommendations"].push_back(recommendation_json(r));
    fj["rationale"] = f.rationale;
    fj["references"] = f.references;
    j["findings"].push_back(std::move(fj));
  }
  j["not_evaluated"] = Json::array();
  for (const auto& n : ev.not_evaluated) {
    j["not_evaluated"].push_back({{"rule_id", n.rule_id}, {"title", n.title}, {"reason", n.reason}});
  }
  j["notes"] = ev.notes;
  j["unavailable"] = Json::array();
  for (const auto& u : rep.unavailable) {
    j["unavailable"].push_back({{"source", u.source},
                                {"path", u.path},
                                {"line", u.line},
                                {"field", u.field},
                                {"reason", u.reason}});
  }
  return j;
}

std::string render_audit_json(const AuditReport& rep) {
  // Untrusted strings may hold invalid UTF-8: replace it rather than throw.
  return audit_to_json(rep).dump(2, ' ', false, json::Json::error_handler_t::replace) + "\n";
}

}  // namespace vmtune::ui::report
