// SPDX-License-Identifier: GPL-2.0-or-later
#include "collect/postgres/smaps.hpp"

#include <gtest/gtest.h>

#include "test_support.hpp"

namespace vmtune::collect::postgres {
namespace {

using test::shared_expected;
using test::shared_fixtures;
using test::slurp;
using test::test_data;

std::vector<Mapping> parse_file(const std::filesystem::path& p, std::vector<core::Error>* bad) {
  auto m = parse_smaps(slurp(p), "/proc/1/smaps", bad);
  EXPECT_TRUE(m.ok()) << p << ": " << (m.ok() ? "" : m.error().to_string());
  return m.ok() ? *m : std::vector<Mapping>{};
}

// procfs asserts the sum over every mapping of these smaps fields (kB).
TEST(Smaps, SumsMatchProcfsExpectations) {
  VMTUNE_REQUIRE_SHARED_FIXTURES();
  const char* rel = "prometheus-procfs/proc/26231/smaps";
  std::vector<core::Error> bad;
  const auto maps = parse_file(shared_fixtures() / rel, &bad);
  EXPECT_TRUE(bad.empty()) << bad.front().to_string();
  int checked = 0;
  for (const auto& [key, value] : shared_expected().at(rel).items()) {
    if (key[0] == '_') continue;
    std::uint64_t sum = 0;
    for (const auto& m : maps) sum += m.field(key.c_str());
    EXPECT_EQ(sum, value.get<std::uint64_t>() * 1024) << key;
    ++checked;
  }
  EXPECT_GE(checked, 10);
}

// jc asserts every mapping: range, permissions, path, kB fields and VmFlags.
TEST(Smaps, EveryMappingMatchesJc) {
  VMTUNE_REQUIRE_SHARED_FIXTURES();
  const char* rel = "kellyjonbrazil-jc/linux-proc/pid_smaps";
  std::vector<core::Error> bad;
  const auto maps = parse_file(shared_fixtures() / rel, &bad);
  EXPECT_TRUE(bad.empty());
  const auto& entries = shared_expected().at(rel).at("entries");
  ASSERT_EQ(maps.size(), entries.size());
  for (std::size_t i = 0; i < maps.size(); ++i) {
    const auto& e = entries[i];
    const auto& m = maps[i];
    EXPECT_EQ(m.start, std::stoull(e.at("start").get<std::string>(), nullptr, 16)) << i;
    EXPECT_EQ(m.end, std::stoull(e.at("end").get<std::string>(), nullptr, 16)) << i;
    EXPECT_EQ(m.path, e.value("pathname", "")) << i;
    const bool shared = e.at("perms").back() == "shared";
    EXPECT_EQ(m.shared(), shared) << i;
    for (const char* k : {"Size", "Rss", "Pss", "Shared_Dirty", "Private_Dirty", "AnonHugePages",
                          "Shared_Hugetlb", "Swap"}) {
      EXPECT_EQ(m.field(k), e.at(k).get<std::uint64_t>() * 1024) << i << " " << k;
    }
    EXPECT_EQ(m.field("THPeligible"), e.at("THPeligible").get<std::uint64_t>()) << i;
    EXPECT_EQ(m.vm_flags, e.at("VmFlags").get<std::vector<std::string>>()) << i;
  }
}

// Captured from a PostgreSQL 15 postmaster on this machine (tests/data/postgres/README.md).
TEST(Smaps, PostgresSegmentOnBasePages) {
  const auto maps =
      parse_file(test_data() / "postgres/pg15_hugepages_off/proc/9593/smaps", nullptr);
  const auto seg = main_segment(maps, 4096);
  ASSERT_TRUE(seg);
  EXPECT_EQ(seg->mapping, "/dev/zero (deleted)");
  EXPECT_EQ(seg->size, 146016ull * 1024);
  EXPECT_EQ(seg->kernel_page_size, 4096u);
  EXPECT_EQ(seg->backing, "4k");
  EXPECT_EQ(seg->hugetlb, 0u);
  EXPECT_GT(seg->rss, 0u);
}

TEST(Smaps, PostgresSegmentInHugetlbPages) {
  const auto maps =
      parse_file(test_data() / "postgres/pg15_hugepages_on/proc/10404/smaps", nullptr);
  const auto seg = main_segment(maps, 4096);
  ASSERT_TRUE(seg);
  EXPECT_EQ(seg->mapping, "/anon_hugepage (deleted)");
  EXPECT_EQ(seg->size, 147456ull * 1024);  // 72 huge pages: shared_memory_size_in_huge_pages
  EXPECT_EQ(seg->kernel_page_size, 2048ull * 1024);
  EXPECT_EQ(seg->backing, "hugetlb");
  EXPECT_EQ(seg->hugetlb, 16384ull * 1024);
  EXPECT_EQ(seg->rss, 0u);  // hugetlb pages are not in Rss
}

TEST(Smaps, ThpBackedSegmentIsReportedAsThp) {
  // The captured 4 KiB segment with 2 MiB PMD-mapped shmem, as shmem_enabled=always gives.
  auto text = slurp(test_data() / "postgres/pg15_hugepages_off/proc/9593/smaps");
  const auto at = text.find("/dev/zero (deleted)");
  ASSERT_NE(at, std::string::npos);
  const auto pmd = text.find("ShmemPmdMapped:        0 kB", at);
  ASSERT_NE(pmd, std::string::npos);
  text.replace(pmd, 27, "ShmemPmdMapped:     4096 kB");
  auto maps = parse_smaps(text, "/proc/9593/smaps", nullptr);
  ASSERT_TRUE(maps.ok());
  const auto seg = main_segment(*maps, 4096);
  ASSERT_TRUE(seg);
  EXPECT_EQ(seg->backing, "thp");
  EXPECT_EQ(seg->pmd_mapped, 4096u * 1024);
}

TEST(Smaps, SysvSegmentAndNoSegment) {
  const std::string text =
      "7f0000000000-7f0008000000 rw-s 00000000 00:01 32768                      /SYSV0052e2c1 "
      "(deleted)\n"
      "Size:             131072 kB\nKernelPageSize:        4 kB\nRss:                  12 kB\n"
      "VmFlags: rd wr sh mr mw me ms\n"
      "7f0010000000-7f0010100000 rw-s 00000000 00:19 77                         "
      "/dev/shm/PostgreSQL.1\n"
      "Size:               1024 kB\nKernelPageSize:        4 kB\n";
  auto maps = parse_smaps(text, "/proc/5/smaps", nullptr);
  ASSERT_TRUE(maps.ok());
  const auto seg = main_segment(*maps, 4096);
  ASSERT_TRUE(seg);
  EXPECT_EQ(seg->mapping, "/SYSV0052e2c1 (deleted)");
  EXPECT_EQ(seg->size, 128ull << 20);
  const std::string private_only =
      "00400000-00500000 r-xp 00000000 fd:01 9 /bin/true\nSize: 1024 kB\n";
  auto p = parse_smaps(private_only, "/proc/5/smaps", nullptr);
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(main_segment(*p, 4096));
}

TEST(Smaps, DamagedInputIsReportedNotFatal) {
  auto empty = parse_smaps("", "/proc/7/smaps", nullptr);
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().to_string(), "/proc/7/smaps: file is empty");
  std::vector<core::Error> bad;
  auto garbage = parse_smaps(std::string("\x01\x02\xff garbage\n\0\0", 14), "/proc/7/smaps", &bad);
  EXPECT_FALSE(garbage.ok());
  bad.clear();
  const std::string text =
      "Rss: 4 kB\n"
      "7f00-7f10 rw-s 00000000 00:01 1 /dev/zero (deleted)\n"
      "Size:  12x kB\n"
      "Rss:   8 kB\n"
      "zz-yy rw-s 0 0 0\n";
  auto m = parse_smaps(text, "/proc/7/smaps", &bad);
  ASSERT_TRUE(m.ok());
  ASSERT_EQ(m->size(), 1u);
  EXPECT_EQ(m->front().field("Rss"), 8u * 1024);
  ASSERT_EQ(bad.size(), 3u);
  EXPECT_EQ(bad[0].line, 1);
  EXPECT_EQ(bad[1].field, "Size");
  EXPECT_EQ(bad[1].to_string(), "/proc/7/smaps:3: field \"Size\": expected \"<n>\" or \"<n> kB\"");
  EXPECT_EQ(bad[2].line, 5);
  // Truncated in the middle of a record: the complete mappings stay.
  auto full = slurp(test_data() / "postgres/pg15_hugepages_off/proc/9593/smaps");
  full.resize(full.size() / 2);
  bad.clear();
  auto half = parse_smaps(full, "/proc/9593/smaps", &bad);
  ASSERT_TRUE(half.ok());
  EXPECT_GT(half->size(), 10u);
  EXPECT_LE(bad.size(), 1u);
}

}  // namespace
}  // namespace vmtune::collect::postgres
