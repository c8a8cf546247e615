// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// The eBPF trace: start the requested probe groups, let them count in kernel maps, poll the
// ring buffers for rare events, then read everything into a model::BpfStats and detach.
// Nothing BPF-specific leaks out of this header.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "core/root_fs.hpp"
#include "model/bpf_stats.hpp"

namespace vmtune::collect::bpf {

/// Which attach mode to use per tracepoint.
enum class AttachPreference {
  automatic,  ///< tp_btf where the kernel's BTF has the tracepoint, else classic tp
  tp_btf,     ///< tp_btf only
  tp,         ///< classic tracepoints only (needs root and tracefs)
};

/// Every probe group, in display order: reclaim, compaction, thp, writeback, oom, faults.
const std::vector<std::string>& all_probe_names();
/// The low-rate stall probes traced by default (everything but "faults").
const std::vector<std::string>& default_probe_names();
/// "reclaim,faults" -> validated names in display order; "default" and "all" are accepted.
core::Result<std::vector<std::string>> parse_probe_list(std::string_view text);
core::Result<AttachPreference> parse_attach_preference(std::string_view text);

struct TraceOptions {
  std::vector<std::string> probes = default_probe_names();
  AttachPreference prefer = AttachPreference::automatic;
  std::uint64_t slow_event_us = 10000;  ///< stalls at least this long cross the ring buffer
  std::size_t top_n = 10;               ///< processes kept per top list
  std::size_t max_slow_events = 1000;   ///< ring-buffer records kept (later ones are counted)
};

class TraceSession {
 public:
  /// Probes the kernel and attaches what it can. Never fails: each probe's status says why it
  /// is unavailable. Programs stay attached until finish(), detach() or destruction.
  static std::unique_ptr<TraceSession> start(const core::RootFs& fs, const TraceOptions& options);
  ~TraceSession();
  TraceSession(const TraceSession&) = delete;
  TraceSession& operator=(const TraceSession&) = delete;

  /// Status of every requested probe (and "fault_latency" when faults were requested).
  const std::vector<model::ProbeStatus>& probes() const noexcept;
  bool any_attached() const noexcept;
  /// Waits up to timeout_ms for ring-buffer records and consumes them.
  void poll(int timeout_ms);
  /// Reads every map as it stands, leaving the programs attached: histograms and counters are
  /// totals since attach (ring-buffer records consumed so far are handed over once). Empty
  /// after finish().
  model::BpfStats read(double elapsed_s);
  /// Reads every map, detaches everything and returns the result. `duration_s` is the
  /// measured window.
  model::BpfStats finish(double duration_s);

 private:
  struct Impl;
  explicit TraceSession(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// Starts a session, traces for `seconds` (or until *stop), and returns what it saw.
/// `progress(elapsed, total)` is called about every 100 ms; `on_attached` once after attach.
model::BpfStats run_trace(
    const core::RootFs& fs, const TraceOptions& options, double seconds,
    const std::atomic<bool>* stop, const std::function<void(double, double)>& progress = {},
    const std::function<void(const std::vector<model::ProbeStatus>&)>& on_attached = {});

}  // namespace vmtune::collect::bpf
