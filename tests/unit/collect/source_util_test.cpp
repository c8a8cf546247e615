// SPDX-License-Identifier: GPL-2.0-or-later
#include "collect/source_util.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "collect/numa.hpp"
#include "core/temp_dir.hpp"
#include "strict_support.hpp"
#include "test_support.hpp"

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

// A failed source keeps its error as a value: the path and line a rule's "needs …" names, and
// the text reports show. A source read with damaged lines keeps the value and the first error.
TEST(SourceUtil, SourceCarriesTheErrorItFailedWith) {
  model::Sample s;
  model::Source<model::MemInfo> src;
  EXPECT_FALSE(src.error);
  EXPECT_EQ(src.reason(), "");
  const auto e = core::make_error(core::ErrorKind::parse_error, "/proc/meminfo",
                                  "expected \"<n> kB\": the unit is missing", 3, "MemTotal");
  fail_source(s, src, "meminfo", e);
  EXPECT_EQ(src.state, model::SourceState::parse_error);
  ASSERT_TRUE(src.error);
  EXPECT_EQ(src.error->path, "/proc/meminfo");
  EXPECT_EQ(src.error->line, 3);
  EXPECT_EQ(src.reason(),
            "/proc/meminfo:3: field \"MemTotal\": expected \"<n> kB\": the unit is missing");
  set_source(s, src, "meminfo", model::MemInfo{{{"MemFree", 1}}}, {});
  EXPECT_TRUE(src.ok());
  EXPECT_FALSE(src.error);
  set_source(s, src, "meminfo", model::MemInfo{{{"MemFree", 1}}}, {e});
  EXPECT_TRUE(src.ok());
  ASSERT_TRUE(src.error);
  EXPECT_EQ(src.error->field, "MemTotal");
}

core::Error explain_for_test(core::Error err) {
  err.message = "explained: " + err.message;
  return err;
}

// collect_file: a read error fails the source (through `explain` when given), a parse error
// fails it with the bad lines found before, a value is set with its bad lines.
TEST(SourceUtil, CollectFileReadsFailsParsesAndSets) {
  auto tmp = core::TempDir::create("vmtune-test-");
  ASSERT_TRUE(tmp.ok());
  const auto fs = core::RootFs::under(tmp->path());
  const auto parse = [](std::string_view text, const std::string& path,
                        std::vector<core::Error>* bad) -> core::Result<model::MemInfo> {
    bad->push_back(core::make_error(core::ErrorKind::parse_error, path, "bad line", 1, "A"));
    if (text == "fail\n") return core::make_error(core::ErrorKind::parse_error, path, "whole");
    return model::MemInfo{{{"A", 1}}};
  };

  model::Sample missing;
  collect_file(missing, missing.meminfo, "meminfo", fs, core::Tree::proc, "meminfo", parse,
               &explain_for_test);
  EXPECT_EQ(missing.meminfo.state, model::SourceState::missing);
  ASSERT_TRUE(missing.meminfo.error);
  EXPECT_EQ(missing.meminfo.error->path, "/proc/meminfo");
  EXPECT_EQ(missing.meminfo.error->message.rfind("explained: ", 0), 0u) << missing.meminfo.reason();
  ASSERT_EQ(missing.unavailable.size(), 1u);

  test::write_fixture(tmp->path() / "proc/meminfo", "fail\n");
  model::Sample failed;
  collect_file(failed, failed.meminfo, "meminfo", fs, core::Tree::proc, "meminfo", parse);
  EXPECT_EQ(failed.meminfo.state, model::SourceState::parse_error);
  EXPECT_EQ(failed.meminfo.reason(), "/proc/meminfo: whole");
  EXPECT_EQ(test::unavailable_strings(failed),
            (std::vector<std::string>{"meminfo|/proc/meminfo|0||whole",
                                      "meminfo|/proc/meminfo|1|A|bad line"}));

  test::write_fixture(tmp->path() / "proc/meminfo", "ok\n");
  model::Sample read;
  collect_file(read, read.meminfo, "meminfo", fs, core::Tree::proc, "meminfo", parse);
  ASSERT_TRUE(read.meminfo.ok());
  EXPECT_EQ(read.meminfo.value->fields.at("A"), 1u);
  EXPECT_EQ(read.meminfo.reason(), "/proc/meminfo:1: field \"A\": bad line");
}

// read_optional: a missing file is no problem; any other failure is recorded with its field.
// store_parsed: a value is stored, an error recorded instead.
TEST(SourceUtil, OptionalFilesAndParsedValues) {
  auto tmp = core::TempDir::create("vmtune-test-");
  ASSERT_TRUE(tmp.ok());
  const auto fs = core::RootFs::under(tmp->path());
  std::filesystem::create_directories(tmp->path() / "sys/kernel/mm/dir_not_file");
  test::write_fixture(tmp->path() / "sys/kernel/mm/value", "7\n");
  std::vector<core::Error> bad;
  EXPECT_FALSE(read_optional(fs, core::Tree::sys, "kernel/mm/absent", &bad, "absent"));
  EXPECT_TRUE(bad.empty());
  EXPECT_EQ(read_optional(fs, core::Tree::sys, "kernel/mm/value", &bad, "value"), "7\n");
  EXPECT_FALSE(read_optional(fs, core::Tree::sys, "kernel/mm/dir_not_file", &bad, "mine"));
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_EQ(bad[0].field, "mine");
  EXPECT_EQ(bad[0].path, "/sys/kernel/mm/dir_not_file");
  EXPECT_FALSE(read_optional(fs, core::Tree::sys, "kernel/mm/dir_not_file", nullptr));

  bad.clear();
  std::optional<std::uint64_t> out;
  EXPECT_TRUE(store_parsed(core::Result<std::uint64_t>(7), out, &bad));
  EXPECT_EQ(out, 7u);
  const auto e = core::make_error(core::ErrorKind::parse_error, "/x", "not a number");
  EXPECT_FALSE(store_parsed(core::Result<std::uint64_t>(e), out, &bad));
  EXPECT_EQ(out, 7u);
  EXPECT_EQ(test::error_strings(bad), std::vector<std::string>{"/x: not a number"});
  EXPECT_FALSE(store_parsed(core::Result<std::uint64_t>(e), out, nullptr));
}

// A feature's missing directory means the kernel lacks the feature; other errors stay.
TEST(SourceUtil, MissingFeatureDirectoryIsUnsupported) {
  const auto missing =
      core::make_error(core::ErrorKind::missing, "/sys/kernel/mm/hugepages", "No such file");
  const auto u = unsupported_if_missing(missing, "kernel without hugetlbfs");
  EXPECT_EQ(u.kind, core::ErrorKind::unsupported);
  EXPECT_EQ(u.to_string(), "/sys/kernel/mm/hugepages: kernel without hugetlbfs: No such file");
  auto denied = missing;
  denied.kind = core::ErrorKind::permission_denied;
  EXPECT_EQ(unsupported_if_missing(denied, "kernel without hugetlbfs").to_string(),
            denied.to_string());
}

}  // namespace
}  // namespace vmtune::collect
