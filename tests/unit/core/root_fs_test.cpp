// SPDX-License-Identifier: GPL-2.0-or-later
#include "core/root_fs.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "core/temp_dir.hpp"
#include "test_support.hpp"

namespace vmtune::core {
namespace {

class RootFsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto t = TempDir::create("vmtune-rootfs-");
    ASSERT_TRUE(t.ok());
    tmp_.emplace(std::move(*t));
    std::filesystem::create_directories(tmp_->path() / "proc/sys/vm");
    std::filesystem::create_directories(tmp_->path() / "sys/kernel/mm");
    std::ofstream(tmp_->path() / "proc/meminfo") << "MemTotal: 1 kB\n";
    std::ofstream(tmp_->path() / "proc/sys/vm/swappiness") << "60\n";
  }
  std::optional<TempDir> tmp_;
};

TEST_F(RootFsTest, ReadsRelativeToTheTreeAndReportsLogicalPaths) {
  const auto fs = RootFs::under(tmp_->path());
  EXPECT_FALSE(fs.is_live());
  auto text = fs.read_text(Tree::proc, "meminfo");
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, "MemTotal: 1 kB\n");
  EXPECT_EQ(fs.logical(Tree::proc, "sys/vm/swappiness"), "/proc/sys/vm/swappiness");
  EXPECT_EQ(fs.logical(Tree::sys, "/kernel/mm"), "/sys/kernel/mm");
  auto missing = fs.read_text(Tree::proc, "vmstat");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, ErrorKind::missing);
  EXPECT_EQ(missing.error().path, "/proc/vmstat");  // never the temp dir
  EXPECT_EQ(missing.error().to_string().find(tmp_->path().string()), std::string::npos);
}

TEST_F(RootFsTest, ListsSortedAndChecksExistence) {
  std::ofstream(tmp_->path() / "proc/sys/vm/admin_reserve_kbytes") << "8192\n";
  const auto fs = RootFs::under(tmp_->path());
  auto names = fs.list_dir(Tree::proc, "sys/vm");
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, (std::vector<std::string>{"admin_reserve_kbytes", "swappiness"}));
  EXPECT_TRUE(fs.exists(Tree::sys, "kernel/mm"));
  EXPECT_TRUE(fs.is_dir(Tree::sys, "kernel/mm"));
  EXPECT_FALSE(fs.exists(Tree::sys, "kernel/mm/transparent_hugepage"));
  EXPECT_FALSE(fs.list_dir(Tree::sys, "nope").ok());
}

TEST_F(RootFsTest, RecordsWhatWasRead) {
  auto fs = RootFs::under(tmp_->path());
  auto rec = std::make_shared<ReadRecord>();
  fs.record_into(rec);
  ASSERT_TRUE(fs.read_text(Tree::proc, "meminfo").ok());
  ASSERT_TRUE(fs.list_dir(Tree::proc, "sys/vm").ok());
  EXPECT_FALSE(fs.read_text(Tree::proc, "missing").ok());
  EXPECT_TRUE(fs.is_dir(Tree::sys, "kernel/mm"));
  EXPECT_EQ(rec->files.size(), 1u);
  EXPECT_EQ(rec->files.at("/proc/meminfo"), "MemTotal: 1 kB\n");
  EXPECT_EQ(rec->dirs.at("/proc/sys/vm"), std::vector<std::string>{"swappiness"});
  EXPECT_EQ(rec->existing_dirs.count("/sys/kernel/mm"), 1u);
}

TEST_F(RootFsTest, FailedReadsAreRecordedAndReplayed) {
  auto fs = RootFs::under(tmp_->path());
  auto rec = std::make_shared<ReadRecord>();
  fs.record_into(rec);
  auto dir_read = fs.read_text(Tree::proc, "sys");  // a directory: EISDIR even for root
  ASSERT_FALSE(dir_read.ok());
  EXPECT_FALSE(fs.read_text(Tree::proc, "missing").ok());
  ASSERT_EQ(rec->failed_reads.size(), 1u);  // "missing" is not recorded: absence replays as is
  const auto& [kind, message] = rec->failed_reads.at("/proc/sys");
  EXPECT_EQ(kind, dir_read.error().kind);

  auto replay = RootFs::under(tmp_->path());
  replay.replay_failures({{"/proc/meminfo", {ErrorKind::permission_denied, "Permission denied"}}});
  auto r = replay.read_text(Tree::proc, "meminfo");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::permission_denied);
  EXPECT_EQ(r.error().to_string(), "/proc/meminfo: Permission denied");
  EXPECT_TRUE(replay.read_text(Tree::proc, "sys/vm/swappiness").ok());
}

TEST_F(RootFsTest, WritesThroughTheSameRoot) {
  const auto fs = RootFs::under(tmp_->path());
  ASSERT_TRUE(fs.write_text(Tree::proc, "sys/vm/swappiness", "10\n").ok());
  EXPECT_EQ(*fs.read_text(Tree::proc, "sys/vm/swappiness"), "10\n");
  auto bad = fs.write_text(Tree::proc, "sys/vm/nonexistent_dir/x", "1");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().path, "/proc/sys/vm/nonexistent_dir/x");
}

TEST_F(RootFsTest, UnreadableFileIsPermissionDeniedForNonRoot) {
  const auto p = tmp_->path() / "proc/secret";
  std::ofstream(p) << "x";
  ::chmod(p.c_str(), 0);
  const auto fs = RootFs::under(tmp_->path());
  auto r = fs.read_text(Tree::proc, "secret");
  if (test::running_as_root()) {
    EXPECT_TRUE(r.ok());  // root bypasses DAC
  } else {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, ErrorKind::permission_denied);
  }
}

TEST(RootFsLive, ReadsTheRunningKernel) {
  const RootFs fs;
  EXPECT_TRUE(fs.is_live());
  auto text = fs.read_text(Tree::proc, "meminfo");
  ASSERT_TRUE(text.ok());
  EXPECT_NE(text->find("MemTotal:"), std::string::npos);
  EXPECT_TRUE(fs.is_dir(Tree::sys, "kernel/mm"));
}

TEST(RootFsLive, SizeLimitIsAnError) {
  const RootFs fs;
  auto r = fs.read_text(Tree::proc, "self/maps", 4);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::io_error);
  EXPECT_NE(r.error().message.find("larger than 4 bytes"), std::string::npos);
}

}  // namespace
}  // namespace vmtune::core
