// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// The one sampler under every front end. It returns complete Samples (kernel files, processes,
// PostgreSQL facts, eBPF aggregates for the window) whether it reads the live machine, a plain
// captured tree (--root DIR, --proc/--sys/--etc) or a snapshot archive, and snapshots are
// written from (Window::captured, Window::extras) and replayed into exactly these Samples.
//
//   Sampler::open(origin) ─┬─ sample(options)            one reading now (or a snapshot's)
//                          └─ window(seconds, options)   two readings `seconds` apart, probes
//                                                        attached in between: a model::Snapshot
//
// Cadence: each reading costs what its Options ask. The live process scan reads smaps_rollup
// only for the processes whose fields decide something (collect::SmapsRollup::selected);
// PostgreSQL facts (a connection and a bounded page-cache walk) are gathered once per window,
// on its last reading, and eBPF probes run only when asked for.

#include <atomic>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "collect/collector.hpp"
#include "core/result.hpp"
#include "core/root_fs.hpp"
#include "json/sample_json.hpp"
#include "model/derive.hpp"
#include "snapshot/snapshot.hpp"

namespace vmtune::sampler {

/// Where readings come from: the command line's --root / --proc / --sys / --etc. All empty:
/// the live machine.
struct Origin {
  std::string root;  ///< --root DIR|FILE (a snapshot archive, unpacked snapshot or plain tree)
  std::string proc;  ///< --proc DIR
  std::string sys;   ///< --sys DIR
  std::string etc;   ///< --etc DIR
};

struct Options {
  bool processes = true;  ///< scan /proc/PID
  collect::SmapsRollup smaps = collect::SmapsRollup::selected;
  bool cgroups = true;
  bool postgres = true;  ///< PostgreSQL discovery, connection and page cache
  /// --pg, one per server; empty: the PG* environment, else each discovered socket.
  std::vector<std::string> conninfo;
  double trace_s = 0;   ///< eBPF probes for this long inside the window (live only)
  bool record = false;  ///< keep what each reading read (Window::captured), for a snapshot
};

/// What the sampler is doing while a front end waits: ("sampling" | "tracing", seconds
/// elapsed, seconds total). Called about ten times a second.
using Progress = std::function<void(std::string_view phase, double elapsed, double total)>;

struct Window {
  std::vector<model::Sample> samples;  ///< in time order; one or two (a snapshot: all it holds)
  std::vector<snapshot::CapturedSample> captured;  ///< with Options::record, one per reading
  bool interrupted = false;  ///< `stop` was set before the last reading: samples may be short
  /// The last sample and, when there are two or more, the one before it.
  model::Snapshot snapshot() const;
  /// PostgreSQL facts and eBPF aggregates of the last sample as a snapshot's meta "extras".
  json::Json extras() const;
};

class Sampler {
 public:
  static core::Result<Sampler> open(const Origin& origin);

  /// True when reading the running kernel (no --root/--proc/--sys/--etc).
  bool live() const noexcept { return fs_.is_live(); }
  bool replaying_snapshot() const noexcept { return opened_ && opened_->is_snapshot; }
  const core::RootFs& fs() const noexcept { return fs_; }
  /// How many readings the input holds: a snapshot's count, 1 for a plain tree, 0 live.
  std::size_t readings() const noexcept;

  /// One complete reading: live now (PostgreSQL included unless options say otherwise, no
  /// eBPF), or the snapshot's reading `index` (the last one when out of range) with the
  /// facts it carried. Never throws for bad data: problems land in sample.unavailable.
  model::Sample sample(const Options& options, std::size_t index = SIZE_MAX) const;

  /// Live: a reading, the probes for options.trace_s, a wait to `seconds` in all, and a second
  /// reading (only one when `seconds` is 0); PostgreSQL and eBPF data on the last reading.
  /// A snapshot: every reading it holds; a plain tree: one reading (recorded with
  /// options.record). Returns early with what it has when `stop` becomes true.
  Window window(double seconds, const Options& options, const Progress& progress = {},
                const std::atomic<bool>* stop = nullptr) const;

 private:
  model::Sample read_files(const Options& options, std::size_t index,
                           core::ReadRecord* record) const;
  void add_postgres(const Options& options, model::Sample& sample) const;
  void add_extras(model::Sample& sample) const;

  core::RootFs fs_;
  std::optional<snapshot::Opened> opened_;
};

/// Sleeps up to `seconds`, in steps of at most 0.1 s, calling progress("sampling", ...) as it
/// goes; returns false if `stop` was set.
bool wait_interval(double seconds, const Progress& progress, const std::atomic<bool>* stop);

}  // namespace vmtune::sampler
