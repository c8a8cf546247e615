// SPDX-License-Identifier: GPL-2.0-or-later
#include "ui/report/audit_json.hpp"

#include <cmath>

#include "core/escape.hpp"

namespace vmtune::ui::report {
namespace {

using json::Json;

// The text policy (vmtune(8), "Untrusted text"): every string goes through core::escape_text;
// multi-line prose (rationale, notes, reasons) through core::escape_lines, which keeps '\n'.
Json t(const std::string& s) { return core::escape_text(s); }
Json lines(const std::string& s) { return core::escape_lines(s); }

Json text_array(const std::vector<std::string>& v, Json (*f)(const std::string&)) {
  Json arr = Json::array();
  for (const auto& s : v) arr.push_back(f(s));
  return arr;
}

Json number_or_null(double v) { return std::isfinite(v) ? Json(v) : Json(); }

template <typename T>
Json opt(const std::optional<T>& v) {
  return v ? Json(*v) : Json();
}

Json recommendation_json(const rules::Recommendation& r) {
  Json j;
  j["kind"] = rules::to_string(r.kind);
  j["key"] = t(r.key);
  j["target"] = t(r.target);
  j["current"] = t(r.current);
  j["proposed"] = t(r.proposed);
  j["host_level"] = r.host_level;
  j["note"] = lines(r.note);
  j["apply"] = t(r.apply);
  if (r.provenance) {
    Json p;
    p["source"] = t(r.provenance->source);
    p["line"] = r.provenance->line;
    p["conflicts"] = Json::array();
    for (const auto& c : r.provenance->conflicts) {
      p["conflicts"].push_back({{"file", t(c.file)}, {"line", c.line}, {"value", t(c.value)}});
    }
    j["provenance"] = std::move(p);
  } else {
    j["provenance"] = nullptr;
  }
  j["effects"] = Json::array();
  for (const auto& e : r.effects) {
    j["effects"].push_back({{"name", t(e.name)},
                            {"before", number_or_null(e.before)},
                            {"after", number_or_null(e.after)},
                            {"unit", t(e.unit)}});
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
  j["input"] = {
      {"live", rep.live},
      {"source", t(rep.input)},
      {"window_s", rep.window_s},
      {"traced", rep.traced},
      {"rules_loaded", rep.rules_loaded},
      {"min_severity", rep.min_severity ? Json(rules::to_string(*rep.min_severity)) : Json()}};
  const auto& c = rep.evaluation.context;
  j["context"] = {{"in_container", c.in_container},
                  {"container", t(c.container)},
                  {"cgroup_limited", c.cgroup_limited},
                  {"cgroup", t(c.cgroup)},
                  {"memory_max", opt(c.memory_max)},
                  {"memory_high", opt(c.memory_high)},
                  {"memory_current", opt(c.memory_current)},
                  {"limit_from", t(c.limit_from)},
                  {"proc_sys_read_only", opt(c.proc_sys_read_only)},
                  {"reasons", text_array(c.reasons, lines)}};
  const auto counts = count_findings(ev);
  j["summary"] = {{"critical", counts.critical},
                  {"warning", counts.warning},
                  {"info", counts.info},
                  {"not_evaluated", ev.not_evaluated.size()}};
  j["findings"] = Json::array();
  for (const auto& f : ev.findings) {
    Json fj;
    fj["rule_id"] = t(f.rule_id);
    fj["title"] = t(f.title);
    fj["subject"] = t(f.subject);
    fj["severity"] = rules::to_string(f.severity);
    fj["rule_file"] = t(f.rule_file);
    fj["evidence"] = Json::array();
    for (const auto& e : f.evidence) {
      fj["evidence"].push_back({{"name", t(e.name)},
                                {"expression", t(e.expression)},
                                {"value", e.number ? number_or_null(*e.number) : Json()},
                                {"text", t(e.text)},
                                {"unit", t(e.unit)}});
    }
    fj["recommendations"] = Json::array();
    for (const auto& r : f.recommendations) fj["recommendations"].push_back(recommendation_json(r));
    fj["rationale"] = lines(f.rationale);
    fj["references"] = text_array(f.references, t);
    j["findings"].push_back(std::move(fj));
  }
  j["not_evaluated"] = Json::array();
  for (const auto& n : ev.not_evaluated) {
    j["not_evaluated"].push_back({{"rule_id", t(n.rule_id)},
                                  {"title", t(n.title)},
                                  {"subject", t(n.subject)},
                                  {"reason", lines(n.reason)}});
  }
  j["notes"] = text_array(ev.notes, lines);
  j["unavailable"] = Json::array();
  for (const auto& u : rep.unavailable) {
    j["unavailable"].push_back({{"source", t(u.source)},
                                {"path", t(u.path)},
                                {"line", u.line},
                                {"field", t(u.field)},
                                {"reason", lines(u.reason)}});
  }
  return j;
}

std::string render_audit_json(const AuditReport& rep) {
  return json::dump(audit_to_json(rep), 2) + "\n";
}

}  // namespace vmtune::ui::report
