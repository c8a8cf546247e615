// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// `vmtune audit --format json`: the stable schema documented in vmtune(8), "AUDIT JSON".
// Top level: {"schema": "vmtune-audit", "version": 1, "host", "input", "context", "summary",
// "findings", "not_evaluated", "notes", "unavailable"}. Fields are only ever added.

#include <string>

#include "json/sample_json.hpp"
#include "ui/report/audit_text.hpp"

namespace vmtune::ui::report {

inline constexpr int kAuditJsonVersion = 1;

/// Every string escaped by the text policy (vmtune(8), "Untrusted text"); prose keeps its '\n'.
json::Json audit_to_json(const AuditReport& report);
/// json::dump(audit_to_json(report), 2) plus a final newline.
std::string render_audit_json(const AuditReport& report);

}  // namespace vmtune::ui::report
