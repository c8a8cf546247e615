// SPDX-License-Identifier: GPL-2.0-or-later
// The text policy (vmtune(8), "Untrusted text") against arbitrary bytes: a Sample and an audit
// report whose untrusted strings come from the fuzzer are rendered to JSON, text and Markdown.
// Aborts when a render throws, when any output holds a raw ESC or invalid UTF-8, when a JSON
// document does not parse back to itself, or when from_json(to_json(x)) loses a byte.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/escape.hpp"
#include "json/sample_json.hpp"
#include "model/derive.hpp"
#include "ui/report/audit_json.hpp"
#include "ui/report/audit_markdown.hpp"
#include "ui/report/audit_text.hpp"
#include "ui/report/collect_text.hpp"
#include "utf8_check.hpp"

namespace {

using namespace vmtune;
using json::Json;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "render_fuzz: %s\n", what);
  std::abort();
}

bool valid_utf8(const std::string& str) { return test::valid_utf8(str); }

void check_output(const std::string& out, const char* what) {
  if (out.find('\x1b') != std::string::npos) fail(what);
  if (!valid_utf8(out)) fail(what);
}

// Every string (value or key) of a sample document is escape_text output: no control byte.
void check_strings_escaped(const Json& doc, bool allow_newline) {
  std::vector<const Json*> todo{&doc};
  auto clean = [&](const std::string& s) {
    for (const char c : s) {
      const auto u = static_cast<unsigned char>(c);
      if ((u < 0x20 && !(allow_newline && c == '\n')) || u == 0x7f) return false;
    }
    return true;
  };
  while (!todo.empty()) {
    const Json* j = todo.back();
    todo.pop_back();
    if (j->is_string() && !clean(j->get_ref<const std::string&>())) fail("raw control in JSON");
    if (j->is_object()) {
      for (auto it = j->begin(); it != j->end(); ++it) {
        if (!clean(it.key())) fail("raw control in a JSON key");
        todo.push_back(&it.value());
      }
    } else if (j->is_array()) {
      for (const auto& v : *j) todo.push_back(&v);
    }
  }
}

Json parse_back(const std::string& text, const char* what) {
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) fail(what);
  return j;
}

std::string back(const Json& j) { return core::unescape_text(j.get<std::string>()); }

struct Builder {
  FuzzedDataProvider& in;
  std::string str() { return in.ConsumeRandomLengthString(48); }
  std::size_t count(std::size_t max) { return in.ConsumeIntegralInRange<std::size_t>(0, max); }
};

model::Sample build_sample(Builder& b) {
  model::Sample s;
  s.host.hostname = b.str();
  s.host.kernel_release = b.str();
  s.host.arch = b.str();
  s.monotonic_s = 10;

  std::vector<model::Process> procs;
  for (std::size_t i = 0, n = b.count(3); i < n; ++i) {
    model::Process p;
    p.pid = static_cast<int>(i + 1);
    p.comm = b.str();
    for (std::size_t k = 0, m = b.count(3); k < m; ++k) p.cmdline.push_back(b.str());
    p.state = static_cast<char>(b.in.ConsumeIntegral<unsigned char>());
    p.cgroup = b.str();
    p.vm_rss = b.in.ConsumeIntegral<std::uint32_t>();
    procs.push_back(std::move(p));
  }
  s.processes.value = std::move(procs);

  model::Cgroups cgs;
  cgs.layout = b.str();
  cgs.self_path = b.str();
  for (std::size_t i = 0, n = b.count(2); i < n; ++i) {
    model::Cgroup g;
    g.path = b.str();
    g.stat[b.str()] = 1;
    g.events[b.str()] = 2;
    cgs.groups.push_back(std::move(g));
  }
  s.cgroups.value = std::move(cgs);

  model::Sysctl sc;
  sc.values[b.str()] = b.str();
  s.sysctl.value = std::move(sc);
  model::MemInfo mi;
  mi.fields[b.str()] = 1;
  s.meminfo.value = std::move(mi);
  s.swaps.value = std::vector<model::SwapDevice>{{b.str(), b.str(), 1, 0, 0}};

  model::PostgresFacts pg;
  for (std::size_t i = 0, n = b.count(2); i < n; ++i) {
    model::PgInstance inst;
    inst.postmaster_pid = static_cast<int>(i + 100);
    inst.data_dir = b.str();
    inst.socket_dir = b.str();
    inst.listen_address = b.str();
    inst.status = b.str();
    inst.user = b.str();
    inst.connected = b.in.ConsumeBool();
    inst.connection = b.str();
    inst.connection_error = b.str();
    inst.settings[b.str()] = b.str();
    inst.settings["shared_buffers"] = b.str();
    inst.stats[b.str()] = 1.5;
    model::PgSegment seg;
    seg.mapping = b.str();
    seg.backing = b.str();
    inst.segment = seg;
    pg.instances.push_back(std::move(inst));
  }
  s.postgres.value = std::move(pg);

  model::BpfStats bpf;
  model::ProbeStatus probe;
  probe.name = b.str();
  probe.attached = b.in.ConsumeBool();
  probe.mode = b.str();
  probe.reason = b.str();
  probe.notes = {b.str()};
  bpf.probes = {probe};
  model::ProcessStall st;
  st.comm = b.str();
  st.cgroup = b.str();
  bpf.top[b.str()] = {st};
  model::OomKill k;
  k.comm = b.str();
  k.trigger_comm = b.str();
  k.cgroup = b.str();
  bpf.oom_kills = {k};
  model::StallEvent e;
  e.kind = b.str();
  e.comm = b.str();
  e.detail = b.str();
  bpf.slow_events = {e};
  bpf.counters[b.str()] = 3;
  s.bpf.value = std::move(bpf);

  s.unavailable.push_back({b.str(), b.str(), 1, b.str(), b.str()});
  return s;
}

void check_sample_json(const model::Snapshot& snap) {
  const auto& s = snap.current;
  const Json doc = json::snapshot_to_json(snap);
  const std::string text = json::dump(doc, -1);
  check_output(text, "collect JSON");
  const Json parsed = parse_back(text, "collect JSON does not parse");
  if (parsed != doc) fail("collect JSON changed in a dump/parse round trip");
  check_strings_escaped(parsed, false);

  const auto& procs = *s.processes.value;
  for (std::size_t i = 0; i < procs.size(); ++i) {
    const auto& pj = parsed["processes"][i];
    if (back(pj["comm"]) != procs[i].comm) fail("comm round trip");
    if (back(pj["cgroup"]) != procs[i].cgroup) fail("process cgroup round trip");
    if (back(pj["state"]) != std::string(1, procs[i].state)) fail("state round trip");
    if (pj["cmdline"].size() != procs[i].cmdline.size()) fail("argument count");
    for (std::size_t k = 0; k < procs[i].cmdline.size(); ++k) {
      if (back(pj["cmdline"][k]) != procs[i].cmdline[k]) fail("argument round trip");
    }
    const auto p2 = json::process_from_json(pj);
    if (p2.comm != procs[i].comm || p2.cmdline != procs[i].cmdline || p2.state != procs[i].state ||
        p2.cgroup != procs[i].cgroup) {
      fail("process_from_json round trip");
    }
  }
  const auto& groups = s.cgroups.value->groups;
  for (std::size_t i = 0; i < groups.size(); ++i) {
    if (back(parsed["cgroups"]["groups"][i]["path"]) != groups[i].path) fail("cgroup path");
  }
  const auto host = json::host_from_json(parsed["kernel"]);
  if (host.hostname != s.host.hostname || host.kernel_release != s.host.kernel_release ||
      host.arch != s.host.arch) {
    fail("host round trip");
  }
  const auto pg = json::postgres_from_json(parsed["postgres"]);
  const auto& want = s.postgres.value->instances;
  if (pg.instances.size() != want.size()) fail("postgres instance count");
  for (std::size_t i = 0; i < want.size(); ++i) {
    const auto& a = pg.instances[i];
    const auto& w = want[i];
    if (a.data_dir != w.data_dir || a.socket_dir != w.socket_dir ||
        a.listen_address != w.listen_address || a.status != w.status || a.user != w.user ||
        a.connection != w.connection || a.connection_error != w.connection_error ||
        a.settings != w.settings || a.stats != w.stats || !a.segment ||
        a.segment->mapping != w.segment->mapping || a.segment->backing != w.segment->backing) {
      fail("postgres round trip");
    }
  }
  const auto bpf = json::bpf_from_json(parsed["bpf"]);
  const auto& wb = *s.bpf.value;
  if (bpf.top.size() != wb.top.size()) fail("bpf top");
  for (const auto& [kind, list] : wb.top) {
    const auto it = bpf.top.find(kind);
    if (it == bpf.top.end() || it->second.size() != list.size()) fail("bpf top kind round trip");
    if (it->second[0].comm != list[0].comm || it->second[0].cgroup != list[0].cgroup) {
      fail("bpf stall round trip");
    }
  }
  if (bpf.oom_kills[0].comm != wb.oom_kills[0].comm ||
      bpf.oom_kills[0].trigger_comm != wb.oom_kills[0].trigger_comm ||
      bpf.oom_kills[0].cgroup != wb.oom_kills[0].cgroup) {
    fail("oom round trip");
  }
  if (bpf.slow_events[0].comm != wb.slow_events[0].comm ||
      bpf.slow_events[0].kind != wb.slow_events[0].kind ||
      bpf.slow_events[0].detail != wb.slow_events[0].detail) {
    fail("stall event round trip");
  }
  if (bpf.probes[0].name != wb.probes[0].name || bpf.probes[0].notes != wb.probes[0].notes ||
      bpf.counters != wb.counters) {
    fail("probe round trip");
  }
}

ui::report::AuditReport build_report(Builder& b, const model::Sample& s) {
  ui::report::AuditReport r;
  r.host = s.host;
  r.input = b.str();
  r.live = b.in.ConsumeBool();
  r.window_s = 1;
  r.evaluation.context.in_container = b.in.ConsumeBool();
  r.evaluation.context.container = b.str();
  r.evaluation.context.cgroup = b.str();
  r.evaluation.context.limit_from = b.str();
  r.evaluation.context.reasons = {b.str()};
  r.unavailable = s.unavailable;
  rules::Finding f;
  f.rule_id = b.str();
  f.title = b.str();
  f.severity = rules::Severity::warning;
  f.evidence = {{b.str(), b.str(), std::nullopt, b.str(), b.str()},
                {b.str(), b.str(), b.in.ConsumeFloatingPoint<double>(), b.str(), b.str()}};
  f.rationale = b.str();
  f.references = {b.str()};
  f.rule_file = b.str();
  rules::Recommendation rec;
  rec.kind =
      b.in.ConsumeBool() ? rules::RecommendationKind::cgroup : rules::RecommendationKind::sysctl;
  rec.key = b.str();
  rec.target = b.str();
  rec.current = b.str();
  rec.proposed = b.str();
  rec.note = b.str();
  rec.provenance = rules::Provenance{b.str(), 3, {{b.str(), 2, b.str()}}};
  rec.effects = {{b.str(), 1, 2, b.str()}};
  f.recommendations = {rec};
  r.evaluation.findings = {f};
  r.evaluation.not_evaluated = {{b.str(), b.str(), b.str()}};
  r.evaluation.notes = {b.str()};
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  Builder b{in};
  const model::Sample cur = build_sample(b);
  model::Sample prev = cur;
  prev.monotonic_s = 9;  // rates: cgroup event keys come from the cgroups' paths
  const auto snap = model::make_snapshot(cur, prev);

  check_sample_json(snap);
  check_output(ui::report::render_collect_text(snap), "collect text");

  const auto report = build_report(b, cur);
  check_output(ui::report::render_audit_text(report, false), "audit text");
  check_output(ui::report::render_audit_markdown(report), "audit markdown");
  const std::string aj = ui::report::render_audit_json(report);
  check_output(aj, "audit JSON");
  const Json audit = parse_back(aj, "audit JSON does not parse");
  check_strings_escaped(audit, /*allow_newline=*/true);  // prose keeps its line breaks
  if (back(audit["host"]["hostname"]) != report.host.hostname) fail("audit host round trip");
  if (back(audit["input"]["source"]) != report.input) fail("audit input round trip");
  return 0;
}
