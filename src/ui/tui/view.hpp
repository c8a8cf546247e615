// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// The dashboard's view model: what `vmtune top` shows, computed from the sampler's snapshot,
// the rules' evaluation and the eBPF statistics, without ncurses. Three pure steps:
//
//   build_content(snapshot, evaluation, ...) -> Content      the numbers, rows and findings
//   handle_key(key, content, state)          -> Action       keys change only the ViewState
//   layout(content, state, width, height)    -> Frame        lines of styled text, one per row
//
// ui/tui/terminal.cpp only paints a Frame (and repaints only the lines that changed), so every
// number, sort, filter and overlay is unit-tested on fixture trees without a terminal.
// All text in Content is already escaped (core::escape_text): process names, cgroups, data
// directories and rule text are untrusted.

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/bpf_stats.hpp"
#include "model/derive.hpp"
#include "rules/finding.hpp"

namespace vmtune::ui::tui {

/// How a span is drawn; terminal.cpp maps roles to colours (or to bold/reverse in monochrome).
enum class Role {
  normal,
  dim,
  title,
  header,
  selected,
  good,
  warning,
  critical,
  anon,
  cache,
  shmem,
  slab,
  page_tables,
  hugetlb,
  free,
};

struct Span {
  std::string text;  ///< UTF-8, no control bytes
  Role role = Role::normal;
};
struct Line {
  std::vector<Span> spans;
  std::string text() const;  ///< the spans' text joined
};
/// Exactly `height` lines, none wider than `width` columns.
struct Frame {
  int width = 0;
  int height = 0;
  std::vector<Line> lines;
  std::string text() const;  ///< every line, '\n'-terminated (tests, captured screens)
};

// ---- Content -------------------------------------------------------------------------------

struct MemoryRow {
  std::string label;  ///< "Anonymous", "Page cache", ...
  std::uint64_t bytes = 0;
  Role role = Role::normal;
};

struct RateRow {
  std::string label;            ///< "Major faults"
  std::optional<double> value;  ///< per second; absent: not measured (see why)
  std::string unit;             ///< "/s", "pages/s"
  std::string why;              ///< why absent
};

struct ProcessRow {
  int pid = 0;
  std::string comm;    ///< escaped
  std::string cgroup;  ///< escaped; "" when none
  std::optional<double> minflt_per_sec, majflt_per_sec;
  std::optional<std::uint64_t> rss, anon, page_tables, thp, swap;  ///< bytes
  int members = 1;  ///< processes aggregated into the row (grouped by cgroup)
};

struct FindingRow {
  rules::Severity severity = rules::Severity::info;
  std::string rule_id, title;  ///< escaped; title ends with " · <subject>" for an instance
  std::string subject;         ///< Finding::subject, escaped
  /// The detail view: evidence, recommendations with the line that applies each, rationale
  /// and references; escaped, one entry per line (long lines are wrapped at layout).
  std::vector<std::string> evidence, recommendations, rationale, references;
};

/// One histogram of stalls (eBPF) in the window: count, total and the worst.
struct StallRow {
  std::string label;  ///< "direct reclaim"
  std::uint64_t count = 0;
  double total_us = 0;
  double max_us = 0;
  std::vector<std::uint64_t> slots;  ///< log2 µs histogram: slots[i] counts [2^i, 2^(i+1)) µs
};

struct Content {
  std::string title;   ///< "vmtune top · host · kernel"
  std::string source;  ///< "live" or "snapshot FILE (a still picture, rates over its window)"
  bool still = false;  ///< a snapshot: nothing refreshes
  double interval_s = 0;
  std::uint64_t mem_total = 0;
  std::vector<MemoryRow> memory;
  std::string memory_why;  ///< why the memory panel is empty
  std::vector<RateRow> rates;
  std::optional<double> psi_some_pct, psi_full_pct;  ///< share of the last interval (or avg10)
  std::string psi_why;
  std::vector<double> psi_history;  ///< PSI some %, oldest first (the sparkline)
  std::vector<StallRow> stalls;
  /// The processes that stalled longest (eBPF top lists): "1234 postgres 12.5 ms memcg reclaim".
  std::vector<std::string> stalled;
  std::string stalls_scope;           ///< "since start" (live totals) or "" (the capture's window)
  std::string stalls_why;             ///< eBPF not attached, and why
  std::vector<std::string> numa;      ///< one line per node when there is more than one
  std::vector<std::string> postgres;  ///< one line per instance
  std::vector<ProcessRow> processes;
  std::vector<FindingRow> findings;  ///< most severe first
  std::vector<std::string> notes;    ///< what cannot be shown, and why
};

/// What build_content keeps between refreshes: the PSI sparkline.
struct History {
  std::deque<double> psi_some_pct;
  std::size_t keep = 300;  ///< readings kept (five minutes at 1 s)
};

/// The content of one refresh. `bpf` is what the probes measured over the last interval, when
/// attached; `bpf_why` why they are not. `source` names the input ("live", a snapshot path).
Content build_content(const model::Snapshot& snapshot, const rules::Evaluation& evaluation,
                      const model::BpfStats* bpf, const std::string& bpf_why,
                      const std::string& source, History& history);

// ---- View state and keys -------------------------------------------------------------------

enum class Focus { processes, findings };
enum class SortColumn { minflt, majflt, rss, anon, page_tables, thp, swap, pid, command };

struct ViewState {
  Focus focus = Focus::processes;
  int process_selected = 0;  ///< index into the table as shown (sorted, filtered, grouped)
  int process_top = 0;       ///< first row shown
  int finding_selected = 0;
  SortColumn sort = SortColumn::minflt;
  std::string filter;  ///< case-insensitive substring of command or cgroup
  bool editing_filter = false;
  bool group_by_cgroup = false;
  bool paused = false;
  double interval_s = 1.0;
  bool help = false;
  bool detail = false;         ///< the detail view of the finding `detail_rule`
  std::string detail_rule;     ///< its rule id: a refresh that reorders the findings keeps it
  std::string detail_subject;  ///< and its subject (one rule, several PostgreSQL instances)
  int detail_top = 0;
  bool ascii = false;  ///< draw with ASCII only (--ascii, or a locale that is not UTF-8)
};

/// A key, as terminal.cpp reads it.
struct Key {
  enum class Kind {
    character,
    up,
    down,
    page_up,
    page_down,
    home,
    end,
    tab,
    enter,
    escape,
    backspace,
    resize,
    hangup,  ///< the terminal went away
    none
  };
  Kind kind = Kind::none;
  char32_t ch = 0;  ///< for Kind::character
};

/// What the loop must do after a key (input never draws; htop's HandlerResult).
struct Action {
  bool redraw = false;
  bool quit = false;
  bool interval_changed = false;
};

Action handle_key(const Key& key, const Content& content, ViewState& state);

/// After a refresh: selections clamped to the new rows, the detail view kept on its finding
/// (found again by rule id) or closed when that finding is gone.
void sync_state(const Content& content, ViewState& state);

/// Terminal columns of escaped UTF-8 text: East Asian wide characters count two, combining
/// marks none (what the terminal does, so a row never wraps).
std::size_t display_width(std::string_view text);
/// The longest prefix of `text` at most `width` columns wide, "…" (or "~" in ASCII) marking
/// a cut.
std::string cut_to_width(std::string_view text, std::size_t width, bool ascii);

/// The process table as shown: filtered, grouped by cgroup when asked, sorted.
std::vector<ProcessRow> table_rows(const Content& content, const ViewState& state);

/// Smallest terminal the dashboard draws in; below it, a message saying so.
inline constexpr int kMinWidth = 80;
inline constexpr int kMinHeight = 24;

Frame layout(const Content& content, const ViewState& state, int width, int height);

}  // namespace vmtune::ui::tui
