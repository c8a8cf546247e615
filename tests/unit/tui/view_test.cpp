// SPDX-License-Identifier: GPL-2.0-or-later
// The dashboard's view model without a terminal: build_content on fixture trees (the memory
// panel against the tree's own meminfo, rates from a fixture pair), the process table's sort,
// filter and grouping, the keys, and the layout at several sizes (including too small ones).
#include "ui/tui/view.hpp"

#include <gtest/gtest.h>

#include <climits>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "catalogue.hpp"
#include "rules/audit.hpp"
#include "sampler/sampler.hpp"
#include "test_support.hpp"
#include "ui/tui/terminal.hpp"

namespace vmtune::ui::tui {
namespace {

namespace fs = std::filesystem;

model::Sample sample_of(const fs::path& tree) {
  sampler::Origin o;
  o.root = tree.string();
  auto s = sampler::Sampler::open(o);
  EXPECT_TRUE(s.ok()) << tree;
  sampler::Options opt;
  opt.postgres = false;
  return s.ok() ? s->sample(opt) : model::Sample{};
}

/// A fixture's own meminfo field, in bytes, read independently of the collector.
std::uint64_t meminfo_bytes(const fs::path& tree, const std::string& key) {
  std::istringstream in(test::slurp(tree / "proc/meminfo"));
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(key + ":", 0) == 0) return std::stoull(line.substr(key.size() + 1)) * 1024;
  }
  ADD_FAILURE() << key << " not in " << tree;
  return 0;
}

struct Built {
  model::Snapshot snapshot;
  rules::Evaluation evaluation;
  Content content;
};

Built build(model::Sample current, std::optional<model::Sample> previous = {}) {
  Built b;
  b.snapshot = model::make_snapshot(std::move(current), std::move(previous));
  b.evaluation = rules::audit(test::catalogue(), b.snapshot, rules::Config{});
  History h;
  b.content =
      build_content(b.snapshot, b.evaluation, nullptr, "eBPF probes off (--no-trace)", "test", h);
  return b;
}

const fs::path kLive = test::test_data() / "live-debian12";
const fs::path kPg = test::test_data() / "postgres" / "pg15_hugepages_off";

TEST(Content, MemoryPanelIsTheTreesOwnMeminfo) {
  const auto b = build(sample_of(kLive));
  EXPECT_EQ(b.content.mem_total, meminfo_bytes(kLive, "MemTotal"));
  std::map<std::string, std::uint64_t> rows;
  for (const auto& m : b.content.memory) rows[m.label] = m.bytes;
  EXPECT_EQ(rows.at("Anonymous"), meminfo_bytes(kLive, "AnonPages"));
  EXPECT_EQ(rows.at("Free"), meminfo_bytes(kLive, "MemFree"));
  EXPECT_EQ(rows.at("Shmem/tmpfs"), meminfo_bytes(kLive, "Shmem"));
  EXPECT_EQ(rows.at("Page cache"), meminfo_bytes(kLive, "Cached") +
                                       meminfo_bytes(kLive, "Buffers") -
                                       meminfo_bytes(kLive, "Shmem"));
  EXPECT_EQ(rows.at("Page tables"), meminfo_bytes(kLive, "PageTables"));
  // One reading: no rates, and the panel says why instead of showing zeros.
  for (const auto& r : b.content.rates) {
    EXPECT_FALSE(r.value) << r.label;
    EXPECT_EQ(r.why, "need two readings (one here)");
  }
  EXPECT_EQ(b.content.stalls_why, "eBPF probes off (--no-trace)");
}

/// The pg15 tree as two readings 2 s apart: vmstat counters and one backend's faults moved.
std::pair<model::Sample, model::Sample> pair() {
  auto prev = sample_of(kPg);
  auto cur = prev;
  cur.monotonic_s = prev.monotonic_s + 2;
  if (!prev.vmstat.value) {
    prev.vmstat.value = model::VmStat{};
    cur.vmstat.value = model::VmStat{};
  }
  auto& a = prev.vmstat.value->counters;
  auto& b = cur.vmstat.value->counters;
  a["pgfault"] = 1000;
  b["pgfault"] = 1000 + 2 * 5000;
  a["pgmajfault"] = 10;
  b["pgmajfault"] = 10 + 2 * 30;
  a["pgscan_direct"] = 0;
  b["pgscan_direct"] = 2 * 128;
  cur.processes.value->back().minflt += 2 * 700;  // the last process faults 700/s
  return {cur, prev};
}

TEST(Content, RatesFromAFixturePair) {
  auto [cur, prev] = pair();
  const int busy = cur.processes.value->back().pid;
  const auto b = build(cur, prev);
  std::map<std::string, RateRow> rates;
  for (const auto& r : b.content.rates) rates[r.label] = r;
  EXPECT_DOUBLE_EQ(*rates.at("Minor faults").value, 5000 - 30);
  EXPECT_DOUBLE_EQ(*rates.at("Major faults").value, 30);
  EXPECT_DOUBLE_EQ(*rates.at("Scan direct").value, 128);
  EXPECT_EQ(rates.at("Scan direct").unit, "pages/s");
  const auto rows = table_rows(b.content, ViewState{});
  ASSERT_FALSE(rows.empty());
  EXPECT_EQ(rows.front().pid, busy) << "sorted by minor faults/s, largest first";
  EXPECT_DOUBLE_EQ(*rows.front().minflt_per_sec, 700);
}

TEST(Table, SortFilterAndGroupByCgroup) {
  auto b = build(sample_of(kPg));
  ASSERT_GE(b.content.processes.size(), 11u);
  ViewState st;
  st.sort = SortColumn::rss;
  auto rows = table_rows(b.content, st);
  for (std::size_t i = 1; i < rows.size(); ++i) {
    EXPECT_GE(rows[i - 1].rss.value_or(0), rows[i].rss.value_or(0));
  }
  st.sort = SortColumn::pid;
  rows = table_rows(b.content, st);
  for (std::size_t i = 1; i < rows.size(); ++i) EXPECT_LT(rows[i - 1].pid, rows[i].pid);

  st.filter = "POSTGRES";  // case-insensitive
  rows = table_rows(b.content, st);
  ASSERT_FALSE(rows.empty());
  for (const auto& r : rows) EXPECT_NE(r.comm.find("postgres"), std::string::npos) << r.comm;
  EXPECT_LT(rows.size(), b.content.processes.size()) << "proc/1 is not PostgreSQL";

  // Grouped: one row per cgroup, counting its members and adding their memory.
  b.content.processes[0].cgroup = "/db.slice";
  b.content.processes[1].cgroup = "/db.slice";
  st = ViewState{};
  st.group_by_cgroup = true;
  st.sort = SortColumn::command;
  rows = table_rows(b.content, st);
  int members = 0;
  for (const auto& r : rows) {
    members += r.members;
    if (r.cgroup == "/db.slice") {
      EXPECT_EQ(r.members, 2);
      EXPECT_EQ(*r.rss,
                b.content.processes[0].rss.value_or(0) + b.content.processes[1].rss.value_or(0));
    }
  }
  EXPECT_EQ(members, static_cast<int>(b.content.processes.size()));
}

TEST(Content, HostileProcessNamesAreEscaped) {
  auto s = sample_of(kPg);
  s.processes.value->front().comm = "x\x1b[2Jy\xff";
  s.processes.value->front().cgroup = "/a\nb";
  const auto b = build(s);
  EXPECT_EQ(b.content.processes.front().comm, "x\\x1b[2Jy\\xff");
  EXPECT_EQ(b.content.processes.front().cgroup, "/a\\x0ab");
  const auto frame = layout(b.content, ViewState{}, 120, 40).text();
  EXPECT_EQ(frame.find('\x1b'), std::string::npos);
}

TEST(Content, StallTotalsAndTheProcessesThatStalledLongest) {
  const auto snap = model::make_snapshot(sample_of(kLive), std::nullopt);
  model::BpfStats bpf;
  bpf.histograms["memcg_reclaim_us"] =
      model::Log2Histogram{"us", {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 30, 5}, 40, 650000, 90000};
  bpf.histograms["writeback_pause_us"] = model::Log2Histogram{"us", {}, 0, 0, 0};
  model::ProcessStall writer;
  writer.pid = 4242;
  writer.comm = "dd\x1b";
  writer.total_us = 650000;
  bpf.top["memcg_reclaim"] = {writer};
  History h;
  auto c = build_content(snap, rules::Evaluation{}, &bpf, "", "", h);
  ASSERT_EQ(c.stalls.size(), 2u);
  EXPECT_EQ(c.stalls[0].label, "memcg reclaim");
  EXPECT_EQ(c.stalls[0].count, 40u);
  ASSERT_EQ(c.stalled.size(), 1u);
  EXPECT_EQ(c.stalled[0], "4242 dd\\x1b 650.0 ms memcg reclaim");
  c.stalls_scope = "since start";
  const auto text = layout(c, ViewState{}, 120, 40).text();
  EXPECT_NE(text.find("Stalls (eBPF, since start)"), std::string::npos) << text;
  EXPECT_NE(text.find("memcg reclaim 40× 650.0 ms (max 90.0 ms) [4.10 ms ▂█▂ 32.8 ms]"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("stalled longest:  4242 dd\\x1b 650.0 ms memcg reclaim"), std::string::npos)
      << text;
  // A histogram with a count but no slots (found by tui_layout_fuzz) draws no distribution.
  c.stalls.push_back(StallRow{"compaction", 3, 30, 20, {}});
  EXPECT_NE(layout(c, ViewState{}, 200, 40).text().find("compaction 3× 30 µs (max 20 µs)"),
            std::string::npos);
  // Probes that could not attach: the panel says why.
  c = build_content(snap, rules::Evaluation{}, nullptr, "eBPF probes not attached: needs root", "",
                    h);
  EXPECT_NE(layout(c, ViewState{}, 120, 40).text().find("eBPF probes not attached: needs root"),
            std::string::npos);
}

TEST(Content, NumaNodesAndPostgresInstancesGetALineEach) {
  auto s = sample_of(kLive);
  model::Numa numa;
  for (int id : {0, 1}) {
    model::NumaNode n;
    n.id = id;
    n.meminfo = {{"MemTotal", 8ull << 30}, {"MemFree", (id + 1ull) << 30}};
    n.numastat = {{"numa_miss", 7u * id}};
    numa.nodes.push_back(n);
  }
  s.numa.value = numa;
  model::PgInstance pg;
  pg.data_dir = "/srv/pg/\x1bmain";
  pg.port = 5433;
  pg.segment_size = 4ull << 30;
  pg.segment_backing = "4k";
  pg.backend_pids = {1, 2, 3};
  pg.page_tables_total = 228ull << 20;
  pg.stats["database.hit_ratio"] = 0.992;
  s.postgres.value = model::PostgresFacts{{pg}};
  auto prev = s;
  prev.monotonic_s = s.monotonic_s - 2;
  s.numa.value->nodes[1].vmstat = {{"pgscan_kswapd", 1000 + 2 * 512}, {"pgscan_direct", 20}};
  prev.numa.value->nodes[1].vmstat = {{"pgscan_kswapd", 1000}, {"pgscan_direct", 0}};
  const auto b = build(s, prev);
  ASSERT_EQ(b.content.numa.size(), 2u);
  EXPECT_EQ(b.content.numa[0], "node 0: free 1.00 GiB of 8.00 GiB, numa_miss 0");
  EXPECT_EQ(b.content.numa[1],
            "node 1: free 2.00 GiB of 8.00 GiB, scanned kswapd 512/s direct 10/s, numa_miss 7");
  ASSERT_EQ(b.content.postgres.size(), 1u);
  EXPECT_EQ(b.content.postgres[0],
            "/srv/pg/\\x1bmain (port 5433): segment 4.00 GiB 4k, 3 backends, page tables 228 MiB, "
            "hit ratio 99.2%");
  const auto text = layout(b.content, ViewState{}, 120, 40).text();
  EXPECT_NE(text.find(b.content.postgres[0]), std::string::npos) << text;
  EXPECT_NE(text.find("node 0: free"), std::string::npos) << text;
}

Key ch(char c) { return Key{Key::Kind::character, static_cast<char32_t>(c)}; }
Key kind(Key::Kind k) { return Key{k, 0}; }

TEST(Keys, EveryKeyChangesOnlyTheViewState) {
  const auto b = build(sample_of(kPg));
  ViewState st;
  EXPECT_TRUE(handle_key(ch('s'), b.content, st).redraw);
  EXPECT_EQ(st.sort, SortColumn::majflt);
  for (int i = 0; i < 8; ++i) handle_key(ch('s'), b.content, st);
  EXPECT_EQ(st.sort, SortColumn::minflt) << "s cycles through every column";

  handle_key(ch('/'), b.content, st);
  EXPECT_TRUE(st.editing_filter);
  for (char c : std::string("pgq")) handle_key(ch(c), b.content, st);  // q is text here
  handle_key(kind(Key::Kind::backspace), b.content, st);
  handle_key(kind(Key::Kind::enter), b.content, st);
  EXPECT_FALSE(st.editing_filter);
  EXPECT_EQ(st.filter, "pg");
  handle_key(kind(Key::Kind::escape), b.content, st);
  EXPECT_EQ(st.filter, "");

  handle_key(ch('g'), b.content, st);
  EXPECT_TRUE(st.group_by_cgroup);
  handle_key(ch('p'), b.content, st);
  EXPECT_TRUE(st.paused);
  EXPECT_TRUE(handle_key(ch('+'), b.content, st).interval_changed);
  EXPECT_DOUBLE_EQ(st.interval_s, 2);
  handle_key(ch('-'), b.content, st);
  handle_key(ch('-'), b.content, st);
  handle_key(ch('-'), b.content, st);
  EXPECT_DOUBLE_EQ(st.interval_s, 0.5) << "0.5 s is the fastest";

  st = ViewState{};
  handle_key(kind(Key::Kind::down), b.content, st);
  handle_key(ch('j'), b.content, st);
  EXPECT_EQ(st.process_selected, 2);
  handle_key(kind(Key::Kind::page_down), b.content, st);
  EXPECT_EQ(st.process_selected, static_cast<int>(b.content.processes.size()) - 1) << "clamped";

  const auto live = build(sample_of(kLive));
  ASSERT_FALSE(live.content.findings.empty()) << "the live-debian12 tree has R-SWAP-4";
  handle_key(kind(Key::Kind::tab), live.content, st);
  EXPECT_EQ(st.focus, Focus::findings);
  handle_key(kind(Key::Kind::enter), live.content, st);
  EXPECT_TRUE(st.detail);
  EXPECT_FALSE(handle_key(ch('s'), live.content, st).redraw) << "detail view: s does nothing";
  handle_key(kind(Key::Kind::escape), live.content, st);
  EXPECT_FALSE(st.detail);

  handle_key(ch('?'), b.content, st);
  EXPECT_TRUE(st.help);
  EXPECT_FALSE(handle_key(ch('x'), b.content, st).quit);
  EXPECT_FALSE(st.help);
  EXPECT_TRUE(handle_key(ch('q'), b.content, st).quit);
}

/// Columns of a UTF-8 line.
std::size_t columns(const std::string& s) {
  std::size_t n = 0;
  for (const unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

void expect_fits(const Frame& f, int w, int h) {
  ASSERT_EQ(f.lines.size(), static_cast<std::size_t>(h));
  for (const auto& l : f.lines)
    EXPECT_LE(columns(l.text()), static_cast<std::size_t>(w)) << l.text();
}

TEST(Layout, PanelsAtEverySizeFitTheTerminal) {
  auto [cur, prev] = pair();
  const auto b = build(cur, prev);
  for (const auto& [w, h] : std::vector<std::pair<int, int>>{{80, 24}, {120, 40}, {200, 60}}) {
    const auto f = layout(b.content, ViewState{}, w, h);
    expect_fits(f, w, h);
    const auto text = f.text();
    for (const char* panel : {"Memory", "Rates (per second)", "PSI memory", "Stalls (eBPF)",
                              "Findings", "Processes", "q quit"}) {
      EXPECT_NE(text.find(panel), std::string::npos) << panel << " at " << w << "x" << h;
    }
    EXPECT_TRUE(std::regex_search(text, std::regex("Minor faults +4\\.97k "))) << text;
    EXPECT_TRUE(std::regex_search(text, std::regex("Major faults +30\\.0 "))) << text;
    EXPECT_TRUE(std::regex_search(text, std::regex("Scan direct +128 "))) << text;
  }
}

TEST(Layout, TooSmallTerminalsGetAMessage) {
  const auto b = build(sample_of(kLive));
  for (const auto& [w, h] : std::vector<std::pair<int, int>>{{40, 12}, {20, 5}, {79, 30}, {1, 1}}) {
    const auto f = layout(b.content, ViewState{}, w, h);
    expect_fits(f, w, h);
    if (w >= 40) {
      EXPECT_NE(f.text().find("needs at least"), std::string::npos) << w << "x" << h;
    }
  }
}

TEST(Layout, DetailHelpAndAscii) {
  const auto b = build(sample_of(kLive));
  ViewState st;
  st.focus = Focus::findings;
  st.detail = true;
  auto text = layout(b.content, st, 120, 40).text();
  const auto& f = b.content.findings.front();
  EXPECT_NE(text.find(f.rule_id), std::string::npos);
  EXPECT_NE(text.find("Evidence"), std::string::npos) << text;
  EXPECT_NE(text.find(f.evidence.front()), std::string::npos) << text;
  EXPECT_NE(text.find("Esc back"), std::string::npos);

  st = ViewState{};
  st.help = true;
  text = layout(b.content, st, 120, 40).text();
  EXPECT_NE(text.find("group the process table by cgroup"), std::string::npos) << text;

  st = ViewState{};
  st.ascii = true;
  text = layout(b.content, st, 120, 40).text();
  EXPECT_NE(text.find("-- Processes"), std::string::npos) << text;
}

TEST(Width, WideCharactersCountTwoColumnsAndNothingOverflows) {
  EXPECT_EQ(display_width("abc"), 3u);
  EXPECT_EQ(display_width("数据"), 4u);
  EXPECT_EQ(display_width("e\xcc\x81"), 1u) << "e + combining acute";
  EXPECT_EQ(display_width("\xff\xfe"), 2u) << "bad bytes count as one each";
  EXPECT_EQ(cut_to_width("数据数据", 5, false), "数据…");
  EXPECT_EQ(cut_to_width("数据数据", 5, true), "数据~");
  EXPECT_EQ(cut_to_width("abc", 3, false), "abc");
  EXPECT_EQ(cut_to_width("abcd", 0, false), "");
  EXPECT_EQ(to_ascii("a·b→c±d数"), "a-b>c~d?");
  EXPECT_EQ(to_ascii("\xe2\x86"), "?")
      << "a sequence cut short is one '?', not a read past the end";

  auto s = sample_of(kPg);
  for (auto& p : *s.processes.value)
    p.comm = "数据数据数据数据数据数据数据数据数据数据数据数据数据数据";
  s.processes.value->front().cgroup = "/数据数据数据数据数据数据数据数据数据数据数据数据.slice";
  const auto b = build(s);
  for (const auto& [w, h] : std::vector<std::pair<int, int>>{{80, 24}, {120, 40}}) {
    ViewState st;
    const auto f = layout(b.content, st, w, h);
    for (const auto& l : f.lines)
      EXPECT_LE(display_width(l.text()), static_cast<std::size_t>(w)) << l.text();
    st.group_by_cgroup = true;
    for (const auto& l : layout(b.content, st, w, h).lines) {
      EXPECT_LE(display_width(l.text()), static_cast<std::size_t>(w)) << l.text();
    }
  }
}

TEST(Keys, DetailFollowsItsFindingAcrossRefreshesAndClosesWhenItGoes) {
  auto b = build(sample_of(kLive));
  ASSERT_FALSE(b.content.findings.empty());
  ViewState st;
  st.focus = Focus::findings;
  handle_key(kind(Key::Kind::enter), b.content, st);
  ASSERT_TRUE(st.detail);
  const auto rule = st.detail_rule;
  // A new critical finding is put first: the detail stays on its own finding.
  FindingRow urgent;
  urgent.rule_id = "R-NEW-1";
  urgent.severity = rules::Severity::critical;
  b.content.findings.insert(b.content.findings.begin(), urgent);
  sync_state(b.content, st);
  EXPECT_TRUE(st.detail);
  EXPECT_EQ(b.content.findings[static_cast<std::size_t>(st.finding_selected)].rule_id, rule);
  // Its finding went away: the detail view closes, the selection stays in range.
  b.content.findings.erase(b.content.findings.begin() + st.finding_selected);
  sync_state(b.content, st);
  EXPECT_FALSE(st.detail);
  b.content.findings.clear();
  sync_state(b.content, st);
  EXPECT_EQ(st.finding_selected, 0);
  EXPECT_FALSE(handle_key(kind(Key::Kind::enter), b.content, st).quit);
  EXPECT_FALSE(st.detail) << "nothing to show";
  EXPECT_TRUE(handle_key(kind(Key::Kind::hangup), b.content, st).quit) << "terminal gone: quit";
}

// Found by tui_layout_fuzz: selections and scroll positions at the ends of int must not
// overflow (UBSan) whatever key comes next.
TEST(Keys, ExtremeStateNeverOverflows) {
  const auto b = build(sample_of(kLive));
  for (const int v : {INT_MAX, INT_MIN, -1}) {
    ViewState st;
    st.detail = true;
    st.detail_top = v;
    for (const auto k :
         {Key::Kind::down, Key::Kind::page_down, Key::Kind::up, Key::Kind::page_up}) {
      handle_key(kind(k), b.content, st);
      EXPECT_GE(st.detail_top, 0);
      EXPECT_LE(st.detail_top, 100000);
    }
    st = ViewState{};
    st.process_selected = v;
    st.finding_selected = v;
    for (const auto k : {Key::Kind::down, Key::Kind::page_down, Key::Kind::end, Key::Kind::home}) {
      handle_key(kind(k), b.content, st);
      st.focus = st.focus == Focus::processes ? Focus::findings : Focus::processes;
      handle_key(kind(k), b.content, st);
    }
    EXPECT_GE(st.process_selected, 0);
    EXPECT_GE(st.finding_selected, 0);
    expect_fits(layout(b.content, st, 100, 30), 100, 30);
  }
}

// Captured screens a reviewer can read (tests/screens/*.txt), kept current: each is compared
// with layout() on the same fixture, and rewritten by VMTUNE_UPDATE_GOLDEN=1
// build/dev/tests/unit_tui.
void check_screen(const std::string& name, const std::string& got) {
  test::check_golden_file(fs::path(VMTUNE_SOURCE_DIR) / "tests" / "screens" / name, got);
}

TEST(Screens, MatchTheCapturedScreens) {
  auto [cur, prev] = pair();
  auto b = build(cur, prev);
  b.content.source = "tests/data/postgres/pg15_hugepages_off (2 readings)";
  b.content.still = true;
  check_screen("pg15-processes-120x40.txt", layout(b.content, ViewState{}, 120, 40).text());
  ViewState grouped;
  grouped.sort = SortColumn::rss;
  grouped.filter = "postgres";
  check_screen("pg15-filtered-by-rss-100x30.txt", layout(b.content, grouped, 100, 30).text());
  auto live = build(sample_of(kLive));
  live.content.source = "tests/data/live-debian12";
  live.content.still = true;
  ViewState detail;
  detail.focus = Focus::findings;
  detail.detail = true;
  check_screen("live-debian12-finding-detail-100x30.txt",
               layout(live.content, detail, 100, 30).text());
  ViewState help;
  help.help = true;
  help.ascii = true;
  check_screen("help-ascii-80x24.txt", to_ascii(layout(live.content, help, 80, 24).text()));
}

}  // namespace
}  // namespace vmtune::ui::tui
