// SPDX-License-Identifier: GPL-2.0-or-later
#include "snapshot/snapshot.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>

#include <fstream>

#include "collect/collector.hpp"
#include "core/temp_dir.hpp"
#include "json/sample_json.hpp"
#include "test_support.hpp"

namespace vmtune::snapshot {
namespace {

using json::Json;

// Fields that legitimately differ between a live read and its replay.
Json comparable(Json j) {
  j.erase("rates");
  if (j.contains("kernel")) j["kernel"].erase("time_unix_ms");
  return j;
}

struct Captured {
  std::vector<CapturedSample> samples;
  std::vector<Json> live_json;  // what `collect` printed from the same reads
  model::HostInfo host;
};

Captured capture_live(int readings) {
  Captured c;
  for (int i = 0; i < readings; ++i) {
    auto rec = std::make_shared<core::ReadRecord>();
    core::RootFs fs;
    fs.record_into(rec);
    const auto sample = collect::collect_sample(fs, collect::CollectOptions{});
    c.host = sample.host;
    c.live_json.push_back(json::sample_sections_to_json(sample));
    c.samples.push_back(CapturedSample{*rec, sample.monotonic_s, sample.host.time_unix_ms});
  }
  return c;
}

class SnapshotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto t = core::TempDir::create("vmtune-snap-test-");
    ASSERT_TRUE(t.ok());
    tmp_.emplace(std::move(*t));
  }
  std::filesystem::path path(const std::string& name) const { return tmp_->path() / name; }
  std::optional<core::TempDir> tmp_;
};

TEST_F(SnapshotTest, ReplayGivesTheSameSampleAsTheLiveReadItCaptured) {
  const auto c = capture_live(2);
  const auto file = path("live.vmtune.tar.gz");
  ASSERT_TRUE(write_snapshot(file, c.host, c.samples, Json::object(), WriteOptions{}).ok());
  auto opened = open_root(file);
  ASSERT_TRUE(opened.ok()) << opened.error().to_string();
  ASSERT_TRUE(opened->is_snapshot);
  ASSERT_EQ(opened->trees.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    collect::CollectOptions opt;
    opt.host = opened->host;
    opt.monotonic_s = opened->monotonic_s[i];
    opt.time_unix_ms = opened->time_unix_ms[i];
    const auto replay = collect::collect_sample(opened->trees[i], opt);
    EXPECT_EQ(replay.monotonic_s, c.samples[i].monotonic_s);
    const Json a = comparable(c.live_json[i]);
    const Json b = comparable(json::sample_sections_to_json(replay));
    // Compare section by section for a readable failure.
    for (const auto& [key, value] : a.items()) {
      EXPECT_EQ(value, b.value(key, Json())) << "section " << key << " differs in reading " << i;
    }
    EXPECT_EQ(a.size(), b.size());
  }
}

TEST_F(SnapshotTest, CliSnapshotThenCollectFromFileAndDirAgree) {
  const auto file = path("cli.tar.gz");
  const auto bin = test::vmtune_binary().string();
  auto snap = test::run_command(bin + " snapshot -o " + file.string() + " --window 0.3");
  ASSERT_EQ(snap.exit_code, 0);
  ASSERT_TRUE(std::filesystem::exists(file));
  auto from_file = test::run_command(bin + " --root " + file.string() + " collect --format json");
  ASSERT_EQ(from_file.exit_code, 0);
  const Json j = Json::parse(from_file.out);
  EXPECT_TRUE(j.at("meminfo").is_object());
  ASSERT_TRUE(j.at("rates").is_object()) << "two readings must replay as rates";
  EXPECT_NEAR(j["rates"]["interval_s"].get<double>(), 0.3, 0.25);
  EXPECT_TRUE(j["rates"]["vmstat"].contains("pgfault_per_sec") || j["vmstat"].is_null());

  // Unpack with tar and read the directory form: same document.
  const auto dir = path("unpacked");
  std::filesystem::create_directories(dir);
  ASSERT_EQ(test::run_command("tar -xzf " + file.string() + " -C " + dir.string()).exit_code, 0);
  ASSERT_TRUE(std::filesystem::exists(dir / "meta.json"));
  auto from_dir = test::run_command(bin + " --root " + dir.string() + " collect --format json");
  ASSERT_EQ(from_dir.exit_code, 0);
  EXPECT_EQ(Json::parse(from_dir.out), j);
}

TEST_F(SnapshotTest, RedactDropsCommandLinesAndHostName) {
  auto c = capture_live(1);
  ASSERT_FALSE(c.host.hostname.empty());
  c.samples[0].record.files["/proc/4242/cmdline"] = std::string("postgres\0-D\0/secret", 19);
  const auto file = path("redacted.tar.gz");
  WriteOptions opt;
  opt.redact = true;
  ASSERT_TRUE(write_snapshot(file, c.host, c.samples, Json::object(), opt).ok());
  auto opened = open_root(file);
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(opened->host->hostname, "");
  auto cmd = opened->trees[0].read_text(core::Tree::proc, "4242/cmdline");
  ASSERT_TRUE(cmd.ok());
  EXPECT_EQ(*cmd, "");
  // The rest is intact.
  EXPECT_TRUE(opened->trees[0].read_text(core::Tree::proc, "meminfo").ok());
}

TEST_F(SnapshotTest, ExtrasRoundTrip) {
  const auto c = capture_live(1);
  Json extras = {{"postgres", {{"instances", Json::array()}}}};
  const auto file = path("extras.tar.gz");
  ASSERT_TRUE(write_snapshot(file, c.host, c.samples, extras, WriteOptions{}).ok());
  auto opened = open_root(file);
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(opened->extras, extras);
}

TEST_F(SnapshotTest, TruncatedArchiveIsAClearError) {
  const auto c = capture_live(1);
  const auto file = path("t.tar.gz");
  ASSERT_TRUE(write_snapshot(file, c.host, c.samples, Json::object(), WriteOptions{}).ok());
  const auto size = std::filesystem::file_size(file);
  std::filesystem::resize_file(file, size / 2);
  auto opened = open_root(file);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().kind, core::ErrorKind::parse_error);
  EXPECT_NE(opened.error().to_string().find(file.string()), std::string::npos);
}

TEST_F(SnapshotTest, GarbageAndEmptyFilesAreRejected) {
  std::ofstream(path("garbage")) << "this is not a tarball\x01\x02";
  std::ofstream(path("empty"));
  for (const char* name : {"garbage", "empty"}) {
    auto opened = open_root(path(name));
    ASSERT_FALSE(opened.ok()) << name;
    EXPECT_NE(opened.error().to_string().find(name), std::string::npos)
        << opened.error().to_string();
  }
}

TEST_F(SnapshotTest, MemberEscapingTheDirectoryIsRejected) {
  const auto file = path("evil.tar.gz");
  {
    archive* a = archive_write_new();
    archive_write_add_filter_gzip(a);
    archive_write_set_format_pax_restricted(a);
    ASSERT_EQ(archive_write_open_filename(a, file.c_str()), ARCHIVE_OK);
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, "../escaped");
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, 1);
    archive_write_header(a, e);
    archive_write_data(a, "x", 1);
    archive_entry_free(e);
    archive_write_close(a);
    archive_write_free(a);
  }
  auto opened = open_root(file);
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.error().message.find("unsafe path"), std::string::npos);
}

TEST_F(SnapshotTest, MetaWithWrongFormatNamesTheField) {
  const auto dir = path("badmeta");
  std::filesystem::create_directories(dir / "s0/proc");
  std::ofstream(dir / "meta.json") << R"({"format": 99, "samples": [{"dir": "s0"}]})";
  auto opened = open_root(dir);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().field, "format");
  std::ofstream(dir / "meta.json") << "{not json";
  opened = open_root(dir);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().kind, core::ErrorKind::parse_error);
}

TEST_F(SnapshotTest, PlainTreeAndNonsenseRoots) {
  const auto tree = path("tree");
  std::filesystem::create_directories(tree / "proc");
  std::ofstream(tree / "proc/meminfo") << "MemTotal: 1024 kB\n";
  auto opened = open_root(tree);
  ASSERT_TRUE(opened.ok());
  EXPECT_FALSE(opened->is_snapshot);
  EXPECT_EQ(opened->trees.size(), 1u);
  EXPECT_FALSE(open_root(path("does-not-exist")).ok());
  std::filesystem::create_directories(path("emptydir"));
  auto empty = open_root(path("emptydir"));
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.error().message.find("not a captured tree"), std::string::npos);
}

TEST(CollectCli, FixtureTreeReplaysAndReportsWhatIsMissing) {
  const auto tree = test::test_data() / "live-debian12";
  if (!std::filesystem::exists(tree / "proc/meminfo"))
    GTEST_SKIP() << "no tests/data/live-debian12";
  auto r = test::run_command(test::vmtune_binary().string() + " --root " + tree.string() +
                             " collect --format json");
  ASSERT_EQ(r.exit_code, 0);
  const Json j = Json::parse(r.out);
  EXPECT_GT(j["meminfo"]["MemTotal"].get<std::uint64_t>(), 1ull << 30);
  EXPECT_TRUE(j["rates"].is_null());
}

TEST(CollectCli, BadRootExitsWithInputErrorAndNamesIt) {
  const auto err = std::filesystem::temp_directory_path() / "vmtune-badroot.err";
  auto r = test::run_command(test::vmtune_binary().string() + " --root /nonexistent/vmtune collect",
                             err.string());
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_NE(test::slurp(err).find("/nonexistent/vmtune"), std::string::npos);
  auto u =
      test::run_command(test::vmtune_binary().string() + " collect --format yaml", "/dev/null");
  EXPECT_EQ(u.exit_code, 3);
}

}  // namespace
}  // namespace vmtune::snapshot
