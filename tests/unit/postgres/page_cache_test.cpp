// SPDX-License-Identifier: GPL-2.0-or-later
#include "collect/postgres/page_cache.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "core/file.hpp"
#include "core/temp_dir.hpp"

namespace vmtune::collect::postgres {
namespace {

TEST(RelationFiles, NamesPostgresUsesAndNothingElse) {
  for (const char* ok : {"16384", "16384.1", "16384_fsm", "16384_vm", "16384_init", "1259.12"}) {
    EXPECT_TRUE(is_relation_file_name(ok)) << ok;
  }
  for (const char* no : {"", "pg_filenode.map", "PG_VERSION", "16384_", "16384.", "16384.x",
                         "t3_16384", "16384_fsm_vm", "pg_internal.init", ".16384", "16384 "}) {
    EXPECT_FALSE(is_relation_file_name(no)) << no;
  }
}

void write_file(const std::filesystem::path& p, std::size_t bytes) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary);
  std::string block(4096, 'x');
  for (std::size_t n = 0; n < bytes; n += block.size()) {
    out.write(block.data(), static_cast<std::streamsize>(std::min(block.size(), bytes - n)));
  }
}

/// Writes back and drops the file's pages; false where the filesystem keeps them (tmpfs).
bool drop_cache(const std::filesystem::path& p) {
  const int fd = ::open(p.c_str(), O_RDONLY);
  if (fd < 0) return false;
  ::fdatasync(fd);
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  struct statfs fs {};
  const bool tmpfs = ::fstatfs(fd, &fs) == 0 && fs.f_type == TMPFS_MAGIC;
  ::close(fd);
  return !tmpfs;
}

/// The directory as RootFs::open_process_dir would hand it over, owned by `uid`.
core::ProcessDir process_dir(const std::filesystem::path& p, uid_t uid = ::geteuid()) {
  core::ProcessDir d;
  d.fd = core::UniqueFd(::open(p.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  d.uid = uid;
  d.logical = p.string();
  return d;
}

core::Result<Residency> residency(const std::filesystem::path& f, std::uint64_t max,
                                  const std::string& logical) {
  core::UniqueFd dir(::open(f.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  return file_residency(dir.get(), f.filename().string(), max, logical);
}

void read_all(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::string buf(65536, '\0');
  while (in.read(buf.data(), static_cast<std::streamsize>(buf.size()))) {
  }
}

TEST(Residency, MincoreSeesReadsAndDrops) {
  auto tmp = core::TempDir::create("vmtune-pg-test-");
  ASSERT_TRUE(tmp.ok());
  const auto f = tmp->path() / "16384";
  write_file(f, (4u << 20) + 100);  // a partial last page
  if (!drop_cache(f)) GTEST_SKIP() << "temporary directory is on tmpfs: pages cannot be dropped";
  auto cold = residency(f, UINT64_MAX, "16384");
  ASSERT_TRUE(cold.ok()) << cold.error().to_string();
  EXPECT_EQ(cold->bytes_measured, (4u << 20) + 100);
  EXPECT_LT(cold->bytes_resident, 64u * 1024);
  read_all(f);
  auto warm = residency(f, UINT64_MAX, "16384");
  ASSERT_TRUE(warm.ok());
  EXPECT_EQ(warm->bytes_resident, (4u << 20) + 100);
  auto bounded = residency(f, 1u << 20, "16384");
  ASSERT_TRUE(bounded.ok());
  EXPECT_EQ(bounded->bytes_measured, 1u << 20);
  EXPECT_EQ(bounded->bytes_resident, 1u << 20);
}

TEST(Residency, EmptyAndMissingFiles) {
  auto tmp = core::TempDir::create("vmtune-pg-test-");
  ASSERT_TRUE(tmp.ok());
  write_file(tmp->path() / "1", 0);
  auto empty = residency(tmp->path() / "1", UINT64_MAX, "base/1/1");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->bytes_measured, 0u);
  auto missing = residency(tmp->path() / "2", UINT64_MAX, "base/1/2");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, core::ErrorKind::missing);
  EXPECT_EQ(missing.error().path, "base/1/2");
}

TEST(Sampler, LargestFilesFirstWithinTheByteBound) {
  auto tmp = core::TempDir::create("vmtune-pg-test-");
  ASSERT_TRUE(tmp.ok());
  const auto d = tmp->path();
  write_file(d / "base/1/16384", 3u << 20);
  write_file(d / "base/1/16384_fsm", 24u << 10);
  write_file(d / "base/5/2619", 1u << 20);
  write_file(d / "global/1262", 8u << 10);
  write_file(d / "base/1/pg_filenode.map", 512);  // not a relation file
  write_file(d / "PG_VERSION", 3);
  read_all(d / "base/1/16384");
  read_all(d / "base/5/2619");
  PageCacheLimits all;
  auto full = sample_page_cache(process_dir(d), "/srv/data", all);
  ASSERT_TRUE(full.ok()) << full.error().to_string();
  EXPECT_EQ(full->files_total, 4u);
  EXPECT_EQ(full->bytes_total, (3u << 20) + (24u << 10) + (1u << 20) + (8u << 10));
  EXPECT_EQ(full->files_sampled, 4u);
  EXPECT_EQ(full->bytes_sampled, full->bytes_total);
  EXPECT_FALSE(full->truncated);
  EXPECT_GE(full->bytes_resident, 4u << 20);  // what was just read
  EXPECT_EQ(full->bytes_resident_estimate, full->bytes_resident);

  PageCacheLimits small;
  small.max_bytes = 2u << 20;
  auto part = sample_page_cache(process_dir(d), "/srv/data", small);
  ASSERT_TRUE(part.ok());
  EXPECT_TRUE(part->truncated);
  EXPECT_EQ(part->files_sampled, 1u);  // only the largest file, and only 2 MiB of it
  EXPECT_EQ(part->bytes_sampled, 2u << 20);
  EXPECT_EQ(part->bytes_resident, 2u << 20);
  EXPECT_EQ(part->bytes_resident_estimate, part->bytes_total);  // all sampled bytes resident
  EXPECT_NE(part->method.find("largest files first"), std::string::npos);
}

TEST(Sampler, NotADataDirectory) {
  auto tmp = core::TempDir::create("vmtune-pg-test-");
  ASSERT_TRUE(tmp.ok());
  auto r = sample_page_cache(process_dir(tmp->path()), "/srv/data", {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, core::ErrorKind::missing);
  EXPECT_EQ(r.error().path, "/srv/data/base");
}

// A data directory reached through a user's process: links planted in it are not followed,
// and files or directories of another user are not measured.
TEST(Sampler, FollowsNoLinksAndOnlyTheServersFiles) {
  auto tmp = core::TempDir::create("vmtune-pg-test-");
  ASSERT_TRUE(tmp.ok());
  const auto d = tmp->path();
  write_file(d / "base/1/16384", 1u << 20);
  write_file(d / "elsewhere/16385", 2u << 20);
  std::filesystem::create_symlink(d / "elsewhere/16385", d / "base/1/16386");
  std::filesystem::create_directory_symlink(d / "elsewhere", d / "base/7");
  auto r = sample_page_cache(process_dir(d), "/srv/data", {});
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->files_total, 1u);
  EXPECT_EQ(r->bytes_total, 1u << 20);

  // Owned by someone else than the server's user: refused as a whole.
  auto other = sample_page_cache(process_dir(d, ::geteuid() + 1), "/srv/data", {});
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().kind, core::ErrorKind::permission_denied);
}

// Tablespace links are followed, but a directory is walked once however many links name it.
TEST(Sampler, EachDirectoryIsWalkedOnce) {
  auto tmp = core::TempDir::create("vmtune-pg-test-");
  ASSERT_TRUE(tmp.ok());
  const auto d = tmp->path() / "data";
  write_file(d / "base/1/16384", 1u << 20);
  write_file(tmp->path() / "ts/PG_15_202209061/5/16400", 2u << 20);
  std::filesystem::create_directories(d / "pg_tblspc");
  for (int i = 1; i <= 50; ++i) {
    std::filesystem::create_directory_symlink(tmp->path() / "ts",
                                              d / "pg_tblspc" / std::to_string(16000 + i));
  }
  auto r = sample_page_cache(process_dir(d), "/srv/data", {});
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->files_total, 2u);
  EXPECT_EQ(r->bytes_total, 3u << 20);
}

TEST(Residency, RefusesFifosAndSymlinks) {
  auto tmp = core::TempDir::create("vmtune-pg-test-");
  ASSERT_TRUE(tmp.ok());
  ASSERT_EQ(::mkfifo((tmp->path() / "16384").c_str(), 0600), 0);
  std::filesystem::create_symlink("/etc/hostname", tmp->path() / "16385");
  auto fifo = residency(tmp->path() / "16384", UINT64_MAX, "base/1/16384");
  ASSERT_FALSE(fifo.ok());
  EXPECT_NE(fifo.error().message.find("FIFO"), std::string::npos) << fifo.error().message;
  auto link = residency(tmp->path() / "16385", UINT64_MAX, "base/1/16385");
  ASSERT_FALSE(link.ok());
  EXPECT_NE(link.error().message.find("symbolic link"), std::string::npos) << link.error().message;
}

}  // namespace
}  // namespace vmtune::collect::postgres
