// SPDX-License-Identifier: GPL-2.0-or-later
// Decoding helpers of src/collect/bpf/maps.hpp, the JSON schema of BpfStats and the
// trace text report.
#include <bpf/btf.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "collect/bpf/maps.hpp"
#include "core/temp_dir.hpp"
#include "json/sample_json.hpp"
#include "test_support.hpp"
#include "ui/report/trace_text.hpp"

namespace vmtune::collect::bpf {
namespace {

TEST(Decode, HistogramTrimsTrailingEmptySlots) {
  const unsigned long long slots[6] = {0, 3, 0, 1, 0, 0};
  const auto h = make_histogram(slots, 6, 4, 40, 12, "us");
  EXPECT_EQ(h.slots, (std::vector<std::uint64_t>{0, 3, 0, 1}));
  EXPECT_EQ(h.count, 4u);
  EXPECT_EQ(h.unit, "us");
  const unsigned long long none[3] = {0, 0, 0};
  EXPECT_TRUE(make_histogram(none, 3, 0, 0, 0, "us").slots.empty());
}

TEST(Decode, FixedStringStopsAtNulOrSize) {
  const char a[4] = {'a', 'b', '\0', 'z'};
  EXPECT_EQ(fixed_string(a, 4), "ab");
  const char full[3] = {'x', 'y', 'z'};
  EXPECT_EQ(fixed_string(full, 3), "xyz");
}

TEST(Decode, EnumNamesComeFromTheKernelBtf) {
  EXPECT_EQ(btf_enum_name(nullptr, "compact_result", 5, "COMPACT_"), "compact_result_5");
  if (!std::filesystem::exists("/sys/kernel/btf/vmlinux")) GTEST_SKIP() << "no kernel BTF";
  struct btf* b = btf__parse("/sys/kernel/btf/vmlinux", nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(btf_enum_name(b, "compact_result", 5, "COMPACT_"), "complete");
  EXPECT_EQ(btf_enum_name(b, "scan_result", 1, "SCAN_"), "succeed");
  EXPECT_EQ(btf_enum_name(b, "compact_result", 99, "COMPACT_"), "compact_result_99");
  EXPECT_EQ(btf_enum_name(b, "no_such_enum_x", 1, ""), "no_such_enum_x_1");
  btf__free(b);
}

TEST(Decode, TopKeepsTheLongestStalls) {
  std::vector<model::ProcessStall> v(5);
  for (int i = 0; i < 5; ++i) {
    v[i].pid = i;
    v[i].total_us = static_cast<std::uint64_t>(i * 10);
  }
  keep_top(v, 2);
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].pid, 4);
  EXPECT_EQ(v[1].pid, 3);
}

// Shapes of the bpf/<probe>.h structs the templates in maps.hpp are generic over.
struct StallStats {
  __u64 count, total_us, max_us, cgroup_id;
  __u32 slots[6];
  char comm[16];
};
struct CountStats {
  __u64 count, cgroup_id;
  char comm[16];
};
struct StallRecord {
  __u64 latency_ns, cgroup_id;
  __u32 pid, tid;
  char comm[16];
};

TEST(Decode, StallTakesTheFieldsTheStructHas) {
  const auto fs = core::RootFs::under("/nonexistent-vmtune-root");
  CgroupNames names(fs);
  const StallStats st{3, 70, 40, 0, {0, 2, 0, 1, 0, 0}, {'p', 'g'}};
  const auto p = decode_stall(42, st, names);
  EXPECT_EQ(p.pid, 42);
  EXPECT_EQ(p.comm, "pg");
  EXPECT_EQ(p.count, 3u);
  EXPECT_EQ(p.total_us, 70u);
  EXPECT_EQ(p.max_us, 40u);
  EXPECT_EQ(p.latency_slots, (std::vector<std::uint64_t>{0, 2, 0, 1}));
  const CountStats cs{5, 0, {'k', 'h', 'u', 'g', 'e'}};
  const auto q = decode_stall(7, cs, names);
  EXPECT_EQ(q.count, 5u);
  EXPECT_EQ(q.comm, "khuge");
  EXPECT_EQ(q.total_us, 0u);
  EXPECT_TRUE(q.latency_slots.empty());
}

TEST(Decode, EventQueueCopiesRecordsKeepsACapAndCountsTheRest) {
  EventQueue<StallRecord, model::StallEvent> queue([](const StallRecord& r) {
    auto s = decode_task(r, "direct_reclaim");
    s.latency_us = r.latency_ns / 1000;
    return s;
  });
  int (*fn)(void*, void*, std::size_t) = nullptr;
  void* ctx = nullptr;
  ASSERT_TRUE(queue.add_to(
      [&](int fd, int (*f)(void*, void*, std::size_t), void* c) {
        fn = f;
        ctx = c;
        return fd == 3;
      },
      3));
  queue.set_cap(2);
  StallRecord r{5000, 9, 11, 12, {'d', 'd'}};
  for (int i = 0; i < 3; ++i) EXPECT_EQ(fn(ctx, &r, sizeof r), 0);
  EXPECT_EQ(fn(ctx, &r, sizeof r - 1), 0);  // short record: ignored, not dropped
  const auto got = queue.take();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].kind, "direct_reclaim");
  EXPECT_EQ(got[0].pid, 11);
  EXPECT_EQ(got[0].tid, 12);
  EXPECT_EQ(got[0].comm, "dd");
  EXPECT_EQ(got[0].cgroup_id, 9u);
  EXPECT_EQ(got[0].latency_us, 5u);
  EXPECT_GT(got[0].time_unix_ms, 0);
  EXPECT_EQ(queue.dropped(), 1u);
  EXPECT_TRUE(queue.take().empty());
}

TEST(Decode, EnumCountersSkipZerosAndNameUnknownValues) {
  model::BpfStats out;
  const std::uint64_t counts[] = {0, 4, 0, 2};
  store_enum_counters(counts, "compaction_result_", {"compact_result", "COMPACT_"}, nullptr, out);
  EXPECT_EQ(out.counters,
            (std::map<std::string, std::uint64_t>{{"compaction_result_compact_result_1", 4},
                                                  {"compaction_result_compact_result_3", 2}}));
}

TEST(CgroupNamesTest, ResolvesIdsByInodeInV2AndV1Trees) {
  auto tmp = core::TempDir::create("vmtune-bpf-cg-");
  ASSERT_TRUE(tmp.ok());
  const auto& d = tmp->path();
  std::filesystem::create_directories(d / "sys/fs/cgroup/unified/a/b");
  std::filesystem::create_directories(d / "sys/fs/cgroup/memory/pg");
  std::ofstream(d / "sys/fs/cgroup/unified/cgroup.controllers") << "\n";
  std::ofstream(d / "sys/fs/cgroup/memory/memory.limit_in_bytes") << "9223372036854771712\n";
  struct stat st {};
  ASSERT_EQ(::stat((d / "sys/fs/cgroup/unified/a/b").c_str(), &st), 0);
  const std::uint64_t ab = st.st_ino;
  ASSERT_EQ(::stat((d / "sys/fs/cgroup/memory/pg").c_str(), &st), 0);
  const std::uint64_t pg = st.st_ino;
  const auto fs = core::RootFs::under(d);
  CgroupNames names(fs);
  EXPECT_EQ(names.v2(ab), "/a/b");
  EXPECT_EQ(names.memcg(pg), "memory:/pg");
  EXPECT_EQ(names.v2(0), "");
  EXPECT_EQ(names.v2(pg == 1 ? 2 : 1), "");  // unknown id: empty, no guess
  // A tree without cgroups: every id is unknown.
  auto empty = core::TempDir::create("vmtune-bpf-cg-");
  ASSERT_TRUE(empty.ok());
  const auto efs = core::RootFs::under(empty->path());
  CgroupNames none(efs);
  EXPECT_EQ(none.v2(ab), "");
  EXPECT_EQ(none.memcg(pg), "");
}

model::BpfStats sample_stats() {
  model::BpfStats s;
  s.duration_s = 2.5;
  s.slow_threshold_us = 10000;
  model::ProbeStatus ok{"reclaim", true, "tp_btf", "", {"vmscan:mm_vmscan_direct_reclaim_begin"},
                        {}};
  model::ProbeStatus bad{"faults", false, "", "needs root, or CAP_BPF+CAP_PERFMON", {}, {}};
  s.probes = {ok, bad};
  s.histograms["direct_reclaim_us"] = model::Log2Histogram{"us", {0, 0, 1, 4}, 5, 60, 14};
  model::ProcessStall p;
  p.pid = 42;
  p.comm = "evil\x1b[31mred";
  p.cgroup = "/sys\x07tem";
  p.count = 5;
  p.total_us = 60;
  p.max_us = 14;
  p.pages = 300;
  s.top["direct_reclaim"] = {p};
  model::OomKill k;
  k.pid = 7;
  k.comm = "postgres";
  k.anon_rss = 1 << 20;
  k.cgroup = "memory:/pg";
  s.oom_kills = {k};
  model::StallEvent e;
  e.kind = "compaction";
  e.pid = 9;
  e.comm = "x";
  e.latency_us = 20000;
  e.status = 5;
  e.detail = "complete";
  s.slow_events = {e};
  s.counters["kswapd_wakes"] = 3;
  return s;
}

TEST(TraceJson, RoundTripsEveryField) {
  const auto s = sample_stats();
  const auto j = json::bpf_to_json(s);
  EXPECT_EQ(j.at("probes")[1].at("reason"), "needs root, or CAP_BPF+CAP_PERFMON");
  EXPECT_TRUE(j.at("oom_kills")[0].at("total_vm").is_null());  // not measured: null, never 0
  EXPECT_TRUE(j.at("top").at("direct_reclaim")[0].at("order").is_null());
  const auto back = json::bpf_from_json(j);
  EXPECT_EQ(json::bpf_to_json(back), j);
  EXPECT_EQ(back.top.at("direct_reclaim")[0].comm, s.top.at("direct_reclaim")[0].comm);
  EXPECT_EQ(back.slow_events[0].status, 5);
  EXPECT_FALSE(back.oom_kills[0].total_vm.has_value());
  EXPECT_THROW(json::bpf_from_json(json::Json::parse(R"({"probes": 3})")),
               nlohmann::json::exception);
}

TEST(TraceText, ShowsReasonsHistogramsAndEscapesUntrustedText) {
  const auto text = ui::report::render_trace_text(sample_stats());
  EXPECT_NE(text.find("reclaim: attached (tp_btf, 1 tracepoints)"), std::string::npos) << text;
  EXPECT_NE(text.find("faults: unavailable: needs root, or CAP_BPF+CAP_PERFMON"),
            std::string::npos);
  EXPECT_NE(text.find("direct_reclaim_us: 5 events, avg 12 us, max 14 us"), std::string::npos)
      << text;
  EXPECT_NE(text.find("         8 -> 15       : 4"), std::string::npos) << text;
  EXPECT_EQ(text.find('\x1b'), std::string::npos) << "raw ESC reached the report";
  EXPECT_EQ(text.find('\x07'), std::string::npos);
  EXPECT_NE(text.find("evil\\x1b[31mred"), std::string::npos) << text;
  EXPECT_NE(text.find("OOM kill: pid 7 postgres"), std::string::npos);
  EXPECT_NE(text.find("cgroup memory:/pg"), std::string::npos);
  EXPECT_NE(text.find("20.0 ms complete"), std::string::npos) << text;
  EXPECT_NE(text.find("kswapd_wakes"), std::string::npos);
}

}  // namespace
}  // namespace vmtune::collect::bpf
