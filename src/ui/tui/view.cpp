// SPDX-License-Identifier: GPL-2.0-or-later
// build_content, the process table and the keys: everything `vmtune top` decides, nothing it
// draws (layout.cpp turns it into lines, terminal.cpp paints them).
#include "ui/tui/view.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <map>

#include "core/escape.hpp"
#include "present/format.hpp"

namespace vmtune::ui::tui {
namespace {

using core::escape_text;

std::optional<std::uint64_t> field(const model::Sample& s, const char* key) {
  if (!s.meminfo.value) return std::nullopt;
  const auto& f = s.meminfo.value->fields;
  const auto it = f.find(key);
  return it == f.end() ? std::nullopt : std::optional<std::uint64_t>(it->second);
}

void add_memory(const model::Snapshot& snap, Content& c) {
  const auto& s = snap.current;
  if (!s.meminfo.value) {
    c.memory_why = escape_text(s.meminfo.reason());
    return;
  }
  const auto get = [&](const char* k) { return field(s, k).value_or(0); };
  c.mem_total = get("MemTotal");
  const std::uint64_t shmem = get("Shmem");
  const std::uint64_t cached = get("Cached") + get("Buffers");
  const std::uint64_t slab = field(s, "Slab").value_or(get("SReclaimable") + get("SUnreclaim"));
  std::uint64_t hugetlb = get("Hugetlb");
  if (hugetlb == 0) hugetlb = get("HugePages_Total") * get("Hugepagesize");
  c.memory = {
      {"Anonymous", get("AnonPages"), Role::anon},
      {"Page cache", cached > shmem ? cached - shmem : 0, Role::cache},
      {"Shmem/tmpfs", shmem, Role::shmem},
      {"Slab", slab, Role::slab},
      {"Page tables", get("PageTables") + get("SecPageTables"), Role::page_tables},
      {"Huge pages", hugetlb, Role::hugetlb},
      {"Free", get("MemFree"), Role::free},
  };
}

void add_rates(const model::Snapshot& snap, Content& c) {
  const auto* r = snap.rates ? &snap.rates->vmstat : nullptr;
  const std::string why = "need two readings (one here)";
  const auto rate = [&](std::initializer_list<const char*> names) -> std::optional<double> {
    if (r == nullptr) return std::nullopt;
    std::optional<double> sum;
    for (const char* n : names) {
      if (auto it = r->find(n); it != r->end()) sum = sum.value_or(0) + it->second;
    }
    return sum;
  };
  const auto add = [&](const char* label, std::optional<double> v, const char* unit) {
    c.rates.push_back(RateRow{label, v, unit, v ? "" : (r ? "not counted by this kernel" : why)});
  };
  const auto major = rate({"pgmajfault"});
  const auto all = rate({"pgfault"});
  add("Minor faults", all && major ? std::optional<double>(*all - *major) : all, "/s");
  add("Major faults", major, "/s");
  add("Scan kswapd", rate({"pgscan_kswapd"}), "pages/s");
  add("Scan direct", rate({"pgscan_direct"}), "pages/s");
  add("Steal kswapd", rate({"pgsteal_kswapd"}), "pages/s");
  add("Steal direct", rate({"pgsteal_direct"}), "pages/s");
  add("Scan file", rate({"pgscan_file"}), "pages/s");
  add("Scan anon", rate({"pgscan_anon"}), "pages/s");
  add("Refault file", rate({"workingset_refault_file", "workingset_refault"}), "pages/s");
  add("Refault anon", rate({"workingset_refault_anon"}), "pages/s");
  add("Swap in", rate({"pswpin"}), "pages/s");
  add("Swap out", rate({"pswpout"}), "pages/s");
  add("Direct stalls",
      rate({"allocstall", "allocstall_dma", "allocstall_dma32", "allocstall_normal",
            "allocstall_movable", "allocstall_device"}),
      "/s");
  add("Compact stall", rate({"compact_stall"}), "/s");
  add("THP faults", rate({"thp_fault_alloc"}), "/s");
  add("THP fallback", rate({"thp_fault_fallback"}), "/s");
  add("THP collapse", rate({"thp_collapse_alloc"}), "/s");
  add("OOM kills", rate({"oom_kill"}), "/s");
}

void add_psi(const model::Snapshot& snap, Content& c, History& h) {
  if (snap.rates && snap.rates->psi_some_us_per_sec) {
    c.psi_some_pct = *snap.rates->psi_some_us_per_sec / 1e4;
    if (snap.rates->psi_full_us_per_sec) c.psi_full_pct = *snap.rates->psi_full_us_per_sec / 1e4;
  } else if (snap.current.psi.value) {  // one reading: the kernel's own 10 s average
    const auto& p = *snap.current.psi.value;
    if (p.some) c.psi_some_pct = p.some->avg10;
    if (p.full) c.psi_full_pct = p.full->avg10;
  }
  if (!c.psi_some_pct) {
    c.psi_why = escape_text(snap.current.psi.reason());
    return;
  }
  h.psi_some_pct.push_back(*c.psi_some_pct);
  while (h.psi_some_pct.size() > h.keep) h.psi_some_pct.pop_front();
  c.psi_history.assign(h.psi_some_pct.begin(), h.psi_some_pct.end());
}

void add_stalls(const model::BpfStats* bpf, const std::string& why, Content& c) {
  if (bpf == nullptr) {
    c.stalls_why = why;
    return;
  }
  for (const auto& [key, label] :
       {std::pair<const char*, const char*>{"direct_reclaim_us", "direct reclaim"},
        {"memcg_reclaim_us", "memcg reclaim"},
        {"direct_compaction_us", "compaction"},
        {"writeback_pause_us", "dirty throttle"}}) {
    const auto it = bpf->histograms.find(key);
    if (it == bpf->histograms.end()) continue;
    c.stalls.push_back(StallRow{label, it->second.count, static_cast<double>(it->second.sum),
                                static_cast<double>(it->second.max), it->second.slots});
  }
  if (c.stalls.empty()) c.stalls_why = why.empty() ? "no stall probe attached" : why;
  struct Who {
    const model::ProcessStall* p;
    const char* kind;
  };
  std::vector<Who> who;
  for (const auto& [key, label] :
       {std::pair<const char*, const char*>{"direct_reclaim", "direct reclaim"},
        {"memcg_reclaim", "memcg reclaim"},
        {"direct_compaction", "compaction"},
        {"writeback_throttle", "dirty throttle"}}) {
    const auto it = bpf->top.find(key);
    if (it == bpf->top.end()) continue;
    for (const auto& p : it->second) {
      if (p.total_us > 0) who.push_back(Who{&p, label});
    }
  }
  std::stable_sort(who.begin(), who.end(),
                   [](const Who& a, const Who& b) { return a.p->total_us > b.p->total_us; });
  for (std::size_t i = 0; i < who.size() && i < 3; ++i) {
    c.stalled.push_back(fmt::format("{} {} {} {}", who[i].p->pid, escape_text(who[i].p->comm),
                                    present::duration_us(static_cast<double>(who[i].p->total_us)),
                                    who[i].kind));
  }
}

/// The same node in the previous reading, when there is one.
const model::NumaNode* previous_node(const model::Snapshot& snap, int id) {
  if (!snap.previous || !snap.previous->numa.value) return nullptr;
  for (const auto& n : snap.previous->numa.value->nodes) {
    if (n.id == id) return &n;
  }
  return nullptr;
}

void add_numa(const model::Snapshot& snap, Content& c) {
  const auto& numa = snap.current.numa.value;
  if (!numa || numa->nodes.size() < 2) return;
  for (const auto& n : numa->nodes) {
    const auto total = n.meminfo.find("MemTotal");
    const auto free = n.meminfo.find("MemFree");
    if (total == n.meminfo.end() || free == n.meminfo.end()) continue;
    std::string line = fmt::format("node {}: free {} of {}", n.id, present::bytes(free->second),
                                   present::bytes(total->second));
    if (const auto* before = previous_node(snap, n.id); before != nullptr && snap.rates) {
      const double dt = snap.rates->interval_s;
      const auto rate = [&](std::initializer_list<const char*> names) -> std::optional<double> {
        std::optional<double> sum;
        for (const char* k : names) {
          const auto a = before->vmstat.find(k), b = n.vmstat.find(k);
          if (a == before->vmstat.end() || b == n.vmstat.end() || b->second < a->second) continue;
          sum = sum.value_or(0) + static_cast<double>(b->second - a->second) / dt;
        }
        return sum;
      };
      const auto kswapd = rate({"pgscan_kswapd"});
      const auto direct = rate({"pgscan_direct"});
      if (kswapd || direct) {
        line +=
            fmt::format(", scanned kswapd {}/s direct {}/s", present::fixed(kswapd.value_or(0), 0),
                        present::fixed(direct.value_or(0), 0));
      }
    }
    const auto miss = n.numastat.find("numa_miss");
    if (miss != n.numastat.end()) line += fmt::format(", numa_miss {}", miss->second);
    c.numa.push_back(std::move(line));
  }
}

void add_postgres(const model::Snapshot& snap, Content& c) {
  const auto& pg = snap.current.postgres.value;
  if (!pg) return;
  for (const auto& i : pg->instances) {
    std::string line = escape_text(i.data_dir.empty() ? "PostgreSQL" : i.data_dir);
    if (i.port) line += fmt::format(" (port {})", *i.port);
    if (i.segment_size) {
      line += ": segment " + present::bytes(*i.segment_size) + " " +
              escape_text(i.segment_backing.empty() ? "unknown" : i.segment_backing);
    }
    line += fmt::format(", {} backends", i.backend_pids.size());
    if (i.page_tables_total) line += ", page tables " + present::bytes(*i.page_tables_total);
    if (auto h = i.stats.find("database.hit_ratio"); h != i.stats.end()) {
      line += ", hit ratio " + present::percent(h->second);
    }
    if (i.double_buffered_bytes) {
      line += ", double-buffered " + present::bytes(*i.double_buffered_bytes);
    }
    if (!i.connected && !i.connection_error.empty()) {
      line += " (not connected: " + escape_text(i.connection_error) + ")";
    }
    c.postgres.push_back(std::move(line));
  }
}

void add_processes(const model::Snapshot& snap, Content& c) {
  const auto& procs = snap.current.processes.value;
  if (!procs) {
    c.notes.push_back("processes: " + escape_text(snap.current.processes.reason()));
    return;
  }
  for (const auto& p : *procs) {
    ProcessRow row;
    row.pid = p.pid;
    row.comm = escape_text(p.comm);
    row.cgroup = escape_text(p.cgroup);
    if (snap.rates) {
      if (auto it = snap.rates->processes.find(p.pid); it != snap.rates->processes.end()) {
        row.minflt_per_sec = it->second.minflt_per_sec;
        row.majflt_per_sec = it->second.majflt_per_sec;
      }
    }
    row.rss = p.vm_rss;
    row.anon = p.rss_anon;
    row.page_tables = p.vm_pte;
    row.thp = p.anon_huge_pages;
    row.swap = p.vm_swap;
    c.processes.push_back(std::move(row));
  }
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  for (const char ch : text) {
    if (ch == '\n') {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += ch;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

FindingRow finding_row(const rules::Finding& f) {
  FindingRow row;
  row.severity = f.severity;
  row.rule_id = escape_text(f.rule_id);
  row.subject = escape_text(f.subject);
  row.title = escape_text(f.title) + (f.subject.empty() ? "" : " · " + row.subject);
  for (const auto& e : f.evidence) {
    row.evidence.push_back(escape_text(e.name + " = " + e.text +
                                       (e.unit.empty() || e.unit == "%" ? e.unit : " " + e.unit)));
  }
  for (const auto& r : f.recommendations) {
    std::string line = r.key + (r.target.empty() ? "" : " (" + r.target + ")") + ": " +
                       (r.current.empty() ? "?" : r.current) + " -> " + r.proposed;
    row.recommendations.push_back(escape_text(line));
    if (!r.apply.empty()) row.recommendations.push_back("  apply: " + escape_text(r.apply));
    if (!r.note.empty()) row.recommendations.push_back("  note: " + escape_text(r.note));
  }
  for (const auto& l : lines_of(f.rationale)) row.rationale.push_back(escape_text(l));
  for (const auto& r : f.references) row.references.push_back(escape_text(r));
  return row;
}

bool contains_ci(const std::string& hay, const std::string& needle) {
  if (needle.empty()) return true;
  const auto lower = [](std::string s) {
    for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return s;
  };
  return lower(hay).find(lower(needle)) != std::string::npos;
}

template <typename T>
void add_opt(std::optional<T>& into, const std::optional<T>& v) {
  if (v) into = into.value_or(T{}) + *v;
}

}  // namespace

Content build_content(const model::Snapshot& snapshot, const rules::Evaluation& evaluation,
                      const model::BpfStats* bpf, const std::string& bpf_why,
                      const std::string& source, History& history) {
  Content c;
  const auto& host = snapshot.current.host;
  c.title = "vmtune top · " + escape_text(host.hostname.empty() ? "?" : host.hostname) + " · " +
            escape_text(host.kernel_release);
  c.source = escape_text(source);
  c.interval_s = snapshot.rates ? snapshot.rates->interval_s : 0;
  add_memory(snapshot, c);
  add_rates(snapshot, c);
  add_psi(snapshot, c, history);
  add_stalls(bpf, escape_text(bpf_why), c);
  add_numa(snapshot, c);
  add_postgres(snapshot, c);
  add_processes(snapshot, c);
  for (const auto& f : evaluation.findings) c.findings.push_back(finding_row(f));
  return c;
}

std::vector<ProcessRow> table_rows(const Content& content, const ViewState& state) {
  std::vector<ProcessRow> rows;
  for (const auto& p : content.processes) {
    if (contains_ci(p.comm, state.filter) || contains_ci(p.cgroup, state.filter) ||
        (!state.filter.empty() && std::to_string(p.pid) == state.filter)) {
      rows.push_back(p);
    }
  }
  if (state.group_by_cgroup) {
    std::map<std::string, ProcessRow> groups;
    for (const auto& p : rows) {
      auto& g = groups[p.cgroup];
      if (g.members == 1 && g.pid == 0 && g.comm.empty()) {
        g = ProcessRow{};
        g.cgroup = p.cgroup;
        g.comm = p.cgroup.empty() ? "(no cgroup)" : p.cgroup;
        g.members = 0;
      }
      ++g.members;
      add_opt(g.minflt_per_sec, p.minflt_per_sec);
      add_opt(g.majflt_per_sec, p.majflt_per_sec);
      add_opt(g.rss, p.rss);
      add_opt(g.anon, p.anon);
      add_opt(g.page_tables, p.page_tables);
      add_opt(g.thp, p.thp);
      add_opt(g.swap, p.swap);
    }
    rows.clear();
    for (auto& [name, g] : groups) rows.push_back(std::move(g));
  }
  const auto num = [&](const ProcessRow& r) -> double {
    switch (state.sort) {
      case SortColumn::minflt:
        return r.minflt_per_sec.value_or(-1);
      case SortColumn::majflt:
        return r.majflt_per_sec.value_or(-1);
      case SortColumn::rss:
        return r.rss ? static_cast<double>(*r.rss) : -1;
      case SortColumn::anon:
        return r.anon ? static_cast<double>(*r.anon) : -1;
      case SortColumn::page_tables:
        return r.page_tables ? static_cast<double>(*r.page_tables) : -1;
      case SortColumn::thp:
        return r.thp ? static_cast<double>(*r.thp) : -1;
      case SortColumn::swap:
        return r.swap ? static_cast<double>(*r.swap) : -1;
      case SortColumn::pid:
      case SortColumn::command:
        break;
    }
    return 0;
  };
  std::stable_sort(rows.begin(), rows.end(), [&](const ProcessRow& a, const ProcessRow& b) {
    if (state.sort == SortColumn::pid) return a.pid < b.pid;
    if (state.sort == SortColumn::command) return a.comm < b.comm;
    const double x = num(a), y = num(b);
    if (x != y) return x > y;  // largest first
    return a.pid < b.pid;
  });
  return rows;
}

namespace {

constexpr SortColumn kSortOrder[] = {
    SortColumn::minflt, SortColumn::majflt,      SortColumn::rss,
    SortColumn::anon,   SortColumn::page_tables, SortColumn::thp,
    SortColumn::swap,   SortColumn::pid,         SortColumn::command};

constexpr double kIntervals[] = {0.5, 1, 2, 5, 10, 30};

/// `index + delta` within [0, n - 1], computed wide so no state can overflow it.
int moved(int index, int delta, std::size_t n) {
  const long long last = n == 0 ? 0 : static_cast<long long>(n) - 1;
  return static_cast<int>(std::clamp(static_cast<long long>(index) + delta, 0LL, last));
}

void move_selection(ViewState& s, const Content& c, int delta) {
  if (s.focus == Focus::findings) {
    s.finding_selected = moved(s.finding_selected, delta, c.findings.size());
  } else {
    s.process_selected = moved(s.process_selected, delta, table_rows(c, s).size());
  }
}

/// The detail view scrolls at most this far (layout shows the end of shorter text).
constexpr int kMaxDetailTop = 100000;

Action filter_key(const Key& key, ViewState& s) {
  using K = Key::Kind;
  if (key.kind == K::enter) {
    s.editing_filter = false;
  } else if (key.kind == K::escape) {
    s.editing_filter = false;
    s.filter.clear();
  } else if (key.kind == K::backspace) {
    if (!s.filter.empty()) s.filter.pop_back();
  } else if (key.kind == K::character && key.ch >= 0x20 && key.ch < 0x7f && s.filter.size() < 64) {
    s.filter += static_cast<char>(key.ch);  // printable ASCII: what process names match on
  } else {
    return {};
  }
  s.process_selected = 0;
  s.process_top = 0;
  return Action{true, false, false};
}

Action detail_key(const Key& key, ViewState& s) {
  using K = Key::Kind;
  switch (key.kind) {
    case K::escape:
    case K::enter:
    case K::backspace:
      s.detail = false;
      s.detail_top = 0;
      return Action{true, false, false};
    case K::up:
      s.detail_top = std::clamp(s.detail_top, 1, kMaxDetailTop) - 1;
      return Action{true, false, false};
    case K::down:
      s.detail_top = std::min(std::clamp(s.detail_top, 0, kMaxDetailTop) + 1, kMaxDetailTop);
      return Action{true, false, false};
    case K::page_up:
      s.detail_top = std::max(0, std::clamp(s.detail_top, 0, kMaxDetailTop) - 10);
      return Action{true, false, false};
    case K::page_down:
      s.detail_top = std::min(std::clamp(s.detail_top, 0, kMaxDetailTop) + 10, kMaxDetailTop);
      return Action{true, false, false};
    default:
      break;
  }
  if (key.kind == K::character && key.ch == 'q') return Action{false, true, false};
  if (key.kind == K::character && (key.ch == 'k' || key.ch == 'j')) {
    return detail_key(Key{key.ch == 'k' ? K::up : K::down, 0}, s);
  }
  return {};
}

}  // namespace

Action handle_key(const Key& key, const Content& content, ViewState& s) {
  using K = Key::Kind;
  if (key.kind == K::resize) return Action{true, false, false};
  if (key.kind == K::hangup) return Action{false, true, false};
  if (s.editing_filter) return filter_key(key, s);
  if (s.help) {  // any key closes the help; q still quits
    s.help = false;
    return Action{true, key.kind == K::character && key.ch == 'q', false};
  }
  if (s.detail) return detail_key(key, s);
  switch (key.kind) {
    case K::up:
      move_selection(s, content, -1);
      return Action{true, false, false};
    case K::down:
      move_selection(s, content, 1);
      return Action{true, false, false};
    case K::page_up:
      move_selection(s, content, -10);
      return Action{true, false, false};
    case K::page_down:
      move_selection(s, content, 10);
      return Action{true, false, false};
    case K::home:
      move_selection(s, content, -1000000);
      return Action{true, false, false};
    case K::end:
      move_selection(s, content, 1000000);
      return Action{true, false, false};
    case K::tab:
      s.focus = s.focus == Focus::processes ? Focus::findings : Focus::processes;
      return Action{true, false, false};
    case K::enter:
      if (s.focus == Focus::findings && !content.findings.empty()) {
        const auto n = static_cast<int>(content.findings.size());
        s.detail = true;
        const auto& row =
            content.findings[static_cast<std::size_t>(std::clamp(s.finding_selected, 0, n - 1))];
        s.detail_rule = row.rule_id;
        s.detail_subject = row.subject;
        s.detail_top = 0;
      }
      return Action{true, false, false};
    case K::escape:
      if (!s.filter.empty()) s.filter.clear();
      return Action{true, false, false};
    case K::character:
      break;
    default:
      return {};
  }
  switch (key.ch) {
    case 'q':
      return Action{false, true, false};
    case '?':
    case 'h':
      s.help = true;
      return Action{true, false, false};
    case 'k':
      return handle_key(Key{K::up, 0}, content, s);
    case 'j':
      return handle_key(Key{K::down, 0}, content, s);
    case 's': {
      const auto* it = std::find(std::begin(kSortOrder), std::end(kSortOrder), s.sort);
      s.sort = (it + 1 == std::end(kSortOrder)) ? kSortOrder[0] : *(it + 1);
      s.process_selected = 0;
      s.process_top = 0;
      return Action{true, false, false};
    }
    case '/':
      s.editing_filter = true;
      return Action{true, false, false};
    case 'g':
      s.group_by_cgroup = !s.group_by_cgroup;
      s.process_selected = 0;
      s.process_top = 0;
      return Action{true, false, false};
    case 'p':
      s.paused = !s.paused;
      return Action{true, false, false};
    case '+':
    case '-': {
      const auto* it = std::find_if(std::begin(kIntervals), std::end(kIntervals),
                                    [&](double v) { return v >= s.interval_s - 1e-9; });
      if (key.ch == '+') {
        if (it != std::end(kIntervals) && *it <= s.interval_s + 1e-9) ++it;
        s.interval_s = it == std::end(kIntervals) ? kIntervals[std::size(kIntervals) - 1] : *it;
      } else {
        s.interval_s = it == std::begin(kIntervals) ? kIntervals[0] : *(it - 1);
      }
      return Action{true, false, true};
    }
    default:
      return {};
  }
}

void sync_state(const Content& content, ViewState& s) {
  const int findings = static_cast<int>(content.findings.size());
  s.finding_selected = std::clamp(s.finding_selected, 0, std::max(0, findings - 1));
  const int rows = static_cast<int>(table_rows(content, s).size());
  s.process_selected = std::clamp(s.process_selected, 0, std::max(0, rows - 1));
  if (!s.detail) return;
  for (int i = 0; i < findings; ++i) {
    const auto& row = content.findings[static_cast<std::size_t>(i)];
    if (row.rule_id == s.detail_rule && row.subject == s.detail_subject) {
      s.finding_selected = i;
      return;
    }
  }
  s.detail = false;  // the finding went away
  s.detail_top = 0;
}

namespace {

/// The next code point of UTF-8 `s` at `i` (advancing i); U+FFFD for a bad sequence.
char32_t next_code_point(std::string_view s, std::size_t& i) {
  const auto c = static_cast<unsigned char>(s[i]);
  const std::size_t len = c < 0x80           ? 1
                          : (c >> 5) == 0x6  ? 2
                          : (c >> 4) == 0xE  ? 3
                          : (c >> 3) == 0x1E ? 4
                                             : 1;
  if (len == 1 || i + len > s.size()) {
    ++i;
    return c < 0x80 ? c : 0xFFFD;
  }
  char32_t cp = c & (0x7F >> len);
  for (std::size_t k = 1; k < len; ++k)
    cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  i += len;
  return cp;
}

int code_point_width(char32_t cp) {
  // Combining marks and zero-width characters.
  if ((cp >= 0x0300 && cp <= 0x036F) || (cp >= 0x1AB0 && cp <= 0x1AFF) ||
      (cp >= 0x1DC0 && cp <= 0x1DFF) || (cp >= 0x20D0 && cp <= 0x20FF) ||
      (cp >= 0xFE20 && cp <= 0xFE2F) || cp == 0x200B || cp == 0x200C || cp == 0x200D ||
      cp == 0xFEFF) {
    return 0;
  }
  // East Asian Wide and Fullwidth (Unicode 15, EastAsianWidth.txt W/F, in blocks).
  if ((cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0x303E) ||
      (cp >= 0x3041 && cp <= 0x33FF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
      (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0xA000 && cp <= 0xA4CF) ||
      (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
      (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
      (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x1F300 && cp <= 0x1F64F) ||
      (cp >= 0x1F900 && cp <= 0x1F9FF) || (cp >= 0x20000 && cp <= 0x3FFFD)) {
    return 2;
  }
  return 1;
}

}  // namespace

std::size_t display_width(std::string_view text) {
  std::size_t w = 0;
  for (std::size_t i = 0; i < text.size();)
    w += static_cast<std::size_t>(code_point_width(next_code_point(text, i)));
  return w;
}

std::string cut_to_width(std::string_view text, std::size_t width, bool ascii) {
  if (display_width(text) <= width) return std::string(text);
  if (width == 0) return {};
  const std::string mark = ascii ? "~" : "…";
  std::size_t used = 0, i = 0, end = 0;
  while (i < text.size()) {
    const std::size_t at = i;
    const auto w = static_cast<std::size_t>(code_point_width(next_code_point(text, i)));
    if (used + w > width - 1) break;  // room for the mark
    used += w;
    end = i;
    (void)at;
  }
  return std::string(text.substr(0, end)) + mark;
}

}  // namespace vmtune::ui::tui
