// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// `vmtune audit` reports. AuditReport is what every audit front end renders (text here,
// Markdown in audit_markdown.hpp, JSON in audit_json.hpp): the engine's evaluation after
// provenance, predicted effects and context were attached, plus what was not measured. No I/O.

#include <optional>
#include <string>
#include <vector>

#include "model/sample.hpp"
#include "rules/context.hpp"
#include "rules/finding.hpp"

namespace vmtune::ui::report {

struct AuditReport {
  model::HostInfo host;
  std::string input;  ///< "live", or the --root path (untrusted text)
  bool live = true;
  double window_s = 0;  ///< seconds between the two samples; 0 = counters only
  bool traced = false;  ///< eBPF data present
  std::size_t rules_loaded = 0;
  std::optional<rules::Severity> min_severity;  ///< findings below it were left out
  rules::Evaluation evaluation;                 ///< findings already filtered, most severe first
  std::vector<model::Unavailable> unavailable;  ///< what was not measured, and why
};

/// Counts per severity of the findings in the report.
struct SeverityCounts {
  int critical = 0, warning = 0, info = 0;
};
SeverityCounts count_findings(const rules::Evaluation& eval);
/// "2 critical, 1 warning, 0 info", plus " (shown: warning and above)" when a minimum severity
/// left findings out: the summary every audit front end prints after the finding count.
std::string findings_breakdown(const AuditReport& report);

/// The host name, or "(host name not recorded)"; untrusted text, not escaped.
std::string host_label(const model::HostInfo& host);
/// Why advice is restricted: "inside a container" or "memory-limited cgroup".
const char* context_kind(const rules::AuditContext& context);

/// A number with its unit for people: bytes -> "1.50 GiB", pages -> "12 pages", "%" -> "3.5%",
/// "pages/s" -> "12.00 pages/s"; integers print without decimals.
std::string format_quantity(double value, const std::string& unit);
/// The evidence value as shown (its text for strings, format_quantity for numbers).
std::string format_evidence_value(const rules::Evidence& e);
/// "memory.high of /sys.slice/x" for cgroup advice, "vm.swappiness" for sysctl, ...
std::string recommendation_label(const rules::Recommendation& r);

/// Text for a terminal (ANSI colour when `color`); every untrusted string escaped.
std::string render_audit_text(const AuditReport& report, bool color);

}  // namespace vmtune::ui::report
