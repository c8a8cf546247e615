// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// The text report of an eBPF trace (`vmtune trace`, and the audit's trace section).

#include <string>

#include "model/bpf_stats.hpp"

namespace vmtune::ui::report {

/// Probe status with reasons, histograms, top stalled processes, slow stalls, OOM kills and
/// fault counts. Untrusted text (comm, cgroup paths) is escaped.
std::string render_trace_text(const model::BpfStats& stats);

}  // namespace vmtune::ui::report
