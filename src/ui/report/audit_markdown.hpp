// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// `vmtune audit --format markdown`: a report to paste into a ticket (GitHub/GitLab flavour).
// Untrusted text goes through core::escape_markdown and never into a code span (where Markdown
// would show the backslash escapes literally).

#include <string>

#include "ui/report/audit_text.hpp"

namespace vmtune::ui::report {

std::string render_audit_markdown(const AuditReport& report);

}  // namespace vmtune::ui::report
