// SPDX-License-Identifier: GPL-2.0-or-later
// layout(): the Content and ViewState as exactly `height` lines of at most `width` columns.
//
//   header                                          (title, source, interval, "? help")
//   Memory (bars)              │ Rates (two columns)
//   PSI memory, sparkline
//   Stalls (eBPF) or why not
//   NUMA nodes, PostgreSQL instances (when there are any)
//   Findings (a few, most severe first)
//   Processes (sortable, filterable, grouped by cgroup), to the bottom
//   footer: keys, or the filter being typed
//
// The help and a finding's detail are full-screen overlays under the header.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "present/format.hpp"
#include "ui/tui/view.hpp"

namespace vmtune::ui::tui {
namespace {

std::size_t columns(const std::string& s) { return display_width(s); }

/// `s` cut or padded to exactly `w` columns.
std::string fit(const std::string& s, std::size_t w) {
  if (columns(s) > w) return cut_to_width(s, w, false);
  return s + std::string(w - columns(s), ' ');
}

std::string right(const std::string& s, std::size_t w) {
  if (columns(s) >= w) return cut_to_width(s, w, false);
  return std::string(w - columns(s), ' ') + s;
}

class Builder {
 public:
  Builder(int width, int height, bool ascii) : w_(width), h_(height), ascii_(ascii) {}
  bool full() const { return static_cast<int>(lines_.size()) >= h_; }
  int left() const { return h_ - static_cast<int>(lines_.size()); }
  /// Adds a line, cut to the width.
  void add(Line line) {
    if (full()) return;
    Line out;
    std::size_t used = 0;
    for (auto& s : line.spans) {
      if (used >= static_cast<std::size_t>(w_)) break;
      const std::size_t room = static_cast<std::size_t>(w_) - used;
      if (columns(s.text) > room) s.text = cut_to_width(s.text, room, false);
      used += columns(s.text);
      out.spans.push_back(std::move(s));
    }
    lines_.push_back(std::move(out));
  }
  void text(const std::string& s, Role r = Role::normal) { add(Line{{Span{s, r}}}); }
  void section(const std::string& title, const std::string& extra = {}) {
    const std::string rule = ascii_ ? "-" : "─";
    std::string t = rule + rule + " " + title + " ";
    std::string tail = extra.empty() ? "" : " " + extra + " " + rule + rule;
    const auto used = columns(t) + columns(tail);
    std::string fill;
    for (std::size_t i = used; i < static_cast<std::size_t>(w_); ++i) fill += rule;
    add(Line{{Span{t, Role::title}, Span{fill, Role::dim}, Span{tail, Role::dim}}});
  }
  Frame finish() {
    while (!full()) lines_.push_back(Line{});
    return Frame{w_, h_, std::move(lines_)};
  }
  int width() const { return w_; }
  bool ascii() const { return ascii_; }

 private:
  int w_, h_;
  bool ascii_;
  std::vector<Line> lines_;
};

std::string bar(double share, std::size_t width, bool ascii) {
  share = std::clamp(share, 0.0, 1.0);
  const double cells = share * static_cast<double>(width);
  std::size_t whole = static_cast<std::size_t>(cells);
  std::string out;
  if (ascii) {
    out.assign(whole, '#');
  } else {
    for (std::size_t i = 0; i < whole; ++i) out += "█";
    static const char* kEighths[] = {"", "▏", "▎", "▍", "▌", "▋", "▊", "▉"};
    const auto eighth = static_cast<std::size_t>((cells - static_cast<double>(whole)) * 8);
    if (eighth > 0 && whole < width) {
      out += kEighths[eighth];
      ++whole;
    }
  }
  for (std::size_t i = whole; i < width; ++i) out += ascii ? "." : "·";
  return out;
}

std::string sparkline(const std::vector<double>& values, std::size_t width, bool ascii) {
  static const char* kUtf[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
  static const char kAscii[] = "_.-:=+*#";
  const std::size_t n = std::min(values.size(), width);
  double top = 1.0;  // percent; the scale grows with the data, never below 1 %
  for (std::size_t i = values.size() - n; i < values.size(); ++i) top = std::max(top, values[i]);
  std::string out;
  for (std::size_t i = values.size() - n; i < values.size(); ++i) {
    const double scaled = values[i] / top * 7.0 + 0.5;
    const auto level =
        std::isfinite(scaled) ? static_cast<std::size_t>(std::clamp(scaled, 0.0, 7.0)) : 0;
    out += ascii ? std::string(1, kAscii[level]) : std::string(kUtf[level]);
  }
  return out;
}

/// A rate in at most six columns: "30.0", "512", "4.97k", "1.20M" (the panel says per second).
std::string compact(double v) {
  const double a = std::fabs(v);
  if (a >= 1e9) return fmt::format("{:.2f}G", v / 1e9);
  if (a >= 1e6) return fmt::format("{:.2f}M", v / 1e6);
  if (a >= 1e3) return fmt::format("{:.2f}k", v / 1e3);
  return a >= 100 ? fmt::format("{:.0f}", v) : fmt::format("{:.1f}", v);
}

/// A log2 latency histogram as a sparkline from its first to its last non-empty slot, with
/// the range: "[4 µs ▂▇▃ 32 µs]".
std::string distribution(const std::vector<std::uint64_t>& slots, bool ascii) {
  std::size_t lo = slots.size(), hi = 0;
  for (std::size_t i = 0; i < slots.size(); ++i) {
    if (slots[i] == 0) continue;
    lo = std::min(lo, i);
    hi = i;
  }
  if (lo >= slots.size() || hi >= 40) return "";  // empty, or beyond any real latency
  std::vector<double> v;
  for (std::size_t i = lo; i <= hi; ++i) v.push_back(static_cast<double>(slots[i]));
  const auto edge = [](std::size_t i) {
    return present::duration_us(std::ldexp(1.0, static_cast<int>(i)));
  };
  return "[" + edge(lo) + " " + sparkline(v, v.size(), ascii) + " " + edge(hi + 1) + "]";
}

std::string rate_text(const RateRow& r) { return r.value ? compact(*r.value) : "-"; }

void memory_and_rates(const Content& c, Builder& b) {
  const std::size_t half = static_cast<std::size_t>(b.width()) / 2;
  const std::size_t bar_w = half > 34 ? half - 34 : 4;
  std::vector<Line> left, right_lines;
  left.push_back(
      Line{{Span{fit("Memory  " + (c.mem_total ? present::bytes(c.mem_total) : "?"), half - 1),
                 Role::title}}});
  if (c.memory.empty()) left.push_back(Line{{Span{fit(c.memory_why, half - 1), Role::dim}}});
  for (const auto& m : c.memory) {
    const double share =
        c.mem_total ? static_cast<double>(m.bytes) / static_cast<double>(c.mem_total) : 0;
    left.push_back(
        Line{{Span{fit(m.label, 12), Role::normal}, Span{bar(share, bar_w, b.ascii()), m.role},
              Span{right(present::bytes(m.bytes), 11), Role::normal},
              Span{right(present::percent(share), 7), Role::dim}, Span{"   ", Role::normal}}});
  }
  const bool none = std::none_of(c.rates.begin(), c.rates.end(),
                                 [](const RateRow& r) { return r.value.has_value(); });
  right_lines.push_back(
      Line{{Span{"Rates (per second)", Role::title},
            Span{none && !c.rates.empty() ? "  " + c.rates.front().why : "", Role::dim}}});
  const std::size_t col = (static_cast<std::size_t>(b.width()) - half - 2) / 2;
  for (std::size_t i = 0; i < c.rates.size(); i += 2) {
    Line l;
    for (std::size_t j = i; j < std::min(i + 2, c.rates.size()); ++j) {
      const auto& r = c.rates[j];
      const std::string v = rate_text(r);
      // label, then the value right-aligned in 6 columns and a space (labels are cut first)
      const std::size_t label_w = std::min<std::size_t>(13, col > 7 ? col - 7 : 1);
      l.spans.push_back(Span{fit(r.label, label_w), Role::normal});
      l.spans.push_back(Span{fit(right(v, col > label_w + 1 ? col - label_w - 1 : 1) + " ",
                                 col > label_w ? col - label_w : 1),
                             r.value ? Role::normal : Role::dim});
    }
    right_lines.push_back(std::move(l));
  }
  const std::size_t rows = std::max(left.size(), right_lines.size());
  const std::string sep = b.ascii() ? "|" : "│";
  for (std::size_t i = 0; i < rows; ++i) {
    Line l;
    if (i < left.size()) {
      l.spans = left[i].spans;
      std::size_t used = 0;
      for (const auto& s : l.spans) used += columns(s.text);
      if (used < half - 1) l.spans.push_back(Span{std::string(half - 1 - used, ' ')});
    } else {
      l.spans.push_back(Span{std::string(half - 1, ' ')});
    }
    l.spans.push_back(Span{sep + " ", Role::dim});
    if (i < right_lines.size()) {
      for (auto& s : right_lines[i].spans) l.spans.push_back(s);
    }
    b.add(std::move(l));
  }
}

void pressure_and_stalls(const Content& c, Builder& b) {
  if (c.psi_some_pct) {
    const std::string head = fmt::format("PSI memory  some {:5.1f} %  full {:5.1f} %  ",
                                         *c.psi_some_pct, c.psi_full_pct.value_or(0));
    const auto room = static_cast<std::size_t>(b.width()) - columns(head);
    b.add(Line{{Span{head, *c.psi_some_pct >= 10  ? Role::critical
                           : *c.psi_some_pct >= 1 ? Role::warning
                                                  : Role::normal},
                Span{sparkline(c.psi_history, room, b.ascii()), Role::cache}}});
  } else {
    b.add(Line{{Span{"PSI memory  ", Role::normal}, Span{c.psi_why, Role::dim}}});
  }
  if (c.stalls.empty()) {
    b.add(Line{{Span{"Stalls (eBPF)  ", Role::normal}, Span{c.stalls_why, Role::dim}}});
    return;
  }
  Line l{{Span{c.stalls_scope.empty() ? "Stalls (eBPF)" : "Stalls (eBPF, " + c.stalls_scope + ")",
               Role::normal}}};
  for (const auto& s : c.stalls) {
    l.spans.push_back(Span{"  " + s.label + " ", Role::dim});
    l.spans.push_back(Span{fmt::format("{}×", s.count), Role::normal});
    if (s.count > 0) {
      l.spans.push_back(Span{
          " " + present::duration_us(s.total_us) + " (max " + present::duration_us(s.max_us) + ")",
          s.max_us >= 10000 ? Role::warning : Role::normal});
      l.spans.push_back(Span{" " + distribution(s.slots, b.ascii()), Role::cache});
    }
  }
  b.add(std::move(l));
  if (!c.stalled.empty()) {
    Line who{{Span{"  stalled longest:", Role::dim}}};
    for (const auto& s : c.stalled) who.spans.push_back(Span{"  " + s, Role::normal});
    b.add(std::move(who));
  }
}

Role severity_role(rules::Severity s) {
  switch (s) {
    case rules::Severity::critical:
      return Role::critical;
    case rules::Severity::warning:
      return Role::warning;
    case rules::Severity::info:
      break;
  }
  return Role::good;
}

void findings(const Content& c, const ViewState& st, Builder& b, int rows) {
  b.section("Findings", fmt::format("{}{}", c.findings.size(),
                                    st.focus == Focus::findings ? " · Enter: details" : ""));
  if (c.findings.empty()) {
    b.text("  no findings: nothing the rules flag on this machine", Role::good);
    return;
  }
  const int n = static_cast<int>(c.findings.size());
  const int sel = std::clamp(st.finding_selected, 0, n - 1);
  const int top = std::clamp(sel - rows + 1, 0, std::max(0, n - rows));
  for (int i = top; i < std::min(n, top + rows); ++i) {
    const auto& f = c.findings[static_cast<std::size_t>(i)];
    const bool selected = st.focus == Focus::findings && i == sel;
    b.add(Line{{Span{selected ? "> " : "  ", Role::selected},
                Span{fit(rules::to_string(f.severity), 9), severity_role(f.severity)},
                Span{fit(f.rule_id, 16), selected ? Role::selected : Role::header},
                Span{f.title, selected ? Role::selected : Role::normal}}});
  }
}

const char* sort_name(SortColumn s) {
  switch (s) {
    case SortColumn::minflt:
      return "minflt/s";
    case SortColumn::majflt:
      return "majflt/s";
    case SortColumn::rss:
      return "RSS";
    case SortColumn::anon:
      return "anon";
    case SortColumn::page_tables:
      return "page tables";
    case SortColumn::thp:
      return "THP";
    case SortColumn::swap:
      return "swap";
    case SortColumn::pid:
      return "PID";
    case SortColumn::command:
      return "command";
  }
  return "";
}

std::string opt_bytes(const std::optional<std::uint64_t>& v) {
  return v ? present::bytes(*v) : "-";
}
std::string opt_rate(const std::optional<double>& v) { return v ? compact(*v) : "-"; }

void processes(const Content& c, ViewState st, Builder& b) {
  const auto rows = table_rows(c, st);
  std::string extra = std::string("sort ") + sort_name(st.sort);
  if (!st.filter.empty()) extra += " · filter \"" + st.filter + "\"";
  if (st.group_by_cgroup) extra += " · by cgroup";
  extra += fmt::format(" · {} shown", rows.size());
  b.section("Processes", extra);
  const std::string first = st.group_by_cgroup ? "  procs" : "    PID";
  b.add(Line{{Span{first + " " + right("minflt/s", 9) + right("majflt/s", 9) + right("RSS", 10) +
                       right("anon", 10) + right("pgtables", 10) + right("THP", 10) +
                       right("swap", 10) + "  " + (st.group_by_cgroup ? "cgroup" : "command"),
                   Role::header}}});
  const int room = b.left() - 1;  // the footer
  if (room <= 0) return;
  const int n = static_cast<int>(rows.size());
  const int sel = std::clamp(st.process_selected, 0, std::max(0, n - 1));
  const int top = std::clamp(sel - room + 1, 0, std::max(0, n - room));
  for (int i = top; i < std::min(n, top + room); ++i) {
    const auto& r = rows[static_cast<std::size_t>(i)];
    const bool selected = st.focus == Focus::processes && i == sel;
    const std::string id = st.group_by_cgroup ? std::to_string(r.members) : std::to_string(r.pid);
    std::string name = r.comm;
    if (!st.group_by_cgroup && !r.cgroup.empty() && r.cgroup != "/") name += "  " + r.cgroup;
    b.add(Line{{Span{right(id, 7) + " " + right(opt_rate(r.minflt_per_sec), 9) +
                         right(opt_rate(r.majflt_per_sec), 9) + right(opt_bytes(r.rss), 10) +
                         right(opt_bytes(r.anon), 10) + right(opt_bytes(r.page_tables), 10) +
                         right(opt_bytes(r.thp), 10) + right(opt_bytes(r.swap), 10) + "  ",
                     selected ? Role::selected : Role::normal},
                Span{name, selected ? Role::selected : Role::normal}}});
  }
}

void footer(const Content& c, const ViewState& st, Builder& b) {
  if (st.editing_filter) {
    b.add(Line{{Span{"Filter: ", Role::title}, Span{st.filter + "_", Role::normal},
                Span{"   Enter: keep  Esc: clear", Role::dim}}});
  } else if (!c.notes.empty()) {
    b.text(c.notes.front(), Role::dim);
  } else {
    b.text(
        "q quit  ? help  Tab panel  ↑↓ move  s sort  / filter  g group  p pause  +/- interval  "
        "Enter details",
        Role::dim);
  }
}

void header(const Content& c, const ViewState& st, Builder& b) {
  std::string state = c.still ? "still picture" : st.paused ? "PAUSED" : "live";
  if (!c.still) state += fmt::format(" · every {} s", present::fixed(st.interval_s, 1));
  const std::string tail = (c.source.empty() ? "" : c.source + " · ") + state + " · ? help";
  const auto room = static_cast<std::size_t>(b.width());
  const auto tail_cols = std::min(columns(tail), room);
  b.add(Line{{Span{fit(c.title, room - tail_cols), Role::title},
              Span{right(tail, tail_cols), st.paused ? Role::warning : Role::dim}}});
}

/// Long text wrapped at word boundaries to `w` columns.
std::vector<std::string> wrap(const std::string& text, std::size_t w) {
  std::vector<std::string> out;
  std::string cur;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find(' ', start);
    if (end == std::string::npos) end = text.size();
    const std::string word = text.substr(start, end - start);
    if (!cur.empty() && columns(cur) + 1 + columns(word) > w) {
      out.push_back(cur);
      cur.clear();
    }
    cur += (cur.empty() ? "" : " ") + word;
    start = end + 1;
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

void detail(const Content& c, const ViewState& st, Builder& b) {
  const auto& f = c.findings.at(static_cast<std::size_t>(
      std::clamp(st.finding_selected, 0, static_cast<int>(c.findings.size()) - 1)));
  std::vector<Line> body;
  const auto w = static_cast<std::size_t>(b.width()) - 4;
  const auto section = [&](const std::string& title, const std::vector<std::string>& lines) {
    if (lines.empty()) return;
    body.push_back(Line{});
    body.push_back(Line{{Span{title, Role::title}}});
    for (const auto& l : lines) {
      for (const auto& part : wrap(l, w)) body.push_back(Line{{Span{"  " + part}}});
    }
  };
  body.push_back(
      Line{{Span{std::string(rules::to_string(f.severity)) + "  ", severity_role(f.severity)},
            Span{f.rule_id + "  ", Role::header}, Span{f.title, Role::normal}}});
  section("Evidence", f.evidence);
  section("Recommendation (the line that applies it)", f.recommendations);
  section("Why", f.rationale);
  section("References", f.references);
  const int room = b.left() - 1;
  const int top = std::clamp(st.detail_top, 0, std::max(0, static_cast<int>(body.size()) - room));
  for (int i = top; i < std::min(static_cast<int>(body.size()), top + room); ++i) {
    b.add(body[static_cast<std::size_t>(i)]);
  }
  while (b.left() > 1) b.text("");
  b.text("Esc back  ↑↓ scroll  q quit", Role::dim);
}

void help(Builder& b) {
  b.section("Keys");
  for (const char* line : {
           "q            quit (the terminal is restored)",
           "? h          this help; any key closes it",
           "Tab          move between the process table and the findings",
           "↑ ↓ j k      move the selection; PgUp PgDn by ten; Home End",
           "s            sort the process table by the next column",
           "             (minflt/s, majflt/s, RSS, anon, page tables, THP, swap, PID, command)",
           "/            filter processes by command, cgroup or PID; Enter keeps, Esc clears",
           "g            group the process table by cgroup",
           "p            pause (keep the picture; keys still work)",
           "+ -          refresh slower / faster (0.5 s to 30 s)",
           "Enter        the selected finding's evidence, recommendation and references",
           "Esc          back; clears the filter",
       }) {
    b.text("  " + std::string(line));
  }
}

}  // namespace

std::string Line::text() const {
  std::string out;
  for (const auto& s : spans) out += s.text;
  return out;
}

std::string Frame::text() const {
  std::string out;
  for (const auto& l : lines) out += l.text() + "\n";
  return out;
}

Frame layout(const Content& content, const ViewState& state, int width, int height) {
  width = std::max(width, 1);
  height = std::max(height, 1);
  Builder b(width, height, state.ascii);
  if (width < kMinWidth || height < kMinHeight) {
    const std::string msg = fmt::format("vmtune top needs at least {}x{}; this terminal is {}x{}",
                                        kMinWidth, kMinHeight, width, height);
    for (int i = 0; i < height / 2; ++i) b.text("");
    for (const auto& part : wrap(msg, static_cast<std::size_t>(width))) b.text(part, Role::warning);
    return b.finish();
  }
  header(content, state, b);
  if (state.help) {
    help(b);
    return b.finish();
  }
  if (state.detail && !content.findings.empty()) {
    detail(content, state, b);
    return b.finish();
  }
  memory_and_rates(content, b);
  pressure_and_stalls(content, b);
  // NUMA and PostgreSQL lines only where they leave the findings two rows, the table its
  // header and five rows, and the footer its line.
  int extra = std::max(0, b.left() - 12);
  for (const auto* group : {&content.postgres, &content.numa}) {
    for (const auto& l : *group) {
      if (extra-- <= 0) break;
      b.text(l);
    }
  }
  // Findings get up to a fifth of the screen; processes the rest (at least five rows).
  const int finding_rows = std::clamp(b.left() - 9, 1, std::max(1, height / 5));
  findings(content, state, b, finding_rows);
  processes(content, state, b);
  while (b.left() > 1) b.text("");
  footer(content, state, b);
  return b.finish();
}

}  // namespace vmtune::ui::tui
