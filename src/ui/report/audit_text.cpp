// SPDX-License-Identifier: GPL-2.0-or-later
#include "ui/report/audit_text.hpp"

#include <cctype>
#include <cmath>
#include <sstream>

#include "core/escape.hpp"
#include "present/format.hpp"

namespace vmtune::ui::report {
namespace {

using core::escape_text;

constexpr int kWidth = 100;

struct Style {
  bool on = false;
  std::string wrap(const char* code, const std::string& s) const {
    return on ? std::string("\033[") + code + "m" + s + "\033[0m" : s;
  }
  std::string bold(const std::string& s) const { return wrap("1", s); }
  std::string dim(const std::string& s) const { return wrap("2", s); }
  std::string severity(rules::Severity sev) const {
    std::string label = "[" + upper(rules::to_string(sev)) + "]";
    switch (sev) {
      case rules::Severity::critical:
        return wrap("1;31", label);
      case rules::Severity::warning:
        return wrap("1;33", label);
      case rules::Severity::info:
        return wrap("1;36", label);
    }
    return label;
  }
  static std::string upper(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
  }
};

// Word-wraps untrusted text at kWidth with `indent` spaces on every line. The text is split
// on blanks and newlines first and every word escaped, so line breaks in a rule's rationale
// reflow instead of showing as \x0a.
std::string wrap(const std::string& raw, int indent) {
  std::istringstream in(raw);
  std::string raw_word, word, out, line;
  const std::string pad(static_cast<std::size_t>(indent), ' ');
  while (in >> raw_word) {
    word = escape_text(raw_word);
    if (!line.empty() && static_cast<int>(line.size() + 1 + word.size()) + indent > kWidth) {
      out += pad + line + "\n";
      line.clear();
    }
    line += (line.empty() ? "" : " ") + word;
  }
  if (!line.empty()) out += pad + line + "\n";
  return out;
}

std::string effect_text(const rules::PredictedEffect& e) {
  return escape_text(e.name) + ": " + format_quantity(e.before, e.unit) + " → " +
         format_quantity(e.after, e.unit);
}

std::string render_header(const AuditReport& rep, const Style& st) {
  std::string out = st.bold("vmtune audit: " + escape_text(host_label(rep.host))) + "\n";
  out += "  kernel " + escape_text(rep.host.kernel_release) + ", " + std::to_string(rep.host.cpus) +
         " CPUs, page size " + present::bytes(rep.host.page_size) + "\n";
  out += "  input: " + (rep.live ? std::string("this machine") : escape_text(rep.input)) +
         (rep.window_s > 0 ? ", rates over " + present::fixed(rep.window_s, 1) + " s"
                           : std::string(", counters only (no rates)")) +
         (rep.traced ? ", eBPF tracing" : "") + "; " + std::to_string(rep.rules_loaded) +
         " rules\n";
  const auto& ctx = rep.evaluation.context;
  if (ctx.restricted()) {
    out += "  context: " + std::string(context_kind(ctx));
    for (const auto& r : ctx.reasons) out += "; " + escape_text(r);
    out += "\n";
  }
  const auto n = rep.evaluation.findings.size();
  out += "\n" + st.bold(std::to_string(n) + " finding" + (n == 1 ? "" : "s")) + ": " +
         findings_breakdown(rep) + "\n";
  return out;
}

std::string render_evidence(const std::vector<rules::Evidence>& evidence, const Style& st) {
  if (evidence.empty()) return {};
  std::string out = "  Evidence:\n";
  for (const auto& e : evidence) {
    out += "    " + escape_text(e.name) + " = " + format_evidence_value(e);
    if (!e.expression.empty() && e.expression != e.name) {
      out += "  " + st.dim("(" + escape_text(e.expression) + ")");
    }
    out += "\n";
  }
  return out;
}

std::string render_change(const rules::Recommendation& r, const Style& st) {
  std::string out = "    " + recommendation_label(r) + ": " +
                    (r.current.empty() ? std::string("?") : escape_text(r.current)) + " → " +
                    st.bold(escape_text(r.proposed)) + (r.host_level ? "  (host-wide)" : "") + "\n";
  if (!r.apply.empty()) out += "      apply: " + escape_text(r.apply) + "\n";
  if (r.provenance) {
    const auto& p = *r.provenance;
    out += "      today's value from: " + escape_text(p.source) +
           (p.line > 0 ? ":" + std::to_string(p.line) : "") + "\n";
    for (const auto& c : p.conflicts) {
      out += "      also set to " + escape_text(c.value) + " by " + escape_text(c.file) + ":" +
             std::to_string(c.line) + " (overridden)\n";
    }
  }
  for (const auto& e : r.effects) out += "      effect: " + effect_text(e) + "\n";
  if (!r.note.empty()) out += wrap("note: " + r.note, 6);
  return out;
}

std::string render_finding(const rules::Finding& f, const Style& st) {
  std::string out = "\n" + st.severity(f.severity) + " " + st.bold(escape_text(f.rule_id)) + "  " +
                    st.bold(escape_text(f.title)) + "\n";
  if (!f.subject.empty()) out += "  Instance: " + escape_text(f.subject) + "\n";
  out += render_evidence(f.evidence, st);
  if (!f.recommendations.empty()) {
    out += "  Change:\n";
    for (const auto& r : f.recommendations) out += render_change(r, st);
  }
  if (!f.rationale.empty()) out += "  Why:\n" + wrap(f.rationale, 4);
  if (!f.references.empty()) {
    out += "  References:\n";
    for (const auto& ref : f.references) out += "    " + escape_text(ref) + "\n";
  }
  if (!f.rule_file.empty()) out += "  " + st.dim("rule: " + escape_text(f.rule_file)) + "\n";
  return out;
}

std::string render_not_evaluated(const std::vector<rules::NotEvaluated>& list, const Style& st) {
  if (list.empty()) return {};
  std::string out = "\n" + st.bold("Not evaluated (" + std::to_string(list.size()) + ")") + "\n";
  for (const auto& n : list) {
    out += "  " + escape_text(n.rule_id) + "  " + escape_text(n.title) +
           (n.subject.empty() ? "" : " (" + escape_text(n.subject) + ")") + "\n";
    out += wrap(n.reason, 6);
  }
  return out;
}

std::string render_notes(const std::vector<std::string>& notes, const Style& st) {
  if (notes.empty()) return {};
  std::string out = "\n" + st.bold("Notes") + "\n";
  for (const auto& n : notes) {
    std::string w = wrap(n, 4);
    if (w.size() >= 4) w.replace(2, 1, "-");
    out += w;
  }
  return out;
}

std::string render_unavailable(const std::vector<model::Unavailable>& list, const Style& st) {
  if (list.empty()) return {};
  std::string out = "\n" + st.bold("Not measured (" + std::to_string(list.size()) + ")") + "\n";
  for (const auto& u : list) {
    std::string where = escape_text(u.path);
    if (u.line > 0) where += ":" + std::to_string(u.line);
    if (!u.field.empty()) where += " field \"" + escape_text(u.field) + "\"";
    out += "  " + escape_text(u.source) + "  " + where + "\n" + wrap(u.reason, 6);
  }
  return out;
}

}  // namespace

SeverityCounts count_findings(const rules::Evaluation& eval) {
  SeverityCounts c;
  for (const auto& f : eval.findings) {
    switch (f.severity) {
      case rules::Severity::critical:
        ++c.critical;
        break;
      case rules::Severity::warning:
        ++c.warning;
        break;
      case rules::Severity::info:
        ++c.info;
        break;
    }
  }
  return c;
}

std::string findings_breakdown(const AuditReport& rep) {
  const auto c = count_findings(rep.evaluation);
  return std::to_string(c.critical) + " critical, " + std::to_string(c.warning) + " warning, " +
         std::to_string(c.info) + " info" +
         (rep.min_severity
              ? " (shown: " + std::string(rules::to_string(*rep.min_severity)) + " and above)"
              : std::string());
}

std::string host_label(const model::HostInfo& host) {
  return host.hostname.empty() ? "(host name not recorded)" : host.hostname;
}

const char* context_kind(const rules::AuditContext& context) {
  return context.in_container ? "inside a container" : "memory-limited cgroup";
}

std::string format_quantity(double v, const std::string& unit) {
  if (!std::isfinite(v)) return "n/a";
  if (unit == "bytes" && v >= 0) return present::bytes(static_cast<std::uint64_t>(std::llround(v)));
  if (unit == "%") return present::fixed(v, v == std::floor(v) ? 0 : 1) + "%";
  if (unit == "ratio") return present::fixed(v, 3);
  const bool integral = v == std::floor(v) && std::fabs(v) < 1e15;
  std::string num =
      integral ? present::fixed(v, 0) : present::fixed(v, std::fabs(v) >= 100 ? 1 : 3);
  return unit.empty() ? num : num + " " + escape_text(unit);
}

std::string format_evidence_value(const rules::Evidence& e) {
  if (e.number) return format_quantity(*e.number, e.unit);
  return escape_text(e.text) + (e.unit.empty() ? "" : " " + escape_text(e.unit));
}

std::string recommendation_label(const rules::Recommendation& r) {
  std::string label = std::string(rules::to_string(r.kind)) + " " + escape_text(r.key);
  if (!r.target.empty()) label += " of " + escape_text(r.target);
  return label;
}

std::string render_audit_text(const AuditReport& rep, bool color) {
  const Style st{color};
  const auto& ev = rep.evaluation;
  std::string out = render_header(rep, st);
  for (const auto& f : ev.findings) out += render_finding(f, st);
  out += render_not_evaluated(ev.not_evaluated, st);
  out += render_notes(ev.notes, st);
  out += render_unavailable(rep.unavailable, st);
  if (ev.findings.empty()) {
    out += "\nNothing to change at the shown severities.\n";
  }
  return out;
}

}  // namespace vmtune::ui::report
