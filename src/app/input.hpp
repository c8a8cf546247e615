// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// Where samples come from: the live machine (through RootFs with the --proc/--sys/--etc
// overrides) or a captured tree/snapshot given by --root. Front ends never see the difference.

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "collect/collector.hpp"
#include "core/result.hpp"
#include "core/root_fs.hpp"
#include "model/derive.hpp"
#include "snapshot/snapshot.hpp"

namespace vmtune::app {

struct GlobalOptions {
  std::string root;  ///< --root DIR|FILE
  std::string proc;  ///< --proc DIR
  std::string sys;   ///< --sys DIR
  std::string etc;   ///< --etc DIR
};

/// Called while waiting between live samples: (seconds elapsed, seconds total).
using Progress = std::function<void(double, double)>;

class Input {
 public:
  static core::Result<Input> open(const GlobalOptions& options);

  /// True when reading the running kernel (no --root/--proc/--sys/--etc).
  bool live() const noexcept { return fs_.is_live(); }
  bool replaying_snapshot() const noexcept { return opened_ && opened_->is_snapshot; }
  const core::RootFs& fs() const noexcept { return fs_; }
  /// Extras a snapshot carried (postgres, bpf); empty object otherwise.
  const json::Json& extras() const;

  /// Takes `count` samples `interval_s` apart from the live machine, or returns the samples a
  /// snapshot holds (all of them, ignoring interval and count). Progress is reported while
  /// waiting. Returns early (with what it has) when `stop` becomes true.
  std::vector<model::Sample> sample(double interval_s, int count,
                                    const collect::CollectOptions& options,
                                    const Progress& progress = {},
                                    const std::atomic<bool>* stop = nullptr) const;

  /// A single reading of tree `index` (replay) or of the live machine.
  model::Sample sample_one(const collect::CollectOptions& options, std::size_t index = 0) const;

 private:
  core::RootFs fs_;
  std::optional<snapshot::Opened> opened_;
};

/// Copies what a snapshot carried beyond files (PostgreSQL facts, eBPF statistics) into the
/// sample, or marks those sources "unsupported (snapshot)" when the snapshot has none.
void apply_snapshot_extras(const Input& input, model::Sample& sample);

/// Sleeps up to `seconds`, in small steps, calling progress; returns false if `stop` was set.
bool wait_interval(double seconds, const Progress& progress, const std::atomic<bool>* stop);

}  // namespace vmtune::app
