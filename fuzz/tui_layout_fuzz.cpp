// SPDX-License-Identifier: GPL-2.0-or-later
// The dashboard's layout against arbitrary content, view state and terminal size: process
// names, cgroups and finding text from the fuzzer (escaped as build_content escapes them, and
// also raw, since layout must never trust its input's width), any selection, filter, sort and
// overlay. Aborts when layout throws, returns other than `height` lines, or a line is wider than
// the terminal; and when to_ascii leaves a non-ASCII byte or widens a line.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/escape.hpp"
#include "ui/tui/terminal.hpp"
#include "ui/tui/view.hpp"

namespace {

using namespace vmtune::ui::tui;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "tui_layout_fuzz: %s\n", what);
  std::abort();
}

std::string text(FuzzedDataProvider& in) {
  auto s = in.ConsumeRandomLengthString(200);
  return in.ConsumeBool() ? vmtune::core::escape_text(s) : s;
}

Content content(FuzzedDataProvider& in) {
  Content c;
  c.title = text(in);
  c.source = text(in);
  c.still = in.ConsumeBool();
  c.mem_total = in.ConsumeIntegral<std::uint64_t>();
  for (int i = in.ConsumeIntegralInRange(0, 8); i > 0; --i) {
    c.memory.push_back({text(in), in.ConsumeIntegral<std::uint64_t>(), Role::anon});
  }
  for (int i = in.ConsumeIntegralInRange(0, 20); i > 0; --i) {
    RateRow r{text(in), {}, text(in), text(in)};
    if (in.ConsumeBool()) r.value = in.ConsumeFloatingPoint<double>();
    c.rates.push_back(r);
  }
  if (in.ConsumeBool()) c.psi_some_pct = in.ConsumeFloatingPoint<double>();
  if (in.ConsumeBool()) c.psi_full_pct = in.ConsumeFloatingPoint<double>();
  c.psi_why = text(in);
  for (int i = in.ConsumeIntegralInRange(0, 400); i > 0; --i) {
    c.psi_history.push_back(in.ConsumeFloatingPoint<double>());
  }
  for (int i = in.ConsumeIntegralInRange(0, 4); i > 0; --i) {
    StallRow s{text(in),
               in.ConsumeIntegral<std::uint64_t>(),
               in.ConsumeFloatingPoint<double>(),
               in.ConsumeFloatingPoint<double>(),
               {}};
    for (int k = in.ConsumeIntegralInRange(0, 64); k > 0; --k) {
      s.slots.push_back(in.ConsumeIntegral<std::uint64_t>());
    }
    c.stalls.push_back(s);
  }
  for (int i = in.ConsumeIntegralInRange(0, 3); i > 0; --i) c.stalled.push_back(text(in));
  c.stalls_why = text(in);
  for (int i = in.ConsumeIntegralInRange(0, 6); i > 0; --i) c.numa.push_back(text(in));
  for (int i = in.ConsumeIntegralInRange(0, 6); i > 0; --i) c.postgres.push_back(text(in));
  for (int i = in.ConsumeIntegralInRange(0, 60); i > 0; --i) {
    ProcessRow p;
    p.pid = in.ConsumeIntegral<int>();
    p.comm = text(in);
    p.cgroup = text(in);
    if (in.ConsumeBool()) p.minflt_per_sec = in.ConsumeFloatingPoint<double>();
    if (in.ConsumeBool()) p.rss = in.ConsumeIntegral<std::uint64_t>();
    if (in.ConsumeBool()) p.page_tables = in.ConsumeIntegral<std::uint64_t>();
    c.processes.push_back(p);
  }
  for (int i = in.ConsumeIntegralInRange(0, 8); i > 0; --i) {
    FindingRow f;
    f.rule_id = text(in);
    f.title = text(in);
    f.evidence = {text(in)};
    f.recommendations = {text(in), text(in)};
    f.rationale = {text(in)};
    f.references = {text(in)};
    c.findings.push_back(f);
  }
  c.notes = {text(in)};
  return c;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  const Content c = content(in);
  ViewState st;
  st.focus = in.ConsumeBool() ? Focus::findings : Focus::processes;
  st.process_selected = in.ConsumeIntegral<int>();
  st.finding_selected = in.ConsumeIntegral<int>();
  st.sort = static_cast<SortColumn>(in.ConsumeIntegralInRange(0, 8));
  st.filter = in.ConsumeRandomLengthString(70);
  st.editing_filter = in.ConsumeBool();
  st.group_by_cgroup = in.ConsumeBool();
  st.paused = in.ConsumeBool();
  st.help = in.ConsumeBool();
  st.detail = in.ConsumeBool();
  st.detail_top = in.ConsumeIntegral<int>();
  st.ascii = in.ConsumeBool();
  const int width = in.ConsumeIntegralInRange(-5, 400);
  const int height = in.ConsumeIntegralInRange(-5, 200);
  // Keys never crash either, whatever the state.
  ViewState keyed = st;
  for (int i = in.ConsumeIntegralInRange(0, 10); i > 0; --i) {
    Key k{static_cast<Key::Kind>(in.ConsumeIntegralInRange(0, 14)), in.ConsumeIntegral<char32_t>()};
    handle_key(k, c, keyed);
  }
  sync_state(c, keyed);
  for (const ViewState* s : {&st, &keyed}) {
    const Frame f = layout(c, *s, width, height);
    const int w = width < 1 ? 1 : width, h = height < 1 ? 1 : height;
    if (f.lines.size() != static_cast<std::size_t>(h)) fail("wrong number of lines");
    for (const auto& l : f.lines) {
      const auto t = l.text();
      if (display_width(t) > static_cast<std::size_t>(w)) fail("a line wider than the terminal");
      const auto a = to_ascii(t);
      for (const unsigned char ch : a) {
        if (ch >= 0x80) fail("to_ascii left a non-ASCII byte");
      }
      if (a.size() > static_cast<std::size_t>(w)) fail("to_ascii widened a line past the edge");
    }
  }
  return 0;
}
