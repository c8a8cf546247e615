// SPDX-License-Identifier: GPL-2.0-or-later
#include "collect/source_util.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "collect/numa.hpp"
#include "core/temp_dir.hpp"
#include "strict_support.hpp"

namespace vmtune::collect {
namespace {

// The same unavailable entry is listed once per sample, however often it is noted.
TEST(SourceUtil, EqualUnavailableEntriesAreListedOnce) {
  model::Sample s;
  const auto e = core::make_error(core::ErrorKind::parse_error, "/proc/meminfo",
                                  "expected \"<n> kB\": the unit is missing", 3, "MemTotal");
  note_unavailable(s, "meminfo", e);
  note_unavailable(s, "meminfo", e);
  model::Source<model::MemInfo> src;
  fail_source(s, src, "meminfo", e, {e, e});
  ASSERT_EQ(s.unavailable.size(), 1u);
  // Entries differing in any part are all kept.
  auto other_line = e;
  other_line.line = 4;
  auto other_field = e;
  other_field.field = "MemFree";
  auto other_reason = e;
  other_reason.message = "expected \"<n> kB\": not a number";
  note_unavailable(s, "meminfo", other_line);
  note_unavailable(s, "meminfo", other_field);
  note_unavailable(s, "meminfo", other_reason);
  note_unavailable(s, "numa", e);
  EXPECT_EQ(s.unavailable.size(), 5u);
  add_unavailable(s, s.unavailable.front());
  EXPECT_EQ(s.unavailable.size(), 5u);
}

// A collector that reads the same damaged file twice in one sample lists it once: here the
// `online` list read by read_numa twice.
TEST(SourceUtil, ReadingTwiceInOneSampleListsOnce) {
  auto tmp = core::TempDir::create("vmtune-test-");
  ASSERT_TRUE(tmp.ok());
  const auto d = tmp->path() / "sys/devices/system/node";
  std::filesystem::create_directories(d / "node0");
  std::ofstream(d / "online") << "";
  std::ofstream(d / "node0/meminfo") << "Node 0 MemTotal:  8 kB\n";
  model::Sample s;
  read_numa(core::RootFs::under(tmp->path()), s);
  read_numa(core::RootFs::under(tmp->path()), s);
  EXPECT_EQ(test::unavailable_strings(s),
            std::vector<std::string>{"numa|/sys/devices/system/node/online|0||file is empty"});
}

// "Needs root" is said only where privileges would help: not for vmtune's own refusals and not
// for what root itself was refused.
TEST(SourceUtil, PermissionHintOnlyWherePrivilegesHelp) {
  model::Sample s;
  using core::ErrorKind;
  note_unavailable(s, "p",
                   core::make_error(ErrorKind::permission_denied, "/a", "Permission denied"));
  note_unavailable(
      s, "p",
      core::make_error(ErrorKind::permission_denied, "/b", "Permission denied, even to root"));
  note_unavailable(
      s, "p", core::make_error(ErrorKind::permission_denied, "/c", "refused: a symbolic link"));
  ASSERT_EQ(s.unavailable.size(), 3u);
  EXPECT_EQ(s.unavailable[0].reason,
            "permission denied (Permission denied); reading it needs root or the owner's "
            "privileges");
  EXPECT_EQ(s.unavailable[1].reason, "Permission denied, even to root");
  EXPECT_EQ(s.unavailable[2].reason, "refused: a symbolic link");
}

}  // namespace
}  // namespace vmtune::collect
