// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// The seam between `vmtune audit --trace S` (src/app/cmd_audit.cpp) and the eBPF probes
// (bpf/, src/collect/bpf/). The eBPF module implements attach_trace_to_sample() in
// src/app/trace_hook.cpp and, in the same change, sets VMTUNE_TRACE_HOOK_IMPLEMENTED to 1
// below. Until then `audit --trace` says "eBPF tracing is not built into this binary" and
// continues without it (no weak symbols: a missing implementation is a link error, never a
// silent no-op).

#include "app/commands.hpp"
#include "app/input.hpp"
#include "model/sample.hpp"

#ifndef VMTUNE_TRACE_HOOK_IMPLEMENTED
#define VMTUNE_TRACE_HOOK_IMPLEMENTED 1
#endif

namespace vmtune::app {

struct TraceRequest {
  double seconds = 0;     ///< how long to trace (> 0)
  bool progress = false;  ///< print a progress line on stderr (stderr is a terminal)
};

/// Runs the default probe set on the live machine for `request.seconds` and stores what the
/// probes saw in `sample.bpf` (state ok; or unsupported / permission_denied with the reason,
/// e.g. "not root", plus one model::Unavailable per probe that could not attach). Returns early
/// with what it has when ctx.stop becomes true. Never throws. Called only when input.live().
void attach_trace_to_sample(Context& ctx, const Input& input, model::Sample& sample,
                            const TraceRequest& request);

}  // namespace vmtune::app
