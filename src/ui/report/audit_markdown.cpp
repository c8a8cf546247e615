// SPDX-License-Identifier: GPL-2.0-or-later
#include "ui/report/audit_markdown.hpp"

#include <cctype>

#include "core/escape.hpp"
#include "present/format.hpp"

namespace vmtune::ui::report {
namespace {

std::string md(const std::string& s) { return core::escape_markdown(s); }

// Prose (rationale, notes, reasons) is reflowed to one line: line breaks inside a table cell or
// a paragraph would otherwise show as \x0a.
std::string prose(const std::string& s) {
  std::string flat;
  bool blank = false;
  for (char c : s) {
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
      blank = true;
      continue;
    }
    if (blank && !flat.empty()) flat += ' ';
    blank = false;
    flat += c;
  }
  return core::escape_markdown(flat);
}

// Markdown escaping of a value formatted for people (format_quantity escapes for terminals;
// it only ever adds plain ASCII, so escaping again for Markdown is safe).
std::string mdq(const std::string& already_text_escaped) {
  return core::escape_markdown(already_text_escaped);
}

std::string render_header(const AuditReport& rep) {
  std::string out = "# vmtune audit: " + md(host_label(rep.host)) + "\n\n";
  out += "| | |\n|---|---|\n";
  out += "| kernel | " + md(rep.host.kernel_release) + " |\n";
  out += "| CPUs | " + std::to_string(rep.host.cpus) + " |\n";
  out += "| page size | " + present::bytes(rep.host.page_size) + " |\n";
  out += "| input | " + (rep.live ? std::string("this machine") : md(rep.input)) + " |\n";
  out +=
      "| window | " +
      (rep.window_s > 0 ? present::fixed(rep.window_s, 1) + " s" : std::string("counters only")) +
      " |\n";
  out += "| rules | " + std::to_string(rep.rules_loaded) + " |\n";
  const auto& context = rep.evaluation.context;
  if (context.restricted()) {
    std::string ctx = context_kind(context);
    for (const auto& r : context.reasons) ctx += "; " + r;
    out += "| context | " + prose(ctx) + " |\n";
  }
  out += "\n**" + std::to_string(rep.evaluation.findings.size()) +
         " findings**: " + findings_breakdown(rep) + "\n";
  return out;
}

std::string render_evidence(const std::vector<rules::Evidence>& evidence) {
  if (evidence.empty()) return {};
  std::string out = "| evidence | value | expression |\n|---|---|---|\n";
  for (const auto& e : evidence) {
    out += "| " + md(e.name) + " | " + mdq(format_evidence_value(e)) + " | " + md(e.expression) +
           " |\n";
  }
  return out + "\n";
}

// One row of the change table.
std::string render_change(const rules::Recommendation& r) {
  std::string from;
  if (r.provenance) {
    from = md(r.provenance->source) +
           (r.provenance->line > 0 ? ":" + std::to_string(r.provenance->line) : "");
    for (const auto& k : r.provenance->conflicts) {
      from += "<br>overrides " + md(k.value) + " from " + md(k.file) + ":" + std::to_string(k.line);
    }
  }
  std::string effects;
  for (const auto& e : r.effects) {
    if (!effects.empty()) effects += "<br>";
    effects += md(e.name) + ": " + mdq(format_quantity(e.before, e.unit)) + " → " +
               mdq(format_quantity(e.after, e.unit));
  }
  return "| " + mdq(recommendation_label(r)) + (r.host_level ? " (host-wide)" : "") + " | " +
         (r.current.empty() ? std::string("?") : md(r.current)) + " | **" + md(r.proposed) +
         "** | " + from + " | " + effects + " |\n";
}

std::string render_changes(const std::vector<rules::Recommendation>& recommendations) {
  if (recommendations.empty()) return {};
  std::string out =
      "| change | current | proposed | today's value from | predicted effect |\n"
      "|---|---|---|---|---|\n";
  for (const auto& r : recommendations) out += render_change(r);
  for (const auto& r : recommendations) {
    if (!r.note.empty()) out += "\n> " + mdq(recommendation_label(r)) + ": " + prose(r.note) + "\n";
  }
  // The lines that apply them, as a shell block to copy; a line with a backquote or tilde (which
  // could close the fence) is shown as escaped text instead.
  std::string block;
  std::string loose;
  for (const auto& r : recommendations) {
    if (r.apply.empty()) continue;
    const auto line = core::escape_text(r.apply);
    if (line.find_first_of("`~") == std::string::npos) {
      block += line + "\n";
    } else {
      loose += "\napply: " + md(r.apply) + "\n";
    }
  }
  if (!block.empty()) out += "\n```sh\n" + block + "```\n";
  out += loose;
  return out + "\n";
}

std::string render_finding(const rules::Finding& f) {
  std::string sev = rules::to_string(f.severity);
  for (auto& ch : sev) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  std::string out = "\n### " + sev + " " + md(f.rule_id) + ": " + md(f.title) + "\n\n";
  if (!f.subject.empty()) out += "**Instance:** " + md(f.subject) + "\n\n";
  out += render_evidence(f.evidence);
  out += render_changes(f.recommendations);
  if (!f.rationale.empty()) out += "**Why.** " + prose(f.rationale) + "\n\n";
  if (!f.references.empty()) {
    out += "**References.**\n";
    for (const auto& ref : f.references) out += "- <" + md(ref) + ">\n";
    out += "\n";
  }
  if (!f.rule_file.empty()) out += "<sub>rule: " + md(f.rule_file) + "</sub>\n";
  return out;
}

std::string render_not_evaluated(const std::vector<rules::NotEvaluated>& list) {
  if (list.empty()) return {};
  std::string out = "\n## Not evaluated\n\n| rule | title | reason |\n|---|---|---|\n";
  for (const auto& n : list) {
    out += "| " + md(n.rule_id) + " | " + md(n.title) +
           (n.subject.empty() ? "" : " (" + md(n.subject) + ")") + " | " + prose(n.reason) + " |\n";
  }
  return out;
}

std::string render_notes(const std::vector<std::string>& notes) {
  if (notes.empty()) return {};
  std::string out = "\n## Notes\n\n";
  for (const auto& n : notes) out += "- " + prose(n) + "\n";
  return out;
}

std::string render_unavailable(const std::vector<model::Unavailable>& list) {
  if (list.empty()) return {};
  std::string out = "\n## Not measured\n\n| source | path | reason |\n|---|---|---|\n";
  for (const auto& u : list) {
    std::string where = md(u.path);
    if (u.line > 0) where += ":" + std::to_string(u.line);
    if (!u.field.empty()) where += " field " + md(u.field);
    out += "| " + md(u.source) + " | " + where + " | " + prose(u.reason) + " |\n";
  }
  return out;
}

}  // namespace

std::string render_audit_markdown(const AuditReport& rep) {
  const auto& ev = rep.evaluation;
  std::string out = render_header(rep);
  if (!ev.findings.empty()) out += "\n## Findings\n";
  for (const auto& f : ev.findings) out += render_finding(f);
  out += render_not_evaluated(ev.not_evaluated);
  out += render_notes(ev.notes);
  out += render_unavailable(rep.unavailable);
  return out;
}

}  // namespace vmtune::ui::report
