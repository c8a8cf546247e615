// SPDX-License-Identifier: GPL-2.0-or-later
#include "verify/verify.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <optional>
#include <thread>

#include "collect/bpf/trace_session.hpp"
#include "collect/psi.hpp"
#include "collect/vmstat.hpp"

namespace vmtune::verify {
namespace {

/// A measure and where its counter comes from.
struct Def {
  Measure measure;
  std::string counter;  ///< key in a Reading
  double scale = 1;     ///< per-second counter rate -> `unit`
  std::string probe;    ///< eBPF probe group it needs; empty: /proc
  /// Decides only when the symptom's eBPF measure is unavailable.
  bool decides_without_bpf = false;
};

// Floors are [heuristic]: the smallest change an operator would call a change at all — 2
// points of PSI stall share, 10 ms of stall per second (1 % of one CPU's time), one event a
// second, 4 MiB/s of refaults, 1 MiB/s of swap, any OOM kill.
const std::vector<Def>& catalogue() {
  static const std::vector<Def> defs = {
      {{"psi.memory.some", "PSI memory some", "%", "memory_pressure", true, 2.0},
       "psi.memory.some_us",
       1e-4,
       "",
       false},
      {{"psi.memory.full", "PSI memory full", "%", "memory_pressure", false, 2.0},
       "psi.memory.full_us",
       1e-4,
       "",
       false},
      {{"bpf.reclaim", "time in direct and memcg reclaim (eBPF)", "ms/s", "direct_reclaim", true,
        10.0},
       "bpf.reclaim_us",
       1e-3,
       "reclaim",
       false},
      {{"vmstat.allocstall", "direct reclaim entries (allocstall)", "/s", "direct_reclaim", false,
        1.0},
       "vmstat.allocstall",
       1,
       "",
       true},
      {{"vmstat.pgscan_direct", "pages scanned by direct reclaim", "pages/s", "direct_reclaim",
        false, 1000.0},
       "vmstat.pgscan_direct",
       1,
       "",
       false},
      {{"bpf.compaction", "time in direct compaction (eBPF)", "ms/s", "compaction", true, 10.0},
       "bpf.compaction_us",
       1e-3,
       "compaction",
       false},
      {{"vmstat.compact_stall", "direct compaction entries (compact_stall)", "/s", "compaction",
        false, 1.0},
       "vmstat.compact_stall",
       1,
       "",
       true},
      {{"bpf.writeback", "balance_dirty_pages pauses (eBPF)", "ms/s", "writeback", true, 10.0},
       "bpf.writeback_us",
       1e-3,
       "writeback",
       false},
      {{"psi.io.some", "PSI io some", "%", "writeback", false, 2.0},
       "psi.io.some_us",
       1e-4,
       "",
       true},
      {{"vmstat.workingset_refault", "workingset refaults", "pages/s", "refaults", true, 1024.0},
       "vmstat.workingset_refault",
       1,
       "",
       false},
      {{"vmstat.pswp", "pages swapped in and out", "pages/s", "swap", true, 256.0},
       "vmstat.pswp",
       1,
       "",
       false},
      {{"vmstat.oom_kill", "OOM kills", "/min", "oom", true, 0.0, true},
       "vmstat.oom_kill",
       60,
       "",
       false},
  };
  return defs;
}

using Reading = std::map<std::string, double>;

void add_sum(Reading& r, const model::Counters& c, const std::string& key,
             std::initializer_list<const char*> names) {
  double sum = 0;
  bool any = false;
  for (const char* n : names) {
    if (auto it = c.find(n); it != c.end()) {
      sum += static_cast<double>(it->second);
      any = true;
    }
  }
  if (any) r[key] = sum;
}

void read_vmstat_counters(const core::RootFs& fs, Reading& r) {
  auto text = fs.read_text(core::Tree::proc, "vmstat", 1u << 20);
  if (!text) return;
  auto vm = collect::parse_vmstat(*text, fs.logical(core::Tree::proc, "vmstat"), nullptr);
  if (!vm) return;
  const auto& c = vm->counters;
  add_sum(r, c, "vmstat.allocstall",
          {"allocstall", "allocstall_dma", "allocstall_dma32", "allocstall_normal",
           "allocstall_movable", "allocstall_device"});
  add_sum(r, c, "vmstat.pgscan_direct", {"pgscan_direct"});
  add_sum(r, c, "vmstat.compact_stall", {"compact_stall"});
  add_sum(r, c, "vmstat.workingset_refault",
          {"workingset_refault", "workingset_refault_anon", "workingset_refault_file"});
  add_sum(r, c, "vmstat.pswp", {"pswpin", "pswpout"});
  add_sum(r, c, "vmstat.oom_kill", {"oom_kill"});
}

void read_psi_counters(const core::RootFs& fs, const char* resource, Reading& r) {
  const std::string rel = std::string("pressure/") + resource;
  auto text = fs.read_text(core::Tree::proc, rel, 64u << 10);
  if (!text) return;
  auto psi = collect::parse_psi(*text, fs.logical(core::Tree::proc, rel), nullptr);
  if (!psi) return;
  const std::string base = std::string("psi.") + resource;
  if (psi->some) r[base + ".some_us"] = static_cast<double>(psi->some->total_us);
  if (psi->full) r[base + ".full_us"] = static_cast<double>(psi->full->total_us);
}

void read_bpf_counters(collect::bpf::TraceSession& session, double elapsed, Reading& r) {
  const auto stats = session.read(elapsed);
  auto sum = [&](std::initializer_list<const char*> names) -> std::optional<double> {
    std::optional<double> out;
    for (const char* n : names) {
      if (auto it = stats.histograms.find(n); it != stats.histograms.end()) {
        out = out.value_or(0) + static_cast<double>(it->second.sum);
      }
    }
    return out;
  };
  if (auto v = sum({"direct_reclaim_us", "memcg_reclaim_us"})) r["bpf.reclaim_us"] = *v;
  if (auto v = sum({"direct_compaction_us"})) r["bpf.compaction_us"] = *v;
  if (auto v = sum({"writeback_pause_us"})) r["bpf.writeback_us"] = *v;
}

/// [heuristic] A change smaller than a fifth of the baseline is not called a change: the two
/// phases are seconds apart on a machine whose load drifts, and rolling back a good change on
/// drift costs more than keeping a marginal one.
constexpr double kRelativeMargin = 0.2;

double mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0 : s / static_cast<double>(v.size());
}

double stddev(const std::vector<double>& v, double m) {
  if (v.size() < 2) return 0;
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / static_cast<double>(v.size() - 1));
}

}  // namespace

struct Meter::Impl {
  core::RootFs fs;
  std::vector<Def> defs;
  std::vector<Measure> measures;
  std::vector<std::string> notes;
  std::unique_ptr<collect::bpf::TraceSession> session;
  std::chrono::steady_clock::time_point t0 = std::chrono::steady_clock::now();

  double now() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }

  /// Keeps the measures whose counter the first reading has; when an eBPF measure is missing,
  /// its symptom's /proc fallback decides instead.
  void settle(const Reading& first);

  Reading read() {
    Reading r;
    r["t"] = now();
    read_vmstat_counters(fs, r);
    read_psi_counters(fs, "memory", r);
    read_psi_counters(fs, "io", r);
    if (session) read_bpf_counters(*session, r["t"], r);
    return r;
  }
};

Meter::Meter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Meter::~Meter() = default;

namespace {

/// The eBPF probe groups `defs` need.
std::vector<std::string> probes_needed(const std::vector<Def>& defs) {
  std::vector<std::string> out;
  for (const auto& d : defs) {
    if (!d.probe.empty() && std::find(out.begin(), out.end(), d.probe) == out.end()) {
      out.push_back(d.probe);
    }
  }
  return out;
}

/// One interval's value of each measure: a rate (`scale` per second) or, for rare events, the
/// count; nothing for a counter missing from either reading or gone backwards.
void add_interval(const std::vector<Def>& defs, const Reading& prev, const Reading& cur,
                  Phase& phase) {
  const double dt = cur.at("t") - prev.at("t");
  if (dt <= 0) return;
  for (const auto& d : defs) {
    const auto a = prev.find(d.counter), b = cur.find(d.counter);
    if (a == prev.end() || b == cur.end() || b->second < a->second) continue;
    const double delta = b->second - a->second;
    phase.values[d.measure.id].push_back(d.measure.rare ? delta : delta / dt * d.scale);
  }
}

}  // namespace

void Meter::Impl::settle(const Reading& first) {
  auto& m = *this;
  std::set<std::string> bpf_missing;
  std::vector<Def> kept;
  for (auto& d : m.defs) {
    if (first.count(d.counter)) {
      kept.push_back(d);
      continue;
    }
    if (!d.probe.empty()) bpf_missing.insert(d.measure.symptom);
    if (d.probe.empty()) {
      m.notes.push_back(d.measure.label + ": not measured (the kernel does not provide " +
                        d.counter.substr(d.counter.find('.') + 1) + ")");
    }
  }
  for (auto& d : kept) {
    if (d.decides_without_bpf && bpf_missing.count(d.measure.symptom)) {
      d.measure.decides = true;
      m.notes.push_back(d.measure.label + " decides for " + d.measure.symptom +
                        " (its eBPF measure is unavailable)");
    }
  }
  m.defs = std::move(kept);
  for (const auto& d : m.defs) m.measures.push_back(d.measure);
}

std::unique_ptr<Meter> Meter::start(const core::RootFs& fs, const std::set<std::string>& symptoms,
                                    bool use_bpf) {
  auto impl = std::make_unique<Impl>();
  impl->fs = fs;
  for (const auto& d : catalogue()) {
    if (symptoms.count(d.measure.symptom)) impl->defs.push_back(d);
  }
  const auto probes = probes_needed(impl->defs);
  if (use_bpf && !probes.empty()) {
    collect::bpf::TraceOptions opt;
    opt.probes = probes;
    impl->session = collect::bpf::TraceSession::start(fs, opt);
    for (const auto& st : impl->session->probes()) {
      if (!st.attached) impl->notes.push_back("eBPF probe " + st.name + ": " + st.reason);
    }
    if (!impl->session->any_attached()) impl->session.reset();
  } else if (!probes.empty()) {
    impl->notes.push_back("eBPF probes not used (not the live machine)");
  }
  impl->settle(impl->read());
  return std::unique_ptr<Meter>(new Meter(std::move(impl)));
}

const std::vector<Measure>& Meter::measures() const noexcept { return impl_->measures; }
const std::vector<std::string>& Meter::notes() const noexcept { return impl_->notes; }

Phase Meter::measure(std::string_view name, double seconds, double interval_s,
                     const Progress& progress, const std::atomic<bool>* stop) {
  auto& m = *impl_;
  interval_s = std::max(interval_s, 0.1);
  seconds = std::max(seconds, interval_s);
  Phase phase;
  const double start = m.now();
  Reading prev = m.read();
  double next = start + interval_s;
  for (;;) {
    if (stop != nullptr && stop->load()) {
      phase.interrupted = true;
      break;
    }
    const double t = m.now();
    if (t >= next) {
      Reading cur = m.read();
      add_interval(m.defs, prev, cur, phase);
      prev = std::move(cur);
      // A late reading (vmtune itself stalled) is not followed by catch-up readings a few
      // milliseconds apart: the next one is a whole interval later.
      next = std::max(next + interval_s, t + interval_s);
      if (t - start >= seconds - 1e-3) break;
    }
    if (progress) progress(name, std::min(m.now() - start, seconds), seconds);
    const double wait = std::clamp(next - m.now(), 0.0, 0.1);
    if (m.session) {
      m.session->poll(static_cast<int>(wait * 1000));
    } else {
      std::this_thread::sleep_for(std::chrono::duration<double>(wait));
    }
  }
  phase.seconds = m.now() - start;
  return phase;
}

double shown_before(const Row& r) {
  return r.measure.rare ? r.before_mean * static_cast<double>(r.before_n) : r.before_mean;
}
double shown_after(const Row& r) {
  return r.measure.rare ? r.after_mean * static_cast<double>(r.after_n) : r.after_mean;
}

Verdict compare(const std::vector<Measure>& measures, const Phase& before, const Phase& after) {
  Verdict v;
  static const std::vector<double> none;
  for (const auto& ms : measures) {
    Row row;
    row.measure = ms;
    const auto ib = before.values.find(ms.id);
    const auto ia = after.values.find(ms.id);
    const auto& b = ib == before.values.end() ? none : ib->second;
    const auto& a = ia == after.values.end() ? none : ia->second;
    row.before_n = b.size();
    row.after_n = a.size();
    row.before_mean = mean(b);
    row.before_sd = stddev(b, row.before_mean);
    row.after_mean = mean(a);
    row.after_sd = stddev(a, row.after_mean);
    if (b.empty() || a.empty()) {
      if (ms.decides && !b.empty()) {
        // Measured before and not after: the change cannot be vouched for.
        v.roll_back = true;
        v.reasons.push_back(ms.label + " could not be measured after applying");
      }
      v.rows.push_back(row);
      continue;
    }
    v.judged = v.judged || ms.decides;
    const double se = std::sqrt(row.before_sd * row.before_sd / static_cast<double>(b.size()) +
                                row.after_sd * row.after_sd / static_cast<double>(a.size()));
    const double noise = std::max(row.before_sd, 3 * se);
    row.margin = std::max({noise, ms.floor, kRelativeMargin * row.before_mean});
    double diff = row.after_mean - row.before_mean;
    if (ms.rare) {
      // Counts, not means against a spread: after a quiet baseline one OOM kill is one too
      // many; after a baseline that had some, more than two Poisson deviations more.
      const double before_total = row.before_mean * static_cast<double>(b.size());
      const double after_total = row.after_mean * static_cast<double>(a.size());
      const double scale = static_cast<double>(b.size()) / static_cast<double>(a.size());
      row.margin = std::max(ms.floor, 2 * std::sqrt(before_total));
      diff = after_total * scale - before_total;
    }
    row.change = diff > row.margin    ? Change::worse
                 : -diff > row.margin ? Change::better
                                      : Change::same;
    if (row.change == Change::worse && ms.decides) {
      v.roll_back = true;
      v.reasons.push_back(ms.label + " rose from " + format_value(shown_before(row)) + " to " +
                          format_value(shown_after(row)) + " " + ms.unit + " (more than " +
                          format_value(row.margin) + " " + ms.unit + " above the baseline)");
    }
    v.rows.push_back(row);
  }
  return v;
}

std::string format_value(double v) {
  char buf[32];
  const double a = std::fabs(v);
  std::snprintf(buf, sizeof buf, a >= 100 ? "%.0f" : a >= 10 ? "%.1f" : "%.2f", v);
  return buf;
}

}  // namespace vmtune::verify
