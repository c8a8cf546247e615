// SPDX-License-Identifier: GPL-2.0-or-later
// Snapshot archives are untrusted input, and -o names a path someone else may have prepared:
// truncated and hostile archives, meta.json with impossible values, FIFOs and links at -o.
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <fstream>
#include <random>

#include "collect/collector.hpp"
#include "core/temp_dir.hpp"
#include "snapshot/snapshot.hpp"
#include "test_support.hpp"

namespace vmtune::snapshot {
namespace {

using json::Json;

class SnapshotTrust : public ::testing::Test {
 protected:
  void SetUp() override {
    auto t = core::TempDir::create("vmtune-snap-trust-");
    ASSERT_TRUE(t.ok());
    tmp_.emplace(std::move(*t));
  }
  std::filesystem::path path(const std::string& name) const { return tmp_->path() / name; }
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(tmp_->path())) {
      names.push_back(e.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }
  std::optional<core::TempDir> tmp_;
};

/// A hand-made archive: each member is (name, size); data is zeros unless given.
struct Member {
  std::string name;
  std::string data;
  la_int64_t size = -1;  ///< declared size when data is empty (a stream of zeros)
  bool dir = false;
};

void write_tar_gz(const std::filesystem::path& out, const std::vector<Member>& members) {
  archive* a = archive_write_new();
  archive_write_add_filter_gzip(a);
  archive_write_set_filter_option(a, "gzip", "compression-level", "1");  // zeros, quickly
  archive_write_set_format_pax_restricted(a);
  ASSERT_EQ(archive_write_open_filename(a, out.c_str()), ARCHIVE_OK);
  const std::string zeros(1 << 20, '\0');
  for (const auto& m : members) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, m.name.c_str());
    archive_entry_set_filetype(e, m.dir ? AE_IFDIR : AE_IFREG);
    archive_entry_set_perm(e, 0644);
    const la_int64_t size = m.size >= 0 ? m.size : static_cast<la_int64_t>(m.data.size());
    archive_entry_set_size(e, m.dir ? 0 : size);
    ASSERT_EQ(archive_write_header(a, e), ARCHIVE_OK);
    if (!m.data.empty()) {
      archive_write_data(a, m.data.data(), m.data.size());
    } else {
      for (la_int64_t n = 0; n < size; n += static_cast<la_int64_t>(zeros.size())) {
        archive_write_data(a, zeros.data(),
                           static_cast<std::size_t>(std::min<la_int64_t>(zeros.size(), size - n)));
      }
    }
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
}

std::string meta(const std::string& samples, const std::string& host = "") {
  return R"({"format": 1, )" + (host.empty() ? std::string() : "\"host\": " + host + ", ") +
         "\"samples\": " + samples + "}";
}

const std::string kTwo =
    R"([{"dir": "s0", "monotonic_s": 10.0, "time_unix_ms": 1}, {"dir": "s1", "monotonic_s": 13.0, "time_unix_ms": 3001}])";

TEST_F(SnapshotTrust, AGoodArchiveIsReadFromMemoryWithoutTouchingTheDisk) {
  write_tar_gz(path("good.tar.gz"), {{"meta.json", meta(kTwo)},
                                     {"s0/proc/meminfo", "MemTotal: 1024 kB\n"},
                                     {"s1/proc/meminfo", "MemTotal: 1024 kB\n"}});
  const auto before = entries();
  auto opened = open_root(path("good.tar.gz"));
  ASSERT_TRUE(opened.ok()) << opened.error().to_string();
  ASSERT_EQ(opened->trees.size(), 2u);
  EXPECT_EQ(*opened->trees[1].read_text(core::Tree::proc, "meminfo"), "MemTotal: 1024 kB\n");
  EXPECT_EQ(entries(), before);
}

TEST_F(SnapshotTrust, TruncatedArchiveIsAnErrorNotEmptyFiles) {
  std::string big(200000, 'x');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + (i * 7919) % 26);
  write_tar_gz(path("full.tar.gz"),
               {{"meta.json", meta(kTwo)}, {"s0/proc/meminfo", big}, {"s1/proc/meminfo", big}});
  const auto size = std::filesystem::file_size(path("full.tar.gz"));
  std::filesystem::copy_file(path("full.tar.gz"), path("cut.tar.gz"));
  std::filesystem::resize_file(path("cut.tar.gz"), size / 2);
  auto opened = open_root(path("cut.tar.gz"));
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().kind, core::ErrorKind::parse_error);
  EXPECT_EQ(opened.error().path, path("cut.tar.gz").string());
  EXPECT_NE(opened.error().message.find("truncated or corrupt archive"), std::string::npos)
      << opened.error().message;
}

TEST_F(SnapshotTrust, ZeroBombIsRefusedFromItsHeaderWithoutWritingAnything) {
  // 2 GiB of zeros compresses to about 2 MB; it is refused before a byte is inflated.
  write_tar_gz(path("bomb.tar.gz"),
               {{"meta.json", meta(kTwo)}, {"s0/proc/meminfo", "", 2ll << 30}});
  EXPECT_LT(std::filesystem::file_size(path("bomb.tar.gz")), 16u << 20);
  const auto before = entries();
  auto opened = open_root(path("bomb.tar.gz"));
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().message, "refused: member s0/proc/meminfo is larger than 64 MiB");
  EXPECT_EQ(entries(), before);
  // Many members each under the per-file bound: the total bound stops them (smaller bounds
  // here, the same mechanism).
  std::vector<Member> many = {{"meta.json", meta(kTwo)}};
  for (int i = 0; i < 6; ++i) many.push_back({"s0/proc/f" + std::to_string(i), "", 3ll << 20});
  write_tar_gz(path("wide.tar.gz"), many);
  ArchiveLimits limits;
  limits.max_file_bytes = 4u << 20;
  limits.max_total_bytes = 8u << 20;
  auto wide = open_root(path("wide.tar.gz"), limits);
  ASSERT_FALSE(wide.ok());
  EXPECT_EQ(wide.error().message, "refused: archive expands beyond 8 MiB");
}

TEST_F(SnapshotTrust, TooManyEntriesAreRefused) {
  std::vector<Member> members = {{"meta.json", meta(kTwo)}};
  for (int i = 0; i < 300000; ++i) members.push_back({"s0/proc/" + std::to_string(i), "", 0});
  write_tar_gz(path("entries.tar.gz"), members);
  auto opened = open_root(path("entries.tar.gz"));
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().message,
            "refused: more than 250000 archive members (a snapshot has far fewer)");
}

TEST_F(SnapshotTrust, LongAndDeepMemberNamesAreRefused) {
  std::string deep = "s0";
  for (int i = 0; i < 100; ++i) deep += "/a";
  write_tar_gz(path("deep.tar.gz"), {{"meta.json", meta(kTwo)}, {deep, "x"}});
  auto opened = open_root(path("deep.tar.gz"));
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().message.rfind("archive member with an unsafe path: s0/a/a", 0), 0u);
  write_tar_gz(path("long.tar.gz"),
               {{"meta.json", meta(kTwo)}, {"s0/" + std::string(5000, 'n'), "x"}});
  EXPECT_FALSE(open_root(path("long.tar.gz")).ok());
}

TEST_F(SnapshotTrust, UnpackedSampleDirectoryLinkedToTheHostIsReadInsideTheSnapshot) {
  // An unpacked snapshot whose s0 is a link to "/": the readings must come from inside the
  // directory (s0 -> / is the snapshot directory itself), never from the host.
  const auto dir = path("unpacked");
  std::filesystem::create_directories(dir / "s1/proc");
  std::ofstream(dir / "s1/proc/meminfo") << "MemTotal: 2048 kB\n";
  std::filesystem::create_directory_symlink("/", dir / "s0");
  std::ofstream(dir / "meta.json") << meta(kTwo);
  auto opened = open_root(dir);
  ASSERT_TRUE(opened.ok()) << opened.error().to_string();
  auto host = opened->trees[0].read_text(core::Tree::proc, "meminfo");
  EXPECT_FALSE(host.ok()) << "read the host's /proc/meminfo through s0 -> /";
  EXPECT_EQ(*opened->trees[1].read_text(core::Tree::proc, "meminfo"), "MemTotal: 2048 kB\n");
}

TEST_F(SnapshotTrust, MetaJsonIsValidated) {
  struct Case {
    std::string meta;
    std::string field;
  };
  const std::vector<Case> cases = {
      {meta(kTwo, R"({"page_size": 0})"), "host.page_size"},
      {meta(kTwo, R"({"page_size": 6000})"), "host.page_size"},
      {meta(kTwo, R"({"page_size": 4096, "clk_tck": 0})"), "host.clk_tck"},
      {meta(R"([{"dir": "s0", "monotonic_s": 1e308}, {"dir": "s1", "monotonic_s": 2e308}])"),
       ""},  // not a number JSON can hold: a parse error
      {meta(R"([{"dir": "s0", "monotonic_s": 1e308}])"), "samples[0].monotonic_s"},
      {meta(R"([{"dir": "s0", "monotonic_s": 5}, {"dir": "s1", "monotonic_s": 5}])"),
       "samples[1].monotonic_s"},
      {meta(R"([{"dir": "s0", "monotonic_s": -1e308}])"), "samples[0].monotonic_s"},
      {meta(R"([{"dir": "../x"}])"), "samples.dir"},
      {meta(R"([{"dir": "s7"}])"), "samples.dir"},
      {meta(R"([{"dir": "s0", "monotonic_s": 1}, {"dir": "s0", "monotonic_s": 2}])"),
       "samples.dir"},
      {meta(R"([{"dir": "s0", "time_unix_ms": 1e300}])"), "samples.time_unix_ms"},
      {meta(kTwo, R"({"page_size": 4096.5})"), "host.page_size"},
      {meta(kTwo, R"({"page_size": 4096, "cpus": 4294967297})"), "host.cpus"},
      {meta(kTwo, R"({"page_size": 4096, "clk_tck": -5})"), "host.clk_tck"},
      {meta("[" + std::string([] {
              std::string many;
              for (int i = 0; i < 17; ++i) {
                many += std::string(i ? "," : "") + R"({"dir": "s)" + std::to_string(i) +
                        R"(", "monotonic_s": )" + std::to_string(i + 1) + "}";
              }
              return many;
            }()) +
            "]"),
       "samples"},
      {R"({"format": 1, "samples": []})", "samples"},
      {R"({"format": 2, "samples": []})", "format"},
  };
  for (const auto& c : cases) {
    write_tar_gz(path("m.tar.gz"), {{"meta.json", c.meta},
                                    {"s0/proc/meminfo", "MemTotal: 1 kB\n"},
                                    {"s1/proc/meminfo", "MemTotal: 1 kB\n"}});
    auto opened = open_root(path("m.tar.gz"));
    ASSERT_FALSE(opened.ok()) << c.meta;
    EXPECT_EQ(opened.error().field, c.field) << c.meta << ": " << opened.error().to_string();
    EXPECT_EQ(opened.error().path, path("m.tar.gz").string() + ": meta.json");
  }
}

core::Status write_small(const std::filesystem::path& out) {
  CapturedSample s;
  s.record.files["/proc/meminfo"] = "MemTotal: 1 kB\n";
  s.monotonic_s = 1;
  return write_snapshot(out, model::HostInfo{}, {s}, Json::object(), WriteOptions{});
}

TEST_F(SnapshotTrust, OutputRefusesFifoSymlinkDirectoryAndDevice) {
  ASSERT_EQ(::mkfifo(path("fifo").c_str(), 0644), 0);
  std::ofstream(path("target")) << "keep me\n";
  std::filesystem::create_symlink(path("target"), path("link"));
  std::filesystem::create_directory(path("dir"));
  std::vector<std::string> refused = {"fifo", "link", "dir"};
  if (test::running_as_root()) {
    ASSERT_EQ(::mknod(path("null").c_str(), S_IFCHR | 0666, makedev(1, 3)), 0);
    refused.push_back("null");
  }
  const auto before = entries();
  for (const auto& name : refused) {
    auto st = write_small(path(name));
    ASSERT_FALSE(st.ok()) << name;
    EXPECT_NE(st.error().message.find("refused:"), std::string::npos) << st.error().to_string();
    EXPECT_NE(st.error().message.find("vmtune only replaces regular files"), std::string::npos);
  }
  EXPECT_EQ(entries(), before);  // nothing replaced, no temporary file left
  EXPECT_EQ(test::slurp(path("target")), "keep me\n");
  struct stat st {};
  ASSERT_EQ(::lstat(path("link").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
}

TEST_F(SnapshotTrust, WritersToOnePathNeverShareATemporaryFile) {
  // Two archives to one path, interleaved: each has its own temporary file, both succeed, and
  // the survivor is a whole archive.
  ASSERT_TRUE(write_small(path("one.tar.gz")).ok());
  auto a = core::AtomicFile::create(path("x.tar.gz"));
  auto b = core::AtomicFile::create(path("x.tar.gz"));
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  EXPECT_NE(a->temp_path(), b->temp_path());
  ASSERT_TRUE(a->write("a").ok());
  ASSERT_TRUE(b->write("b").ok());
  ASSERT_TRUE(a->commit().ok());
  ASSERT_TRUE(b->commit().ok());
  EXPECT_EQ(test::slurp(path("x.tar.gz")), "b");
  EXPECT_EQ(entries(), (std::vector<std::string>{"one.tar.gz", "x.tar.gz"}));
  EXPECT_TRUE(open_root(path("one.tar.gz")).ok());
}

TEST_F(SnapshotTrust, FullDiskLeavesNoPartialFile) {
  if (!test::running_as_root()) GTEST_SKIP() << "mounting a small tmpfs needs root";
  const auto mnt = path("tiny");
  std::filesystem::create_directory(mnt);
  if (test::run_command("mount -t tmpfs -o size=64k tmpfs " + mnt.string()).exit_code != 0) {
    GTEST_SKIP() << "cannot mount tmpfs here";
  }
  struct Unmount {
    std::string dir;
    ~Unmount() { test::run_command("umount -l " + dir); }
  } unmount{mnt.string()};
  CapturedSample s;
  std::string noise(1 << 20, '\0');
  std::mt19937 rng(42);
  for (auto& c : noise) c = static_cast<char>(rng());
  s.record.files["/proc/meminfo"] = noise;  // incompressible: does not fit in 64 KiB
  s.monotonic_s = 1;
  auto st =
      write_snapshot(mnt / "snap.tar.gz", model::HostInfo{}, {s}, Json::object(), WriteOptions{});
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().to_string().find("No space left on device"), std::string::npos)
      << st.error().to_string();
  EXPECT_TRUE(std::filesystem::is_empty(mnt));

  // Reading a snapshot needs no disk at all: with $TMPDIR on the full file system it still reads.
  write_tar_gz(path("good.tar.gz"), {{"meta.json", meta(kTwo)},
                                     {"s0/proc/meminfo", "MemTotal: 1024 kB\n"},
                                     {"s1/proc/meminfo", "MemTotal: 2048 kB\n"}});
  std::ofstream(mnt / "filler") << std::string(128 << 10, 'x');  // fills the 64 KiB (short write)
  const char* old = std::getenv("TMPDIR");
  const std::string saved = old != nullptr ? old : "";
  ::setenv("TMPDIR", mnt.c_str(), 1);
  auto opened = open_root(path("good.tar.gz"));
  if (saved.empty()) {
    ::unsetenv("TMPDIR");
  } else {
    ::setenv("TMPDIR", saved.c_str(), 1);
  }
  ASSERT_TRUE(opened.ok()) << opened.error().to_string();
  EXPECT_EQ(*opened->trees[1].read_text(core::Tree::proc, "meminfo"), "MemTotal: 2048 kB\n");
}

}  // namespace
}  // namespace vmtune::snapshot

namespace vmtune::snapshot {
namespace {

// Inputs the fuzzers found, kept so they stay fixed (tests/data/fuzz-regressions).
TEST(SnapshotFuzzRegressions, EveryKeptInputFailsCleanly) {
  const auto dir = test::test_data() / "fuzz-regressions";
  std::size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().filename().string().rfind("snapshot-", 0) != 0) continue;
    ++n;
    auto opened = open_root(e.path());
    ASSERT_FALSE(opened.ok()) << e.path();
    EXPECT_EQ(opened.error().path, e.path().string());
  }
  EXPECT_GE(n, 1u);
}

}  // namespace
}  // namespace vmtune::snapshot
