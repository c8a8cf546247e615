// SPDX-License-Identifier: GPL-2.0-or-later
// The one sampler: the live machine, a plain tree and a snapshot give the same Samples; a
// snapshot written from a window replays into exactly that window, PostgreSQL and eBPF facts
// included; the live window costs what its options ask.
#include "sampler/sampler.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "core/temp_dir.hpp"
#include "json/sample_json.hpp"
#include "test_support.hpp"

namespace vmtune::sampler {
namespace {

using json::Json;

// What legitimately differs between a reading and its replay: nothing but the wall clock the
// kernel section prints with more precision than meta.json keeps.
Json comparable(const model::Sample& s) {
  Json j = json::sample_sections_to_json(s);
  if (j.contains("kernel")) j["kernel"].erase("time_unix_ms");
  return j;
}

void expect_same(const model::Sample& a, const model::Sample& b, const std::string& what) {
  const Json ja = comparable(a);
  const Json jb = comparable(b);
  for (const auto& [key, value] : ja.items()) {
    EXPECT_EQ(value, jb.value(key, Json())) << what << ": section " << key << " differs";
  }
  EXPECT_EQ(ja.size(), jb.size()) << what;
  EXPECT_EQ(a.monotonic_s, b.monotonic_s) << what;
}

class SamplerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto t = core::TempDir::create("vmtune-sampler-test-");
    ASSERT_TRUE(t.ok());
    tmp_.emplace(std::move(*t));
  }
  std::filesystem::path path(const std::string& name) const { return tmp_->path() / name; }

  /// Writes the window as `vmtune snapshot` does and opens the file again.
  Sampler write_and_open(const Window& w, const std::string& name) {
    const auto file = path(name);
    EXPECT_TRUE(
        snapshot::write_snapshot(file, w.samples.back().host, w.captured, w.extras(), {}).ok());
    Origin o;
    o.root = file.string();
    auto s = Sampler::open(o);
    EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().to_string());
    return std::move(*s);
  }
  std::optional<core::TempDir> tmp_;
};

// A live window (two readings, PostgreSQL discovery on the last) written as a snapshot replays
// into the same two Samples, section by section, including the PostgreSQL facts.
TEST_F(SamplerTest, LiveWindowReplaysFromItsSnapshotIntoTheSameSamples) {
  auto live = Sampler::open(Origin{});
  ASSERT_TRUE(live.ok());
  ASSERT_TRUE(live->live());
  EXPECT_EQ(live->readings(), 0u);
  Options opt;
  opt.record = true;
  const auto w = live->window(0.2, opt);
  ASSERT_EQ(w.samples.size(), 2u);
  ASSERT_EQ(w.captured.size(), 2u);
  EXPECT_FALSE(w.interrupted);
  EXPECT_GT(w.samples[1].monotonic_s, w.samples[0].monotonic_s + 0.15);
  // PostgreSQL is looked at once per window: on the last reading only.
  EXPECT_EQ(w.samples[0].postgres.state, model::SourceState::not_collected);
  EXPECT_NE(w.samples[1].postgres.state, model::SourceState::not_collected);

  const auto replay = write_and_open(w, "live.vmtune.tar.gz");
  ASSERT_TRUE(replay.replaying_snapshot());
  EXPECT_EQ(replay.readings(), 2u);
  const auto r = replay.window(5, Options{});  // a snapshot ignores the window: what it holds
  ASSERT_EQ(r.samples.size(), 2u);
  expect_same(w.samples[1], r.samples[1], "last reading");
  // The earlier reading: the files are the same; the facts a snapshot keeps once (PostgreSQL,
  // eBPF) are the window's, so only those sections may differ.
  Json a = comparable(w.samples[0]);
  Json b = comparable(r.samples[0]);
  for (auto* j : {&a, &b}) {
    j->erase("postgres");
    j->erase("bpf");
  }
  EXPECT_EQ(a, b);
  // And the snapshot of the window derives the same rates.
  const auto sw = w.snapshot();
  const auto sr = r.snapshot();
  ASSERT_TRUE(sw.rates && sr.rates);
  EXPECT_EQ(json::rates_to_json(*sw.rates), json::rates_to_json(*sr.rates));
}

// A plain tree (a fixture captured from a Debian 12 VM) gives one reading; recorded and written
// as a snapshot, it replays into the same Sample.
TEST_F(SamplerTest, PlainTreeAndItsSnapshotGiveTheSameSample) {
  Origin o;
  o.root = (test::test_data() / "live-debian12").string();
  auto tree = Sampler::open(o);
  ASSERT_TRUE(tree.ok()) << tree.error().to_string();
  EXPECT_FALSE(tree->live());
  EXPECT_FALSE(tree->replaying_snapshot());
  EXPECT_EQ(tree->readings(), 1u);
  Options opt;
  opt.record = true;
  const auto w = tree->window(3, opt);  // no waiting: a tree reads the same every time
  ASSERT_EQ(w.samples.size(), 1u);
  ASSERT_EQ(w.captured.size(), 1u);
  ASSERT_TRUE(w.samples[0].meminfo.ok());
  ASSERT_TRUE(w.samples[0].vmstat.ok());
  EXPECT_FALSE(w.snapshot().rates.has_value());

  const auto replay = write_and_open(w, "tree.vmtune.tar.gz");
  const auto one = replay.sample(Options{});
  // The tree has no clock; the snapshot keeps the one its reading was given.
  expect_same(w.samples[0], one, "tree vs its snapshot");
  // sample(index) out of range is the last reading.
  expect_same(one, replay.sample(Options{}, 7), "index past the end");
}

// What a snapshot carried beyond files replays into the source; a snapshot without them says so.
TEST_F(SamplerTest, SnapshotExtrasReplayOrSayTheyAreNotThere) {
  Origin o;
  o.root = (test::test_data() / "live-debian12").string();
  auto tree = Sampler::open(o);
  ASSERT_TRUE(tree.ok());
  Options opt;
  opt.record = true;
  opt.postgres = false;
  auto w = tree->window(0, opt);
  ASSERT_EQ(w.samples.size(), 1u);
  EXPECT_EQ(w.samples[0].postgres.state, model::SourceState::not_collected);
  EXPECT_EQ(w.samples[0].postgres.reason(), "--no-pg");
  EXPECT_FALSE(w.extras().contains("postgres"));
  const auto bare = write_and_open(w, "bare.tar.gz").sample(Options{});
  EXPECT_EQ(bare.postgres.state, model::SourceState::unsupported);
  EXPECT_EQ(bare.postgres.reason(), "not in this snapshot");
  EXPECT_EQ(bare.bpf.reason(), "not in this snapshot");

  // Now with facts: one instance with its settings, and probe statistics.
  model::PostgresFacts pg;
  pg.instances.emplace_back();
  pg.instances[0].postmaster_pid = 4242;
  pg.instances[0].data_dir = "/var/lib/postgresql/15/main";
  w.samples.back().postgres.value = pg;
  w.samples.back().postgres.state = model::SourceState::ok;
  model::BpfStats bpf;
  bpf.duration_s = 2.5;
  w.samples.back().bpf.value = bpf;
  w.samples.back().bpf.state = model::SourceState::ok;
  const auto full = write_and_open(w, "full.tar.gz").sample(Options{});
  ASSERT_TRUE(full.postgres.ok()) << full.postgres.reason();
  ASSERT_EQ(full.postgres.value->instances.size(), 1u);
  EXPECT_EQ(full.postgres.value->instances[0].postmaster_pid, 4242);
  ASSERT_TRUE(full.bpf.ok()) << full.bpf.reason();
  EXPECT_DOUBLE_EQ(full.bpf.value->duration_s, 2.5);
}

// Probes inside the window land on the last reading; the wait is what is left of the window.
TEST_F(SamplerTest, TraceInsideTheWindowLandsOnTheLastReading) {
  VMTUNE_REQUIRE_ROOT();
  auto live = Sampler::open(Origin{});
  ASSERT_TRUE(live.ok());
  Options opt;
  opt.trace_s = 0.5;
  opt.postgres = false;
  opt.processes = false;
  std::vector<std::string> phases;
  const auto w = live->window(0.8, opt, [&](std::string_view phase, double, double) {
    if (phases.empty() || phases.back() != phase) phases.emplace_back(phase);
  });
  ASSERT_EQ(w.samples.size(), 2u);
  EXPECT_EQ(w.samples[0].bpf.state, model::SourceState::not_collected);
  ASSERT_TRUE(w.samples[1].bpf.ok()) << w.samples[1].bpf.reason();
  EXPECT_GE(w.samples[1].bpf.value->duration_s, 0.4);
  const double dt = w.samples[1].monotonic_s - w.samples[0].monotonic_s;
  EXPECT_GE(dt, 0.75);
  EXPECT_LT(dt, 5.0);  // the trace's time counts towards the window, not on top of it
  ASSERT_FALSE(phases.empty());
  EXPECT_EQ(phases.front(), "tracing");
  EXPECT_EQ(w.extras().at("bpf").at("duration_s").get<double>(),
            w.samples[1].bpf.value->duration_s);
}

// A stop during the wait ends the window early, marked interrupted, with the first reading.
TEST_F(SamplerTest, StopEndsTheWindowEarly) {
  auto live = Sampler::open(Origin{});
  ASSERT_TRUE(live.ok());
  Options opt;
  opt.postgres = false;
  opt.processes = false;
  std::atomic<bool> stop{false};
  std::thread t([&stop] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    stop = true;
  });
  const auto start = std::chrono::steady_clock::now();
  const auto w = live->window(60, opt, {}, &stop);
  t.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  EXPECT_TRUE(w.interrupted);
  EXPECT_EQ(w.samples.size(), 1u);
}

// The live default reads smaps_rollup only for the selected processes; none when asked.
TEST_F(SamplerTest, LiveReadingsReadSmapsRollupOnlyWhereItDecides) {
  VMTUNE_REQUIRE_ROOT();
  auto live = Sampler::open(Origin{});
  ASSERT_TRUE(live.ok());
  Options opt;
  opt.postgres = false;
  const auto s = live->sample(opt);
  ASSERT_TRUE(s.processes.ok());
  std::size_t with_pss = 0;
  for (const auto& p : *s.processes.value) with_pss += p.pss.has_value() ? 1 : 0;
  EXPECT_GT(with_pss, 0u);
  EXPECT_LE(with_pss, collect::select_for_smaps(*s.processes.value).size() + 2);
  EXPECT_LT(with_pss, s.processes.value->size());
  opt.smaps = collect::SmapsRollup::none;
  const auto quick = live->sample(opt);
  ASSERT_TRUE(quick.processes.ok());
  for (const auto& p : *quick.processes.value) EXPECT_FALSE(p.pss.has_value()) << p.pid;
}

// An unreadable --root is an error naming it, not an empty sampler.
TEST_F(SamplerTest, MissingRootIsAnErrorNamingIt) {
  Origin o;
  o.root = path("nowhere").string();
  auto s = Sampler::open(o);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().to_string().find("nowhere"), std::string::npos) << s.error().to_string();
}

}  // namespace
}  // namespace vmtune::sampler
