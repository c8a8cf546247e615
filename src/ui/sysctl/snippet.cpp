// SPDX-License-Identifier: GPL-2.0-or-later
#include "ui/sysctl/snippet.hpp"

#include <fmt/format.h>

#include <map>

#include "core/escape.hpp"
#include "core/version.hpp"

namespace vmtune::ui::sysctl {
namespace {

using core::escape_text;
using plan::Change;
using rules::RecommendationKind;

/// The header every format shares; `comment` is "#" or "--" (SQL); `apply` and `undo` say how.
std::string header_lines(const Header& h, const std::string& what, const std::string& apply,
                         const std::string& undo, const char* comment = "#") {
  std::string out;
  const auto line = [&](const std::string& text) {
    out += text.empty() ? std::string(comment) + "\n" : std::string(comment) + " " + text + "\n";
  };
  line("vmtune " + what + " for " + escape_text(h.host.empty() ? "(unnamed host)" : h.host) +
       ", kernel " + escape_text(h.kernel) + ", " + h.generated + ", vmtune " + core::kVersion);
  line(std::string(kMarker) + " from " + escape_text(h.input) +
       "; `vmtune sysctl -o` overwrites only files that carry this line.");
  line("Apply: " + apply);
  line("Undo:  " + undo);
  if (!h.context_note.empty()) line(escape_text(h.context_note));
  line("");
  return out;
}

std::string rules_of(const Change& c) {
  std::string out;
  for (const auto& r : c.rules) out += (out.empty() ? "" : ", ") + escape_text(r);
  return out + " (" + rules::to_string(c.severity) + ")";
}

/// "# R-SWAP-1 (warning): evidence" and "# vm.swappiness: 60 -> 10" above a setting.
std::string change_comment(const Change& c, const char* comment = "#") {
  const std::string p(comment);
  std::string out = p + " " + rules_of(c);
  if (!c.evidence.empty()) out += ": " + escape_text(c.evidence);
  out += "\n" + p + " " + escape_text(c.key) +
         (c.target.empty() ? "" : " of " + escape_text(c.target)) + ": " +
         escape_text(c.current.empty() ? "(unknown)" : c.current) + " -> " +
         escape_text(c.proposed) + "\n";
  if (!c.note.empty()) out += p + " note: " + escape_text(c.note) + "\n";
  return out;
}

bool in_sysctl_file(const Change& c) {
  return c.kind == RecommendationKind::sysctl && c.problem.empty();
}

/// systemd's property for a cgroup memory file, for units (slice/service/scope) only.
std::string systemd_property(const Change& c) {
  static const std::map<std::string, std::string> kProps = {{"memory.high", "MemoryHigh"},
                                                            {"memory.max", "MemoryMax"},
                                                            {"memory.low", "MemoryLow"},
                                                            {"memory.min", "MemoryMin"}};
  const auto prop = kProps.find(c.key);
  const auto slash = c.target.rfind('/');
  if (prop == kProps.end() || slash == std::string::npos) return {};
  const std::string unit = c.target.substr(slash + 1);
  for (const char* suffix : {".slice", ".service", ".scope"}) {
    const std::string s(suffix);
    if (unit.size() > s.size() && unit.compare(unit.size() - s.size(), s.size(), s) == 0) {
      return "systemctl set-property " + plan::shell_quote(unit) + " " + prop->second + "=" +
             c.proposed;
    }
  }
  return {};
}

/// The lines that persist a change that is not a sysctl, for the comments of other formats.
std::string other_form(const Change& c) {
  switch (c.kind) {
    case RecommendationKind::thp:
    case RecommendationKind::hugetlb:
      return "tmpfiles.d: w " + c.path + " - - - - " + c.proposed;
    case RecommendationKind::kernel_cmdline:
      return "kernel command line: " + c.key + "=" + c.proposed;
    case RecommendationKind::postgresql:
      return "postgresql.conf: " + c.key + " = '" + c.proposed + "'";
    case RecommendationKind::cgroup: {
      const auto unit = systemd_property(c);
      return unit.empty() ? c.apply_line : unit + "  (persists; or now: " + c.apply_line + ")";
    }
    case RecommendationKind::sysctl:
      return c.apply_line;
  }
  return c.apply_line;
}

std::string plan_summary(const plan::Plan& plan, const char* comment = "#") {
  std::string out = std::string(comment) + " Plan, in this order:\n";
  int n = 0;
  for (const auto& s : plan.steps) {
    out += fmt::format("{}   {}. {} ({})\n", comment, ++n, escape_text(s.title),
                       s.disruption == plan::Disruption::none     ? "takes effect now"
                       : s.disruption == plan::Disruption::reboot ? "needs a reboot"
                                                                  : "needs a restart");
    for (const auto& check : s.checks) {
      out += std::string(comment) + "      " + escape_text(check) + "\n";
    }
  }
  return out + comment + "\n";
}

const char* kNothing =
    "# Nothing to change: every setting vmtune would propose is already in place.\n";

}  // namespace

std::string render_sysctl_conf(const plan::Plan& plan, const Header& header) {
  std::string out = header_lines(
      header, "sysctl settings", "sysctl -p FILE (or install it in /etc/sysctl.d/ to persist)",
      "delete the file, then set each previous value (shown as current -> proposed) with "
      "sysctl -w");
  if (plan.empty()) return out + kNothing;
  out += plan_summary(plan);
  bool any = false;
  for (const auto* c : plan.changes()) {
    if (!in_sysctl_file(*c)) continue;
    out += change_comment(*c) + c->key + " = " + c->proposed + "\n\n";
    any = true;
  }
  if (!any) out += "# No sysctl to set; the other changes follow.\n\n";
  for (const auto* c : plan.changes()) {
    if (in_sysctl_file(*c)) continue;
    if (!c->problem.empty()) {
      out += "# Left out: " + escape_text(c->key) + " = " + escape_text(c->proposed) + ": " +
             escape_text(c->problem) + "\n";
      continue;
    }
    out += change_comment(*c) + "#   not a sysctl: " + escape_text(other_form(*c)) + "\n\n";
  }
  return out;
}

std::string render_tuned(const plan::Plan& plan, const Header& header,
                         const std::string& active_profile) {
  std::string out = header_lines(header, "tuned profile",
                                 "mkdir /etc/tuned/vmtune && cp FILE /etc/tuned/vmtune/tuned.conf "
                                 "&& tuned-adm profile vmtune",
                                 "tuned-adm profile <the previous profile>");
  if (plan.empty()) return out + kNothing;
  out += "[main]\nsummary=vmtune recommendations\n";
  if (!active_profile.empty() && active_profile.find_first_of("\n\r") == std::string::npos) {
    out += "include=" + escape_text(active_profile) + "\n";
  } else {
    out += "# include=<the active profile> (not known here)\n";
  }
  std::string sysctl, vm, sysfs, boot;
  for (const auto* c : plan.changes()) {
    if (!c->problem.empty()) continue;
    if (c->kind == RecommendationKind::sysctl) sysctl += c->key + "=" + c->proposed + "\n";
    if (c->kind == RecommendationKind::thp && c->key == "enabled") {
      vm += "transparent_hugepages=" + c->proposed + "\n";
    } else if (c->kind == RecommendationKind::thp || c->kind == RecommendationKind::hugetlb) {
      sysfs += c->path + "=" + c->proposed + "\n";
    }
    if (c->kind == RecommendationKind::kernel_cmdline) {
      boot += (boot.empty() ? "" : " ") + c->key + "=" + c->proposed;
    }
  }
  if (!sysctl.empty()) out += "\n[sysctl]\n" + sysctl;
  if (!vm.empty()) out += "\n[vm]\n" + vm;
  if (!sysfs.empty()) out += "\n[sysfs]\n" + sysfs;
  if (!boot.empty()) out += "\n[bootloader]\ncmdline_vmtune=" + boot + "\n";
  return out;
}

std::string render_postgresql(const plan::Plan& plan, const Header& header) {
  std::string out = header_lines(
      header, "PostgreSQL settings",
      "add the lines to postgresql.conf (or run the ALTER SYSTEM statements as a superuser), "
      "then restart the instance",
      "remove the lines (or ALTER SYSTEM RESET <setting>;) and restart");
  std::map<std::string, std::vector<const Change*>> by_instance;
  for (const auto* c : plan.changes()) {
    if (c->kind == RecommendationKind::postgresql) by_instance[c->target].push_back(c);
  }
  if (by_instance.empty()) return out + "# No PostgreSQL setting to change.\n";
  for (const auto& [instance, changes] : by_instance) {
    out += "# Instance " + escape_text(instance) + "\n# postgresql.conf:\n";
    for (const auto* c : changes) {
      out += change_comment(*c) + c->key + " = '" + escape_text(c->proposed) + "'\n";
    }
    out += "# or, connected as a superuser:\n";
    for (const auto* c : changes) out += "# " + escape_text(c->apply_line) + "\n";
    out += "\n";
  }
  return out;
}

std::string render_cmdline(const plan::Plan& plan, const Header& header) {
  std::string out = header_lines(
      header, "kernel command-line parameters",
      "add the line to GRUB_CMDLINE_LINUX in /etc/default/grub, run update-grub, reboot",
      "remove them from GRUB_CMDLINE_LINUX, run update-grub, reboot");
  std::string line;
  for (const auto* c : plan.changes()) {
    if (c->kind != RecommendationKind::kernel_cmdline || !c->problem.empty()) continue;
    out += change_comment(*c);
    line += (line.empty() ? "" : " ") + c->key + "=" + c->proposed;
  }
  if (line.empty()) return out + "# No boot parameter to change.\n";
  return out + line + "\n";
}

std::string render_tmpfiles(const plan::Plan& plan, const Header& header) {
  std::string out = header_lines(header, "tmpfiles.d lines",
                                 "install as /etc/tmpfiles.d/vmtune.conf; applied at boot, or "
                                 "now with systemd-tmpfiles --create FILE",
                                 "delete the file; the previous values are in the comments");
  bool any = false;
  for (const auto* c : plan.changes()) {
    if (c->kind != RecommendationKind::thp && c->kind != RecommendationKind::hugetlb) continue;
    if (!c->problem.empty()) continue;
    out += change_comment(*c) + "w " + c->path + " - - - - " + c->proposed + "\n";
    any = true;
  }
  return any ? out : out + "# No sysfs file to set at boot.\n";
}

std::string render_plan_text(const plan::Plan& plan, const Header& header) {
  std::string out = header_lines(header, "plan", "the commands below, step by step",
                                 "vmtune shows each previous value as current -> proposed");
  if (plan.empty()) return out + kNothing;
  int n = 0;
  for (const auto& s : plan.steps) {
    out += fmt::format("{}. {} ({})\n", ++n, escape_text(s.title), plan::to_string(s.disruption));
    for (const auto& c : s.changes) {
      out += "   " + escape_text(c.apply_line) + "\n";
      out += "      " + rules_of(c) + ": " + escape_text(c.key) + " " +
             escape_text(c.current.empty() ? "(unknown)" : c.current) + " -> " +
             escape_text(c.proposed) + (c.evidence.empty() ? "" : "; " + escape_text(c.evidence)) +
             "\n";
      if (!c.problem.empty()) out += "      cannot be applied: " + escape_text(c.problem) + "\n";
      if (!c.note.empty()) out += "      note: " + escape_text(c.note) + "\n";
    }
    for (const auto& check : s.checks) out += "   then: " + escape_text(check) + "\n";
  }
  return out;
}

json::Json plan_to_json(const plan::Plan& plan, const Header& header) {
  json::Json steps = json::Json::array();
  for (const auto& s : plan.steps) {
    json::Json changes = json::Json::array();
    for (const auto& c : s.changes) {
      changes.push_back({{"kind", rules::to_string(c.kind)},
                         {"key", c.key},
                         {"target", c.target},
                         {"current", c.current},
                         {"proposed", c.proposed},
                         {"path", c.path},
                         {"rules", c.rules},
                         {"severity", rules::to_string(c.severity)},
                         {"evidence", c.evidence},
                         {"host_level", c.host_level},
                         {"disruption", plan::to_string(c.disruption)},
                         {"apply_line", c.apply_line},
                         {"note", c.note},
                         {"problem", c.problem}});
    }
    steps.push_back({{"title", s.title},
                     {"disruption", plan::to_string(s.disruption)},
                     {"changes", std::move(changes)},
                     {"checks", s.checks}});
  }
  json::Json j = {{"schema", 1},
                  {"host", header.host},
                  {"kernel", header.kernel},
                  {"generated", header.generated},
                  {"input", header.input},
                  {"version", core::kVersion},
                  {"steps", std::move(steps)}};
  return json::escape_tree(j);
}

}  // namespace vmtune::ui::sysctl
