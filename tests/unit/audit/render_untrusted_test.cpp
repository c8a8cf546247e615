// SPDX-License-Identifier: GPL-2.0-or-later
// Every text front end on a sample whose untrusted strings hold invalid UTF-8, escape sequences
// and newlines: no raw ESC, no invalid UTF-8, and the documented escapes (vmtune(8), "Untrusted
// text") where the strings are shown.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "json/sample_json.hpp"
#include "model/derive.hpp"
#include "ui/report/audit_json.hpp"
#include "ui/report/audit_markdown.hpp"
#include "ui/report/audit_text.hpp"
#include "ui/report/collect_text.hpp"
#include "ui/report/trace_text.hpp"

namespace vmtune::ui::report {
namespace {

const std::string kEvil = "\xff\x1b[31mevil\nname";
const std::string kEvilEscaped = "\\xff\\x1b[31mevil\\x0aname";

// Valid UTF-8 by nlohmann's strict serialiser (it throws on anything else).
bool valid_utf8(const std::string& s) {
  try {
    (void)json::Json(s).dump();
    return true;
  } catch (const json::Json::type_error&) {
    return false;
  }
}

void expect_clean(const std::string& out, const char* what) {
  EXPECT_EQ(out.find('\x1b'), std::string::npos) << what;
  EXPECT_TRUE(valid_utf8(out)) << what;
  EXPECT_EQ(out.find("\xe2\x80\xae"), std::string::npos) << what;  // no raw bidi override
}

model::Sample hostile_sample() {
  model::Sample s;
  s.host.hostname = kEvil;
  s.host.kernel_release = "6.1";
  model::Process p;
  p.pid = 4242;
  p.comm = kEvil.substr(0, 15);
  p.cmdline = {kEvil, "--x",
               "\xe2\x80\xae"
               "txt.exe"};
  p.state = 'S';
  p.vm_rss = 1ull << 40;  // first in the RSS-sorted table
  s.processes.value = std::vector<model::Process>{p};
  model::Cgroups cgs;
  cgs.layout = "v2\x1b";
  s.cgroups.value = cgs;
  model::PgInstance pg;
  pg.postmaster_pid = 10;
  pg.data_dir = "/srv/" + kEvil;
  pg.connection_error = "FATAL: \x1b]0;x\x07\n";
  model::PostgresFacts facts;
  facts.instances = {pg};
  s.postgres.value = facts;
  s.unavailable.push_back({"processes", "/proc/" + kEvil, 0, "", "reason \xff"});
  return s;
}

TEST(RenderUntrusted, CollectTextEscapesCommArgvHostAndPostgres) {
  const auto snap = model::make_snapshot(hostile_sample(), std::nullopt);
  const auto out = render_collect_text(snap);
  expect_clean(out, "collect text");
  EXPECT_NE(out.find("host " + kEvilEscaped), std::string::npos) << out;
  EXPECT_NE(out.find("\\xff\\x1b[31mevil\\x0ana"), std::string::npos) << out;  // comm
  // The command line, each argument escaped, joined by spaces.
  EXPECT_NE(out.find(kEvilEscaped + " --x \\u{202e}txt.exe"), std::string::npos) << out;
  EXPECT_NE(out.find("data /srv/" + kEvilEscaped), std::string::npos) << out;
  EXPECT_NE(out.find("not connected: FATAL: \\x1b]0;x\\x07\\x0a"), std::string::npos) << out;
}

TEST(RenderUntrusted, CollectJsonParsesAndCarriesTheEscapes) {
  const auto snap = model::make_snapshot(hostile_sample(), std::nullopt);
  const auto text = json::dump(json::snapshot_to_json(snap), 2);
  expect_clean(text, "collect json");
  const auto doc = json::Json::parse(text);
  EXPECT_EQ(doc["kernel"]["hostname"], kEvilEscaped);
  EXPECT_EQ(doc["processes"][0]["cmdline"][0], kEvilEscaped);
  EXPECT_EQ(doc["processes"][0]["cmdline"][2], "\\u{202e}txt.exe");
  EXPECT_EQ(doc["processes"][0]["state"], "S");
}

TEST(RenderUntrusted, TraceTextEscapesEveryString) {
  model::BpfStats b;
  b.duration_s = 1;
  model::ProbeStatus probe;
  probe.name = "reclaim\x1b";
  probe.attached = true;
  probe.mode = "tp_btf\xff";
  b.probes = {probe};
  model::ProcessStall st;
  st.pid = 5;
  st.comm = kEvil;
  // Longer than the old 512-byte printf buffer: the cut must not split a UTF-8 sequence.
  st.cgroup = "/" + std::string(600, 'x') + "\xc3\xa9\x1b";
  b.top["direct_reclaim\n"] = {st};
  model::OomKill k;
  k.comm = "\x1b[2J";
  k.trigger_comm = "\xff";
  b.oom_kills = {k};
  model::StallEvent e;
  e.kind = "direct_reclaim";
  e.comm =
      "\xe2\x80\xae"
      "x";
  e.detail = "d\x07";
  b.slow_events = {e};
  b.slow_threshold_us = 1;
  b.counters["key\x1b"] = 3;
  model::Log2Histogram h;
  h.unit = "us\x1b";
  h.count = 1;
  h.slots = {1};
  b.histograms["hist\xff"] = h;
  const auto out = ui::report::render_trace_text(b);
  expect_clean(out, "trace text");
  EXPECT_NE(out.find(kEvilEscaped), std::string::npos) << out;
  EXPECT_NE(out.find(std::string(600, 'x') + "\xc3\xa9\\x1b"), std::string::npos);
  EXPECT_NE(out.find("\\x1b[2J"), std::string::npos);
  EXPECT_NE(out.find("\\u{202e}x"), std::string::npos);
}

TEST(RenderUntrusted, AuditFormatsEscapeHostInputContextAndUnavailable) {
  AuditReport r;
  r.host.hostname = kEvil;
  r.input = "/tmp/" + kEvil;
  r.live = false;
  r.evaluation.context.in_container = true;
  r.evaluation.context.container = "\x1b[31m";
  r.evaluation.context.cgroup = "/\xff";
  r.evaluation.context.reasons = {"cgroup /\xff\x1b limited"};
  r.unavailable = {{"processes", "/proc/" + kEvil, 3, "comm\x1b", "bad \xff\nline"}};
  rules::Finding f;
  f.rule_id = "R-1";
  f.title = "t";
  f.severity = rules::Severity::warning;
  f.evidence = {{"cg", "cgroup.path", std::nullopt, "/\xff\x1b", ""}};
  rules::Recommendation rec;
  rec.kind = rules::RecommendationKind::cgroup;
  rec.key = "memory.high";
  rec.target = "/" + kEvil;
  rec.current = "max\x1b";
  rec.proposed = "1";
  f.recommendations = {rec};
  f.rationale = "line one\nline two \x1b";
  r.evaluation.findings = {f};

  const auto text = render_audit_text(r, false);
  expect_clean(text, "audit text");
  EXPECT_NE(text.find(kEvilEscaped), std::string::npos) << text;

  const auto md = render_audit_markdown(r);
  expect_clean(md, "audit markdown");
  // Rendered, "\\xff" reads as escape_text's "\xff".
  EXPECT_NE(md.find("\\\\xff\\\\x1b\\[31mevil\\\\x0aname"), std::string::npos) << md;

  const auto js = render_audit_json(r);
  expect_clean(js, "audit json");
  const auto doc = json::Json::parse(js);
  EXPECT_EQ(doc["host"]["hostname"], kEvilEscaped);
  EXPECT_EQ(doc["input"]["source"], "/tmp/" + kEvilEscaped);
  EXPECT_EQ(doc["context"]["container"], "\\x1b[31m");
  EXPECT_EQ(doc["context"]["cgroup"], "/\\xff");
  EXPECT_EQ(doc["unavailable"][0]["path"], "/proc/" + kEvilEscaped);
  EXPECT_EQ(doc["unavailable"][0]["field"], "comm\\x1b");
  EXPECT_EQ(doc["unavailable"][0]["reason"], "bad \\xff\nline");  // prose keeps its line break
  EXPECT_EQ(doc["findings"][0]["evidence"][0]["text"], "/\\xff\\x1b");
  EXPECT_EQ(doc["findings"][0]["recommendations"][0]["target"], "/" + kEvilEscaped);
  EXPECT_EQ(doc["findings"][0]["rationale"], "line one\nline two \\x1b");
}

}  // namespace
}  // namespace vmtune::ui::report
