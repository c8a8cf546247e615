// SPDX-License-Identifier: GPL-2.0-or-later
// RootFs against what a local user can put in a tree or in a process's directory: symlinks
// pointing out, FIFOs, devices, directories where files are expected.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <future>

#include "core/root_fs.hpp"
#include "core/temp_dir.hpp"
#include "test_support.hpp"

namespace vmtune::core {
namespace {

class RootFsTrust : public ::testing::Test {
 protected:
  void SetUp() override {
    auto t = TempDir::create("vmtune-rootfs-trust-");
    ASSERT_TRUE(t.ok());
    tmp_.emplace(std::move(*t));
    // The "secret" lives outside the tree: nothing may read it through the tree.
    std::filesystem::create_directories(dir() / "tree/proc/sys/vm");
    std::filesystem::create_directories(dir() / "tree/etc");
    std::ofstream(dir() / "secret") << "root-only-content\n";
    std::ofstream(dir() / "tree/etc/shadow") << "in-tree\n";
  }
  std::filesystem::path dir() const { return tmp_->path(); }
  std::filesystem::path tree() const { return dir() / "tree"; }
  std::optional<TempDir> tmp_;
};

// Runs f with a deadline, so a blocking open fails the test instead of hanging ctest.
template <typename F>
auto bounded(F f) {
  auto fut = std::async(std::launch::async, f);
  if (fut.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
    ADD_FAILURE() << "blocked for 10 s";
    std::_Exit(1);  // the blocked thread cannot be joined
  }
  return fut.get();
}

TEST_F(RootFsTrust, AbsoluteSymlinkResolvesInsideTheTreeNotOutside) {
  // proc/sys/vm/swappiness -> /etc/shadow: under RESOLVE_IN_ROOT this is tree/etc/shadow.
  std::filesystem::create_symlink("/etc/shadow", tree() / "proc/sys/vm/swappiness");
  std::filesystem::create_symlink(dir() / "secret", tree() / "proc/meminfo");
  std::filesystem::create_symlink("../../../secret", tree() / "proc/sys/vm/dirty_ratio");
  const auto fs = RootFs::under(tree());
  auto in_tree = fs.read_text(Tree::proc, "sys/vm/swappiness");
  ASSERT_TRUE(in_tree.ok()) << in_tree.error().to_string();
  EXPECT_EQ(*in_tree, "in-tree\n");
  for (const char* rel : {"meminfo", "sys/vm/dirty_ratio"}) {
    auto r = fs.read_text(Tree::proc, rel);
    if (r.ok()) {
      EXPECT_EQ(r->find("root-only-content"), std::string::npos) << rel;
    }
  }
}

TEST_F(RootFsTrust, ComponentWalkRefusesSymlinksAndDotDot) {
  std::filesystem::create_symlink(dir() / "secret", tree() / "proc/meminfo");
  std::filesystem::create_directory_symlink(dir(), tree() / "proc/out");
  std::ofstream(tree() / "proc/vmstat") << "nr_free_pages 1\n";
  UniqueFd root_fd(::open(tree().c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  ASSERT_TRUE(root_fd.valid());
  auto ok = open_beneath(root_fd.get(), "proc/vmstat", O_RDONLY, "/proc/vmstat", true);
  ASSERT_TRUE(ok.ok()) << ok.error().to_string();
  auto link = open_beneath(root_fd.get(), "proc/meminfo", O_RDONLY, "/proc/meminfo", true);
  ASSERT_FALSE(link.ok());
  EXPECT_EQ(link.error().message, "refused: a symbolic link");
  auto through = open_beneath(root_fd.get(), "proc/out/secret", O_RDONLY, "/proc/out/secret", true);
  ASSERT_FALSE(through.ok());
  auto up = open_beneath(root_fd.get(), "proc/../../secret", O_RDONLY, "/proc/x", true);
  ASSERT_FALSE(up.ok());
  EXPECT_EQ(up.error().message, "refused: path leaves the tree");
  // openat2 (the default) also stays inside for "..": the tree's root is its "/".
  auto up2 = open_beneath(root_fd.get(), "proc/../../secret", O_RDONLY, "/proc/x");
  EXPECT_FALSE(up2.ok());
}

TEST_F(RootFsTrust, FifoDeviceAndDirectoryAreRefusedWithoutBlocking) {
  ASSERT_EQ(::mkfifo((tree() / "proc/meminfo").c_str(), 0644), 0);
  std::filesystem::create_directories(tree() / "proc/vmstat");
  const auto fs = RootFs::under(tree());
  auto fifo = bounded([&] { return fs.read_text(Tree::proc, "meminfo"); });
  ASSERT_FALSE(fifo.ok());
  EXPECT_EQ(fifo.error().to_string(), "/proc/meminfo: refused: a FIFO, not a regular file");
  auto d = fs.read_text(Tree::proc, "vmstat");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().to_string(), "/proc/vmstat: refused: a directory, not a regular file");
  if (test::running_as_root()) {
    ASSERT_EQ(::mknod((tree() / "proc/zoneinfo").c_str(), S_IFCHR | 0644, makedev(1, 5)), 0);
    auto dev = bounded([&] { return fs.read_text(Tree::proc, "zoneinfo"); });  // /dev/zero
    ASSERT_FALSE(dev.ok());
    EXPECT_EQ(dev.error().to_string(),
              "/proc/zoneinfo: refused: a character device, not a regular file");
  }
}

TEST_F(RootFsTrust, ListingAndStatStayInsideTheTree) {
  std::filesystem::create_directory_symlink("/", tree() / "proc/1");
  const auto fs = RootFs::under(tree());
  auto listing = fs.list_dir(Tree::proc, "1");
  // "/" inside the tree is the tree itself: its entries are etc and proc, never the host's.
  ASSERT_TRUE(listing.ok()) << listing.error().to_string();
  EXPECT_EQ(*listing, (std::vector<std::string>{"etc", "proc"}));
  EXPECT_FALSE(fs.exists(Tree::proc, "1/secret"));
}

TEST(MemTreeFs, ReadsListsAndStatsFromMemory) {
  auto tree = std::make_shared<MemTree>();
  tree->add("/proc/meminfo", false, "MemTotal: 1 kB\n");
  tree->add("/proc/sys/vm/swappiness", false, "60\n");
  tree->add("/proc/sys/vm/compact_memory", false, "");
  tree->modes["/proc/sys/vm/compact_memory"] = 0200;
  tree->add("/proc/42", true);
  const auto fs = RootFs::in_memory(tree);
  EXPECT_FALSE(fs.is_live());
  EXPECT_EQ(*fs.read_text(Tree::proc, "meminfo"), "MemTotal: 1 kB\n");
  EXPECT_EQ(*fs.list_dir(Tree::proc, ""), (std::vector<std::string>{"42", "meminfo", "sys"}));
  EXPECT_EQ(*fs.list_dir(Tree::proc, "sys/vm"),
            (std::vector<std::string>{"compact_memory", "swappiness"}));
  EXPECT_EQ(fs.stat(Tree::proc, "sys/vm/compact_memory")->mode, 0200u);
  EXPECT_TRUE(fs.is_dir(Tree::proc, "42"));
  auto dir_read = fs.read_text(Tree::proc, "42");
  ASSERT_FALSE(dir_read.ok());
  EXPECT_EQ(dir_read.error().to_string(), "/proc/42: refused: a directory, not a regular file");
  auto missing = fs.read_text(Tree::sys, "kernel/mm/transparent_hugepage/enabled");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, ErrorKind::missing);
  EXPECT_FALSE(fs.write_text(Tree::proc, "sys/vm/swappiness", "1").ok());
  EXPECT_TRUE(fs.real(Tree::etc, "vmtune/vmtune.toml").empty());
}

TEST(RootFsLive, FinalSymlinkUnderProcIsNotFollowed) {
  // /proc/mounts is the kernel's own symlink to self/mounts: a final link, refused under /proc.
  const RootFs fs;
  auto r = fs.read_text(Tree::proc, "mounts");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "refused: a symbolic link");
  EXPECT_TRUE(fs.read_text(Tree::proc, "self/mounts").ok());  // intermediate links are fine
}

// A file in a process's working directory: read only when it is a regular file of that
// process's user, never through a link, never blocking.
TEST(RootFsLive, FileInAProcessDirectoryMustBeOwnedRegularAndNoLink) {
  auto t = TempDir::create("vmtune-cwd-");
  ASSERT_TRUE(t.ok());
  const auto cwd = t->path();
  std::ofstream(cwd / "plain") << "1234\n";
  ASSERT_EQ(::mkfifo((cwd / "fifo").c_str(), 0644), 0);
  std::filesystem::create_symlink("/etc/hostname", cwd / "link");
  const pid_t child = ::fork();
  if (child == 0) {
    if (::chdir(cwd.c_str()) != 0) ::_exit(1);
    ::pause();
    ::_exit(0);
  }
  ASSERT_GT(child, 0);
  const test::ChildReaper reap{child};
  const RootFs fs;
  // Wait for the child's chdir.
  for (int i = 0; i < 200; ++i) {
    std::error_code ec;
    if (std::filesystem::read_symlink("/proc/" + std::to_string(child) + "/cwd", ec) == cwd) break;
    ::usleep(10000);
  }
  auto plain = fs.read_in_process_dir(child, "cwd", "plain");
  ASSERT_TRUE(plain.ok()) << plain.error().to_string();
  EXPECT_EQ(*plain, "1234\n");
  auto fifo = bounded([&] { return fs.read_in_process_dir(child, "cwd", "fifo"); });
  ASSERT_FALSE(fifo.ok());
  EXPECT_NE(fifo.error().message.find("FIFO"), std::string::npos);
  auto link = fs.read_in_process_dir(child, "cwd", "link");
  ASSERT_FALSE(link.ok());
  EXPECT_EQ(link.error().message, "refused: a symbolic link");
  if (test::running_as_root()) {
    ASSERT_EQ(::chown((cwd / "plain").c_str(), 65534, 65534), 0);
    auto foreign = fs.read_in_process_dir(child, "cwd", "plain");
    ASSERT_FALSE(foreign.ok());
    EXPECT_EQ(foreign.error().kind, ErrorKind::permission_denied);
    EXPECT_NE(foreign.error().message.find("owned by uid 65534"), std::string::npos);
  }
}

}  // namespace
}  // namespace vmtune::core
