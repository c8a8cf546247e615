// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// The closed loop of `vmtune apply --verify SECONDS`: measure the symptoms the applied rules
// fired on (rules::kSymptoms) for SECONDS, apply, measure them again for as long, and say
// whether any got worse beyond the noise measured. It reads and compares; it writes nothing
// (app/ applies and rolls back).
//
//   Meter::start(fs, symptoms) ── measure(S) ─ baseline ─┐
//                                                         ├─ compare() -> Verdict
//            (app/ applies the plan here) ── measure(S) ─┘
//
// Each phase is read once per interval (1 s): /proc/vmstat and /proc/pressure/{memory,io}
// counters, and the eBPF probes' cumulative stall-time histograms (reclaim, compaction,
// writeback), left attached for both phases so attaching costs neither. Each measure becomes
// one value per interval; the spread of those values is the noise a change must exceed.

#include <atomic>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/root_fs.hpp"

namespace vmtune::verify {

/// One measured quantity: a rate over each interval of a cumulative counter.
struct Measure {
  std::string id;       ///< "psi.memory.some", "bpf.reclaim", "vmstat.allocstall", ...
  std::string label;    ///< "PSI memory some (share of time stalled)"
  std::string unit;     ///< "%", "ms/s", "/s", "pages/s", "/min"
  std::string symptom;  ///< the rules::kSymptoms name it measures
  /// A rise beyond the noise rolls the change back. One measure per symptom decides (the most
  /// direct one available); the others are shown for context.
  bool decides = false;
  double floor = 0;  ///< the smallest rise that counts, in `unit`, however quiet the baseline
  /// Rare events (OOM kills), counted per interval rather than rated: worse when the second
  /// phase saw more than the baseline by over two Poisson deviations (any, after none).
  bool rare = false;
};

/// One phase: per measure id, one value per interval, in time order.
struct Phase {
  double seconds = 0;
  bool interrupted = false;
  std::map<std::string, std::vector<double>> values;
};

enum class Change { same, worse, better, unmeasured };

struct Row {
  Measure measure;
  std::size_t before_n = 0, after_n = 0;
  double before_mean = 0, before_sd = 0;
  double after_mean = 0, after_sd = 0;
  /// The rise (or fall) that counts: max(noise, floor, 20 % of the baseline), where noise =
  /// max(baseline sd, 3 x the standard error of the difference of the two means).
  double margin = 0;
  Change change = Change::unmeasured;
};

struct Verdict {
  std::vector<Row> rows;   ///< in the order of the meter's measures
  bool roll_back = false;  ///< a deciding measure got worse, or was lost after applying
  bool judged = false;     ///< some deciding measure was measured in both phases
  /// Why, one line per deciding measure that got worse: "balance_dirty_pages pauses rose from
  /// 0.0 to 412.3 ms/s (more than 10.0 ms/s above the baseline)".
  std::vector<std::string> reasons;
};

/// ("baseline" | "after", seconds elapsed, seconds total), about ten times a second.
using Progress = std::function<void(std::string_view phase, double elapsed, double total)>;

class Meter {
 public:
  /// Measures for `symptoms` (unknown names are ignored) on `fs`; with `use_bpf` (the live
  /// machine) attaches the probes it needs now. What cannot be measured lands in notes().
  static std::unique_ptr<Meter> start(const core::RootFs& fs, const std::set<std::string>& symptoms,
                                      bool use_bpf);
  ~Meter();
  Meter(const Meter&) = delete;
  Meter& operator=(const Meter&) = delete;

  const std::vector<Measure>& measures() const noexcept;
  /// What could not be measured and why, one line each ("eBPF reclaim probe: ...; deciding on
  /// allocstall instead").
  const std::vector<std::string>& notes() const noexcept;

  /// Reads every `interval_s` for `seconds` (at least one interval). Stops early, with
  /// Phase::interrupted, when `stop` becomes true.
  Phase measure(std::string_view name, double seconds, double interval_s, const Progress& progress,
                const std::atomic<bool>* stop);

 private:
  struct Impl;
  explicit Meter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// Compares the two phases measure by measure (pure).
Verdict compare(const std::vector<Measure>& measures, const Phase& before, const Phase& after);

/// What a row shows for each phase: the mean per interval, or for a rare measure the count
/// over the whole phase.
double shown_before(const Row& r);
double shown_after(const Row& r);

/// Formats a value of a measure for display: "412.3", "0.00".
std::string format_value(double v);

}  // namespace vmtune::verify
