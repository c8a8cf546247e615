// SPDX-License-Identifier: GPL-2.0-or-later
// `audit --trace S`: the eBPF probes through collect/bpf.
#include "app/trace_hook.hpp"

#include <iostream>

#include "collect/bpf/trace_session.hpp"
#include "collect/source_util.hpp"

namespace vmtune::app {

void attach_trace_to_sample(Context& ctx, const Input& input, model::Sample& sample,
                            const TraceRequest& request) {
  if (!input.live()) {
    sample.bpf.state = model::SourceState::unsupported;
    sample.bpf.reason = "unsupported (snapshot): eBPF probes need the live machine";
    return;
  }
  collect::bpf::TraceOptions options;
  auto stats = collect::bpf::run_trace(
      input.fs(), options, request.seconds, &ctx.stop, [&request](double elapsed, double total) {
        if (request.progress) {
          std::cerr << "\rvmtune: tracing, " << static_cast<int>(total - elapsed + 0.999)
                    << " s left " << std::flush;
        }
      });
  if (request.progress) std::cerr << "\r\033[K" << std::flush;
  bool any = false;
  bool denied = false;
  std::string first_reason;
  for (const auto& p : stats.probes) {
    if (p.attached) {
      any = true;
      continue;
    }
    if (p.reason.find("needs root") != std::string::npos) denied = true;
    if (first_reason.empty() && p.name != "fault_latency") first_reason = p.reason;
    collect::add_unavailable(sample, model::Unavailable{"bpf." + p.name, "", 0, "", p.reason});
  }
  if (any) {
    sample.bpf.state = model::SourceState::ok;
    sample.bpf.reason.clear();
    sample.bpf.value = std::move(stats);
  } else {
    sample.bpf.state =
        denied ? model::SourceState::permission_denied : model::SourceState::unsupported;
    sample.bpf.reason = first_reason.empty() ? "no eBPF probe could be attached" : first_reason;
    sample.bpf.value.reset();
  }
}

}  // namespace vmtune::app
