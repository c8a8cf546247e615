// SPDX-License-Identifier: GPL-2.0-or-later
#include "collect/swaps.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "core/escape.hpp"
#include "core/parse.hpp"
#include "core/temp_dir.hpp"
#include "strict_support.hpp"
#include "test_support.hpp"

namespace vmtune::collect {
namespace {

using test::shared_expected;
using test::shared_fixtures;
using test::slurp;

std::vector<model::SwapDevice> parse_fixture(const std::string& rel) {
  std::vector<core::Error> bad;
  auto s = parse_swaps(slurp(shared_fixtures() / rel), "/proc/swaps", &bad);
  EXPECT_TRUE(s.ok()) << rel << ": " << (s.ok() ? "" : s.error().to_string());
  EXPECT_TRUE(bad.empty()) << rel << ": " << (bad.empty() ? "" : bad.front().to_string());
  return s.ok() ? *s : std::vector<model::SwapDevice>{};
}

// procfs and node_exporter assert "0/Filename" ... with Size/Used in kB.
TEST(Swaps, MatchesProcfsAndNodeExporterInBytes) {
  VMTUNE_REQUIRE_SHARED_FIXTURES();
  for (const std::string rel :
       {"prometheus-procfs/proc/swaps", "prometheus-node_exporter/proc/swaps"}) {
    const auto d = parse_fixture(rel);
    const auto& e = shared_expected().at(rel);
    ASSERT_EQ(d.size(), 1u) << rel;
    EXPECT_EQ(d[0].filename, e.at("0/Filename").get<std::string>());
    EXPECT_EQ(d[0].type, e.at("0/Type").get<std::string>());
    EXPECT_EQ(d[0].size, e.at("0/Size").get<std::uint64_t>() * 1024);
    EXPECT_EQ(d[0].used, e.at("0/Used").get<std::uint64_t>() * 1024);
    EXPECT_EQ(d[0].priority, e.at("0/Priority").get<std::int64_t>());
  }
}

TEST(Swaps, MatchesJcEntries) {
  VMTUNE_REQUIRE_SHARED_FIXTURES();
  const std::string rel = "kellyjonbrazil-jc/linux-proc/swaps";
  const auto d = parse_fixture(rel);
  const auto& entries = shared_expected().at(rel).at("entries");
  ASSERT_EQ(d.size(), entries.size());
  for (std::size_t i = 0; i < d.size(); ++i) {
    EXPECT_EQ(d[i].filename, entries[i].at("filename").get<std::string>());
    EXPECT_EQ(d[i].type, entries[i].at("type").get<std::string>());
    EXPECT_EQ(d[i].size, entries[i].at("size").get<std::uint64_t>() * 1024);
    EXPECT_EQ(d[i].used, entries[i].at("used").get<std::uint64_t>() * 1024);
    EXPECT_EQ(d[i].priority, entries[i].at("priority").get<std::int64_t>());
  }
}

TEST(Swaps, HeaderOnlyIsAnEmptyListNotAnError) {
  VMTUNE_REQUIRE_SHARED_FIXTURES();
  EXPECT_TRUE(parse_fixture("live-firecracker-6.18/proc/swaps").empty());
}

// The kernel escapes space, tab, newline and backslash in the path as \ooo; the name is
// decoded, stays untrusted, and is only made printable by escape_text at output time.
TEST(Swaps, OctalEscapedAndHostileFileNames) {
  std::vector<core::Error> bad;
  const std::string text =
      "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
      "/var/swap\\040file\\134x                  file\t\t1024\t\t0\t\t-2\n"
      "/dev/zram0\\033[31m                      partition\t8\t\t4\t\t100\n";
  auto d = parse_swaps(text, "/proc/swaps", &bad);
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(bad.empty());
  ASSERT_EQ(d->size(), 2u);
  EXPECT_EQ((*d)[0].filename, "/var/swap file\\x");
  EXPECT_EQ((*d)[0].size, 1024u * 1024);
  EXPECT_EQ((*d)[1].filename, "/dev/zram0\x1b[31m");
  EXPECT_EQ(core::escape_text((*d)[1].filename).find('\x1b'), std::string::npos);
  EXPECT_EQ(unescape_octal("a\\04"), "a\\04");  // cut escape kept as is
  EXPECT_EQ(unescape_octal("\\999"), "\\999");  // not octal
}

TEST(Swaps, BadFieldsAreReportedWithLineAndField) {
  const std::string text =
      "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
      "/dev/sda2 partition 12x 0 -2\n"
      "/dev/sda3 partition 100 0 high\n"
      "/dev/sda4 partition 100\n"
      "/dev/sda5 partition 100 50 -3\n";
  std::vector<core::Error> bad;
  auto d = parse_swaps(text, "/proc/swaps", &bad);
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->size(), 1u);
  EXPECT_EQ((*d)[0].filename, "/dev/sda5");
  EXPECT_EQ((*d)[0].used, 50u * 1024);
  EXPECT_EQ((*d)[0].priority, -3);
  ASSERT_EQ(bad.size(), 3u);
  EXPECT_EQ(bad[0].line, 2);
  EXPECT_EQ(bad[0].field, "Size");
  EXPECT_EQ(bad[0].to_string().rfind("/proc/swaps:2: field \"Size\": ", 0), 0u);
  EXPECT_EQ(bad[1].field, "Priority");
  EXPECT_EQ(bad[2].line, 4);
}

TEST(Swaps, EmptyGarbageTruncatedAndMissing) {
  auto empty = parse_swaps("", "/proc/swaps", nullptr);
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().kind, core::ErrorKind::parse_error);
  std::vector<core::Error> bad;
  EXPECT_FALSE(parse_swaps(std::string("\xff\xfe\0garbage\n", 11), "/proc/swaps", &bad).ok());
  EXPECT_EQ(bad.size(), 1u);
  // Truncated inside the only row: the header still proves it is /proc/swaps.
  bad.clear();
  auto cut = parse_swaps("Filename\tType\tSize\tUsed\tPriority\n/dev/dm-2   partition\t1310",
                         "/proc/swaps", &bad);
  ASSERT_TRUE(cut.ok());
  EXPECT_TRUE(cut->empty());
  EXPECT_EQ(bad.size(), 1u);

  auto tmp = core::TempDir::create("vmtune-test-");
  ASSERT_TRUE(tmp.ok());
  std::filesystem::create_directories(tmp->path() / "proc");
  model::Sample s;
  read_swaps(core::RootFs::under(tmp->path()), s);
  EXPECT_EQ(s.swaps.state, model::SourceState::missing);
  ASSERT_EQ(s.unavailable.size(), 1u);
  EXPECT_EQ(s.unavailable[0].path, "/proc/swaps");
}

TEST(Swaps, ProjectTreeAndLiveRead) {
  {
    model::Sample s;
    read_swaps(core::RootFs::under(test::test_data() / "live-debian12"), s);
    ASSERT_TRUE(s.swaps.ok()) << s.swaps.reason();
    EXPECT_EQ(s.swaps.state, model::SourceState::ok);
    EXPECT_TRUE(s.swaps.value->empty());  // the captured machine has no swap
    EXPECT_TRUE(s.unavailable.empty());
  }
  model::Sample s;
  read_swaps(core::RootFs(), s);
  ASSERT_TRUE(s.swaps.ok()) << s.swaps.reason();
  EXPECT_TRUE(s.unavailable.empty());
  std::size_t rows = 0;
  const std::string live = slurp("/proc/swaps");
  for (const auto& l : core::split_lines(live)) rows += l.number > 1 && !l.text.empty() ? 1 : 0;
  EXPECT_EQ(s.swaps.value->size(), rows);
  for (const auto& d : *s.swaps.value) EXPECT_LE(d.used, d.size) << d.filename;
}

// Strict parsing: a damaged row is left out (its device is unknown), with file, line and field,
// and the message never quotes the row (it holds an untrusted file name).
TEST(SwapsStrict, EachKindOfDamageIsAnErrorForThatRow) {
  const std::string text =
      "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
      "/dev/sda2 partition 1048572 0 -2\n"
      "/swap1 file abc 0 -3\n"                   // not a number
      "/swap2 file 99999999999999999999 0 -3\n"  // out of range
      "/swap3 file 18014398509481984 0 -3\n"     // out of range once in bytes
      "/swap4 file 1024 -1 -3\n"                 // negative used
      "/swap5 file 1024 0 1x\n"                  // trailing characters
      "/swap6 file 1024\n";                      // cut short
  std::vector<core::Error> bad;
  auto r = parse_swaps(text, "/proc/swaps", &bad);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ(r->front().filename, "/dev/sda2");
  EXPECT_EQ(
      test::error_strings(bad),
      (std::vector<std::string>{
          "/proc/swaps:3: field \"Size\": expected a size in kB: not a number",
          "/proc/swaps:4: field \"Size\": expected a size in kB: out of range",
          "/proc/swaps:5: field \"Size\": expected a size in kB: out of range",
          "/proc/swaps:6: field \"Used\": expected a used amount in kB: negative",
          "/proc/swaps:7: field \"Priority\": expected a signed priority: trailing characters "
          "after the number",
          "/proc/swaps:8: expected \"<filename> <type> <size kB> <used kB> <priority>\": too "
          "few columns",
      }));
  for (const auto& e : bad) EXPECT_EQ(e.message.find("/swap"), std::string::npos);
}

TEST(SwapsStrict, EmptyFileIsAnError) {
  auto r = parse_swaps("", "/proc/swaps", nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, core::ErrorKind::parse_error);
}

}  // namespace
}  // namespace vmtune::collect
