// SPDX-License-Identifier: GPL-2.0-or-later
// The text policy on the JSON side: a Sample whose strings hold invalid UTF-8, escape sequences
// and newlines serialises without throwing, to valid UTF-8 without control bytes, with the
// documented escapes, and reads back to the same bytes.
#include "json/sample_json.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/escape.hpp"

namespace vmtune::json {
namespace {

const std::string kEvil = "\xff\x1b[31mevil\nname";  // invalid UTF-8, ESC, newline
const std::string kEvilEscaped = "\\xff\\x1b[31mevil\\x0aname";

// Strict: nlohmann's default error handler throws type_error.316 on invalid UTF-8.
bool strict_dump_ok(const Json& j) {
  try {
    (void)j.dump();
    return true;
  } catch (const Json::type_error&) {
    return false;
  }
}

model::Sample hostile_sample() {
  model::Sample s;
  s.host.hostname = kEvil;
  s.host.kernel_release = "6.1\x7f";
  model::Process p;
  p.pid = 4242;
  p.ppid = 1;
  p.comm = kEvil.substr(0, 15);
  p.cmdline = {kEvil, "--flag", "", "two words", std::string("nul\0inside", 10)};
  p.state = 'S';
  p.cgroup = "/evil.slice/\xfe\xfd\x1b]0;title\x07";
  p.vm_rss = 1 << 20;
  model::Process odd;
  odd.pid = 4243;
  odd.state = '\xff';  // a hand-made stat in a --root tree
  s.processes.state = model::SourceState::ok;
  s.processes.value = std::vector<model::Process>{p, odd};
  model::Cgroup cg;
  cg.path = "/\xc3\x28\x1b[2J";  // invalid 2-byte sequence, then an ESC sequence
  cg.stat["anon"] = 4096;
  cg.stat["key\xff\n"] = 1;  // a key read from a file
  model::Cgroups cgs;
  cgs.layout = "v2";
  cgs.groups = {cg};
  s.cgroups.value = cgs;
  model::Sysctl sc;
  sc.values["vm.\x1b"] =
      "\xe2\x80\xae"
      "01";
  s.sysctl.value = sc;
  s.unavailable.push_back({"processes", "/proc/\xff/stat", 1, "comm", "bad \x1b"});
  return s;
}

TEST(SampleJson, HostileSampleDumpsWithoutThrowingAndEscaped) {
  const auto s = hostile_sample();
  const Json j = sample_sections_to_json(s);
  ASSERT_TRUE(strict_dump_ok(j));  // the type_error.316 abort, fixed at the mechanism
  const std::string text = dump(j, 2);
  EXPECT_EQ(text.find('\x1b'), std::string::npos);
  EXPECT_TRUE(Json::accept(text));
  EXPECT_EQ(j["schema"], 2);
  EXPECT_EQ(j["kernel"]["hostname"], kEvilEscaped);
  EXPECT_EQ(j["kernel"]["kernel_release"], "6.1\\x7f");
  const auto& p = j["processes"][0];
  EXPECT_EQ(p["comm"], kEvilEscaped);  // 15 bytes: the whole name fits in comm
  ASSERT_TRUE(p["cmdline"].is_array());
  EXPECT_EQ(p["cmdline"], (Json{kEvilEscaped, "--flag", "", "two words", "nul\\x00inside"}));
  EXPECT_EQ(p["state"], "S");
  EXPECT_EQ(p["cgroup"], "/evil.slice/\\xfe\\xfd\\x1b]0;title\\x07");
  EXPECT_EQ(j["processes"][1]["state"], "\\xff");
  EXPECT_EQ(j["processes"][1]["cmdline"], Json::array());
  const auto& g = j["cgroups"]["groups"][0];
  EXPECT_EQ(g["path"], "/\\xc3(\\x1b[2J");
  EXPECT_EQ(g["stat"]["key\\xff\\x0a"], 1);
  EXPECT_EQ(j["sysctl"]["vm.\\x1b"], "\\u{202e}01");
  EXPECT_EQ(j["unavailable"][0]["path"], "/proc/\\xff/stat");
}

TEST(SampleJson, SnapshotDocumentEscapesRatesKeys) {
  auto prev = hostile_sample();
  auto cur = hostile_sample();
  prev.monotonic_s = 1;
  cur.monotonic_s = 2;
  cur.cgroups.value->groups[0].events["oom"] = 0;
  prev.cgroups.value->groups[0].events["oom"] = 0;
  const auto snap = model::make_snapshot(cur, prev);
  const Json j = snapshot_to_json(snap);
  ASSERT_TRUE(strict_dump_ok(j));
  ASSERT_TRUE(j["rates"].is_object());
  for (const auto& [path, _] : j["rates"]["cgroups"].items()) {
    EXPECT_EQ(path.find('\x1b'), std::string::npos);
    EXPECT_EQ(core::unescape_text(path), cur.cgroups.value->groups[0].path);
  }
}

TEST(SampleJson, ProcessRoundTripsToTheSameBytes) {
  const auto s = hostile_sample();
  for (const auto& p : *s.processes.value) {
    const Json j = process_to_json(p);
    ASSERT_TRUE(strict_dump_ok(j));
    const auto back = process_from_json(Json::parse(dump(j)));
    EXPECT_EQ(back.pid, p.pid);
    EXPECT_EQ(back.comm, p.comm);
    EXPECT_EQ(back.cmdline, p.cmdline);
    EXPECT_EQ(back.state, p.state);
    EXPECT_EQ(back.cgroup, p.cgroup);
    EXPECT_EQ(back.vm_rss, p.vm_rss);
    EXPECT_EQ(back.pss, p.pss);
  }
}

TEST(SampleJson, ProcessFromSchemaOneStillReads) {
  const auto p = process_from_json(
      Json::parse(R"({"pid": 7, "comm": "bash", "cmdline": "bash -l", "state": 83})"));
  EXPECT_EQ(p.pid, 7);
  EXPECT_EQ(p.cmdline, std::vector<std::string>{"bash -l"});
  EXPECT_EQ(p.state, 'S');
  EXPECT_TRUE(process_from_json(Json::parse(R"({"cmdline": ""})")).cmdline.empty());
}

TEST(SampleJson, HostRoundTrips) {
  model::HostInfo h;
  h.hostname = kEvil;
  h.kernel_release = "back\\slash \\x41";
  h.arch = "\xe2\x80\xae";
  const Json j = host_to_json(h);
  ASSERT_TRUE(strict_dump_ok(j));
  const auto back = host_from_json(Json::parse(dump(j)));
  EXPECT_EQ(back.hostname, h.hostname);
  EXPECT_EQ(back.kernel_release, h.kernel_release);
  EXPECT_EQ(back.arch, h.arch);
}

TEST(SampleJson, PostgresAndBpfExtrasRoundTrip) {
  model::PostgresFacts pg;
  model::PgInstance i;
  i.postmaster_pid = 10;
  i.data_dir = "/srv/\xff\x1b[0m";
  i.connection_error = "FATAL:  role \"\xc3\" does not exist\n";
  i.settings["shared_buffers"] = "128MB";
  i.settings["custom.\x1b"] = "\xfe";
  model::PgSegment seg;
  seg.mapping = "/SYSV\x01 (deleted)";
  i.segment = seg;
  pg.instances = {i};
  const Json pj = postgres_to_json(pg);
  ASSERT_TRUE(strict_dump_ok(pj));
  const auto pg2 = postgres_from_json(Json::parse(dump(pj, 2)));
  ASSERT_EQ(pg2.instances.size(), 1u);
  EXPECT_EQ(pg2.instances[0].data_dir, i.data_dir);
  EXPECT_EQ(pg2.instances[0].connection_error, i.connection_error);
  EXPECT_EQ(pg2.instances[0].settings, i.settings);
  EXPECT_EQ(pg2.instances[0].segment->mapping, seg.mapping);

  model::BpfStats b;
  model::ProcessStall st;
  st.comm = kEvil.substr(0, 15);
  st.cgroup = "/\xff";
  b.top["direct_reclaim"] = {st};
  model::OomKill k;
  k.comm = "\x1b[2Jkilled";
  k.trigger_comm = "\xc0\xaf";
  b.oom_kills = {k};
  model::StallEvent e;
  e.comm =
      "\xe2\x80\xae"
      "evil";
  e.detail = "dev\n";
  b.slow_events = {e};
  const Json bj = bpf_to_json(b);
  ASSERT_TRUE(strict_dump_ok(bj));
  EXPECT_EQ(bj["oom_kills"][0]["comm"], "\\x1b[2Jkilled");
  const auto b2 = bpf_from_json(Json::parse(dump(bj)));
  EXPECT_EQ(b2.top.at("direct_reclaim")[0].comm, st.comm);
  EXPECT_EQ(b2.top.at("direct_reclaim")[0].cgroup, st.cgroup);
  EXPECT_EQ(b2.oom_kills[0].comm, k.comm);
  EXPECT_EQ(b2.oom_kills[0].trigger_comm, k.trigger_comm);
  EXPECT_EQ(b2.slow_events[0].comm, e.comm);
  EXPECT_EQ(b2.slow_events[0].detail, e.detail);
}

TEST(SampleJson, DumpReplacesWhatSlippedPastThePolicy) {
  // A string that never went through escape_text: json::dump must not throw.
  const Json raw = {{"k", std::string("\xff\xfe")}};
  EXPECT_FALSE(strict_dump_ok(raw));
  std::string out;
  ASSERT_NO_THROW(out = dump(raw));
  EXPECT_EQ(out, "{\"k\":\"\xef\xbf\xbd\xef\xbf\xbd\"}");  // two U+FFFD
  EXPECT_EQ(dump(Json{{"a", 1}}, 2), "{\n  \"a\": 1\n}");
}

TEST(SampleJson, EscapeTreeCoversKeysAndNestedValues) {
  const Json raw = {{"\x1b", {{"n", 1}, {"list", {"\xff", 2, nullptr, true}}}}};
  const Json esc = escape_tree(raw);
  ASSERT_TRUE(strict_dump_ok(esc));
  EXPECT_EQ(esc["\\x1b"]["list"][0], "\\xff");
  EXPECT_EQ(esc["\\x1b"]["list"][1], 2);
  EXPECT_EQ(unescape_tree(esc), raw);
}

TEST(SampleJson, DeeplyNestedExtrasDoNotExhaustTheStack) {
  // meta.json in a snapshot is untrusted: nesting nlohmann parses must not crash the reader.
  const std::size_t depth = 200000;
  std::string text(depth, '[');
  text.append(depth, ']');
  const Json deep = Json::parse(text);
  Json back;
  ASSERT_NO_THROW(back = unescape_tree(deep));
  EXPECT_TRUE(back.is_array());
  // Built by parsing, not by Json{...}: nlohmann's copy constructor is recursive.
  const Json doc = Json::parse("{\"instances\": [" + text + "]}");
  EXPECT_THROW((void)postgres_from_json(doc), Json::exception);
}

}  // namespace
}  // namespace vmtune::json
