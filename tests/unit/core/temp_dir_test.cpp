// SPDX-License-Identifier: GPL-2.0-or-later
#include "core/temp_dir.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "test_support.hpp"

namespace vmtune::core {
namespace {

TEST(TempDir, CreatedAndRemovedWithContents) {
  std::filesystem::path p;
  {
    auto t = TempDir::create("vmtune-td-");
    ASSERT_TRUE(t.ok());
    p = t->path();
    EXPECT_TRUE(std::filesystem::is_directory(p));
    std::filesystem::create_directories(p / "a/b");
    TempDir moved = std::move(*t);
    EXPECT_EQ(moved.path(), p);
  }
  EXPECT_FALSE(std::filesystem::exists(p));
}

TEST(WriteFileAtomic, ReplacesWholeFileWithMode) {
  auto t = TempDir::create("vmtune-td-");
  ASSERT_TRUE(t.ok());
  const auto f = t->path() / "out.conf";
  ASSERT_TRUE(write_file_atomic(f, "old\n").ok());
  ASSERT_TRUE(write_file_atomic(f, "new contents\n", 0600).ok());
  EXPECT_EQ(test::slurp(f), "new contents\n");
  struct stat st{};
  ASSERT_EQ(::stat(f.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // No temporary file is left behind.
  int entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(t->path())) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 1);
}

TEST(WriteFileAtomic, MissingDirectoryNamesThePath) {
  auto r = write_file_atomic("/nonexistent-vmtune-dir/x.conf", "x");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().path, "/nonexistent-vmtune-dir/x.conf");
  EXPECT_EQ(r.error().kind, ErrorKind::missing);
}

}  // namespace
}  // namespace vmtune::core
