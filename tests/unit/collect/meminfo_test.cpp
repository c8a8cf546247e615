// SPDX-License-Identifier: GPL-2.0-or-later
#include "collect/meminfo.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "collect/collector.hpp"
#include "core/temp_dir.hpp"
#include "strict_support.hpp"
#include "test_support.hpp"

namespace vmtune::collect {
namespace {

using test::shared_expected;
using test::shared_fixtures;
using test::slurp;

model::MemInfo parse_fixture(const char* rel) {
  std::vector<core::Error> bad;
  auto m = parse_meminfo(slurp(shared_fixtures() / rel), "/proc/meminfo", &bad);
  EXPECT_TRUE(m.ok()) << rel;
  EXPECT_TRUE(bad.empty()) << rel << ": " << (bad.empty() ? "" : bad.front().to_string());
  return m.ok() ? *m : model::MemInfo{};
}

// procfs asserts every raw field in kB (HugePages_* as counts): we must give kB*1024 bytes.
TEST(Meminfo, MatchesProcfsExpectationsFieldByField) {
  VMTUNE_REQUIRE_SHARED_FIXTURES();
  const char* rel = "prometheus-procfs/proc/meminfo";
  const auto m = parse_fixture(rel);
  int checked = 0;
  for (const auto& [key, value] : shared_expected().at(rel).items()) {
    if (key.empty() || key[0] == '_' || !value.is_number_unsigned()) continue;
    ASSERT_TRUE(m.fields.count(key)) << key;
    const std::uint64_t want = value.get<std::uint64_t>();
    EXPECT_EQ(m.fields.at(key), key.rfind("HugePages_", 0) == 0 ? want : want * 1024) << key;
    ++checked;
  }
  EXPECT_GT(checked, 30);
}

// go-sysinfo and elastic-agent assert bytes and a few derived values.
TEST(Meminfo, MatchesElasticExpectationsInBytes) {
  VMTUNE_REQUIRE_SHARED_FIXTURES();
  const auto& e1 = shared_expected().at("elastic-go-sysinfo/ubuntu1710/proc/meminfo");
  EXPECT_EQ(parse_fixture("elastic-go-sysinfo/ubuntu1710/proc/meminfo").fields.at("MemTotal"),
            e1.at("MemTotal_bytes").get<std::uint64_t>());
  const char* rel = "elastic-agent-system-metrics/memory/oldkern/proc/meminfo";
  const auto& e2 = shared_expected().at(rel);
  const auto m = parse_fixture(rel);
  EXPECT_EQ(m.fields.at("MemTotal"), e2.at("Total").get<std::uint64_t>());
  EXPECT_EQ(m.fields.at("MemFree"), e2.at("Free").get<std::uint64_t>());
  EXPECT_EQ(m.fields.at("SwapTotal"), e2.at("Swap.Total").get<std::uint64_t>());
  EXPECT_EQ(m.fields.at("Zswap"), e2.at("Zswap.Compressed").get<std::uint64_t>());
  EXPECT_EQ(m.fields.at("Zswapped"), e2.at("Zswap.Uncompressed").get<std::uint64_t>());
  EXPECT_EQ(m.fields.count("MemAvailable"), 0u);
  EXPECT_EQ(m.fields.at("MemFree") + m.fields.at("Buffers") + m.fields.at("Cached"),
            e2.at("Actual.Free").get<std::uint64_t>());
}

TEST(Meminfo, AbsentFieldStaysAbsent) {
  VMTUNE_REQUIRE_SHARED_FIXTURES();
  const auto text = slurp(shared_fixtures() / "prometheus-procfs/proc/meminfo");
  auto m = parse_meminfo(text, "/proc/meminfo", nullptr);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->fields.count("MemAvailable"), 0u);
  EXPECT_EQ(m->fields.at("MemTotal"), 15666184ull * 1024);
}

TEST(Meminfo, BadLineIsReportedWithLineAndFieldAndTheRestKept) {
  const std::string text =
      "MemTotal:       16 kB\n"
      "MemFree:        12x kB\n"
      "Cached:         4 kB\n"
      "HugePages_Total:       3\n"
      "Weird:          5 MB\n"
      "garbage line without colon\n";
  std::vector<core::Error> bad;
  auto m = parse_meminfo(text, "/proc/meminfo", &bad);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->fields.at("MemTotal"), 16u * 1024);
  EXPECT_EQ(m->fields.at("Cached"), 4u * 1024);
  EXPECT_EQ(m->fields.at("HugePages_Total"), 3u);
  EXPECT_EQ(m->fields.count("MemFree"), 0u);
  ASSERT_EQ(bad.size(), 3u);
  EXPECT_EQ(bad[0].line, 2);
  EXPECT_EQ(bad[0].field, "MemFree");
  EXPECT_EQ(bad[0].to_string(),
            "/proc/meminfo:2: field \"MemFree\": expected \"<n> kB\": trailing characters after "
            "the number");
  EXPECT_EQ(bad[1].field, "Weird");
  EXPECT_EQ(bad[2].line, 6);
}

TEST(Meminfo, EmptyAndGarbageFilesAreErrors) {
  auto empty = parse_meminfo("", "/proc/meminfo", nullptr);
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().kind, core::ErrorKind::parse_error);
  EXPECT_EQ(empty.error().to_string(), "/proc/meminfo: file is empty");
  std::vector<core::Error> bad;
  auto garbage = parse_meminfo(std::string("\x01\x02\xff\n\0\0", 6), "/proc/meminfo", &bad);
  EXPECT_FALSE(garbage.ok());
}

TEST(Meminfo, TruncatedFileKeepsCompleteLines) {
  VMTUNE_REQUIRE_SHARED_FIXTURES();
  auto text = slurp(shared_fixtures() / "prometheus-procfs/proc/meminfo");
  text.resize(text.size() / 2);
  std::vector<core::Error> bad;
  auto m = parse_meminfo(text, "/proc/meminfo", &bad);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->fields.at("MemTotal"), 15666184ull * 1024);
  EXPECT_LE(bad.size(), 1u);  // at most the cut line
}

TEST(Meminfo, MissingFileBecomesUnavailableNotACrash) {
  auto tmp = core::TempDir::create("vmtune-test-");
  ASSERT_TRUE(tmp.ok());
  std::filesystem::create_directories(tmp->path() / "proc");
  const auto fs = core::RootFs::under(tmp->path());
  model::Sample s;
  read_meminfo(fs, s);
  EXPECT_FALSE(s.meminfo.ok());
  EXPECT_EQ(s.meminfo.state, model::SourceState::missing);
  ASSERT_EQ(s.unavailable.size(), 1u);
  EXPECT_EQ(s.unavailable[0].path, "/proc/meminfo");  // logical path, not the temp dir
}

TEST(Meminfo, LiveReadHasTheBasics) {
  model::Sample s;
  read_meminfo(core::RootFs(), s);
  ASSERT_TRUE(s.meminfo.ok()) << s.meminfo.reason();
  const auto& f = s.meminfo.value->fields;
  ASSERT_TRUE(f.count("MemTotal"));
  EXPECT_GT(f.at("MemTotal"), 64ull << 20);
  EXPECT_LE(f.at("MemFree"), f.at("MemTotal"));
}

// Strict parsing: every class of damage makes that field absent, with an error naming the
// file, the line and the field, and a message that never quotes the content.
TEST(MeminfoStrict, EachKindOfDamageIsAnErrorForThatFieldOnly) {
  const std::string text =
      "MemTotal:       16 kB\n"
      "MemFree:        abc kB\n"                   // not a number
      "Buffers:\n"                                 // empty
      "Cached:         99999999999999999999 kB\n"  // out of range (u64)
      "SwapCached:     18014398509481984 kB\n"     // out of range once in bytes (2^54 KiB)
      "Active:         -5 kB\n"                    // negative
      "Inactive:       12 kB junk\n"               // trailing characters
      "Dirty:          24\n"                       // unit missing
      "Writeback:      7 MB\n"                     // another unit
      "HugePages_Total:       3 kB\n"              // a count with a unit
      "HugePages_Free:        2\n"
      "Hugepagesize:       2048 kB\n";
  std::vector<core::Error> bad;
  auto m = parse_meminfo(text, "/proc/meminfo", &bad);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->fields,
            (model::Counters{
                {"MemTotal", 16u * 1024}, {"HugePages_Free", 2u}, {"Hugepagesize", 2048u * 1024}}));
  EXPECT_EQ(test::error_strings(bad),
            (std::vector<std::string>{
                "/proc/meminfo:2: field \"MemFree\": expected \"<n> kB\": not a number",
                "/proc/meminfo:3: field \"Buffers\": expected \"<n> kB\": empty",
                "/proc/meminfo:4: field \"Cached\": expected \"<n> kB\": out of range",
                "/proc/meminfo:5: field \"SwapCached\": expected \"<n> kB\": out of range "
                "(overflows 64 bits in bytes)",
                "/proc/meminfo:6: field \"Active\": expected \"<n> kB\": negative",
                "/proc/meminfo:7: field \"Inactive\": expected \"<n> kB\": trailing characters "
                "after the number",
                "/proc/meminfo:8: field \"Dirty\": expected \"<n> kB\": the unit is missing",
                "/proc/meminfo:9: field \"Writeback\": expected \"<n> kB\": unknown unit",
                "/proc/meminfo:10: field \"HugePages_Total\": expected \"<n>\": unexpected unit",
            }));
  for (const auto& e : bad) EXPECT_EQ(e.kind, core::ErrorKind::parse_error);
}

// The reported case: the last line cut to "MemTotal:  2468" is not 2,468 bytes.
TEST(MeminfoStrict, LastLineCutBeforeTheUnitIsNotAValue) {
  std::vector<core::Error> bad;
  auto m =
      parse_meminfo("MemFree:  1024 kB\nCached:  512 kB\nMemTotal:  2468", "/proc/meminfo", &bad);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->fields.count("MemTotal"), 0u);
  EXPECT_EQ(m->fields.at("MemFree"), 1024u * 1024);
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_EQ(bad[0].path, "/proc/meminfo");
  EXPECT_EQ(bad[0].line, 3);
  EXPECT_EQ(bad[0].field, "MemTotal");
  EXPECT_EQ(bad[0].message, "expected \"<n> kB\": the unit is missing");
}

// A field with one good and one bad line is damaged: neither value is trusted.
TEST(MeminfoStrict, FieldWithAnyBadLineIsLeftOut) {
  std::vector<core::Error> bad;
  auto m = parse_meminfo("MemTotal:  8 kB\nMemFree:  4 kB\nMemTotal:  80\n", "/proc/meminfo", &bad);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->fields.count("MemTotal"), 0u);
  EXPECT_EQ(m->fields.at("MemFree"), 4u * 1024);
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_EQ(bad[0].line, 3);
}

TEST(MeminfoStrict, EmptyOrOnlyDamagedFileIsAnErrorAndEveryLineIsReported) {
  for (const char* empty : {"", "\n\n", "  \t\n"}) {
    auto r = parse_meminfo(empty, "/proc/meminfo", nullptr);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().to_string(), "/proc/meminfo: file is empty");
  }
  auto tmp = core::TempDir::create("vmtune-test-");
  ASSERT_TRUE(tmp.ok());
  std::filesystem::create_directories(tmp->path() / "proc");
  std::ofstream(tmp->path() / "proc/meminfo") << "MemTotal:  2468";  // the only line, cut
  model::Sample s;
  read_meminfo(core::RootFs::under(tmp->path()), s);
  EXPECT_FALSE(s.meminfo.ok());
  EXPECT_EQ(s.meminfo.state, model::SourceState::parse_error);
  EXPECT_EQ(test::unavailable_strings(s),
            (std::vector<std::string>{
                "meminfo|/proc/meminfo|0||no valid \"Key: <n> kB\" line found",
                "meminfo|/proc/meminfo|1|MemTotal|expected \"<n> kB\": the unit is missing"}));
}

TEST(MeminfoStrict, DamagedFieldInATreeIsUnavailableWithFileLineAndField) {
  auto tmp = core::TempDir::create("vmtune-test-");
  ASSERT_TRUE(tmp.ok());
  std::filesystem::create_directories(tmp->path() / "proc");
  std::ofstream(tmp->path() / "proc/meminfo") << "MemTotal:  8 kB\nMemFree:  x kB\n";
  model::Sample s;
  read_meminfo(core::RootFs::under(tmp->path()), s);
  ASSERT_TRUE(s.meminfo.ok());
  EXPECT_EQ(s.meminfo.value->fields.count("MemFree"), 0u);
  EXPECT_EQ(test::unavailable_strings(s),
            (std::vector<std::string>{
                "meminfo|/proc/meminfo|2|MemFree|expected \"<n> kB\": not a number"}));
}

}  // namespace
}  // namespace vmtune::collect
