// SPDX-License-Identifier: GPL-2.0-or-later
#include "collect/hugepages.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "collect/numa.hpp"
#include "core/temp_dir.hpp"
#include "strict_support.hpp"
#include "test_support.hpp"

namespace vmtune::collect {
namespace {

namespace fs = std::filesystem;
using test::shared_expected;
using test::shared_fixtures;
using test::slurp;
using test::write_fixture;

const model::HugePagePool* find_pool(const std::vector<model::HugePagePool>& pools,
                                     std::uint64_t kb) {
  for (const auto& p : pools) {
    if (p.page_size == kb * 1024) return &p;
  }
  return nullptr;
}

TEST(Hugepages, DirectoryNameGivesPageSizeInBytes) {
  EXPECT_EQ(*parse_hugepage_dir_size("hugepages-2048kB", "x"), 2048u * 1024);
  EXPECT_EQ(*parse_hugepage_dir_size("hugepages-1048576kB", "x"), 1ull << 30);
  EXPECT_EQ(*parse_hugepage_dir_size("hugepages-64kB", "x"), 64u * 1024);
  for (const char* bad : {"hugepages-kB", "hugepages-12MB", "hugepages--1kB", "hugepages-0kB",
                          "foo", "hugepages-99999999999999999999kB", ""}) {
    auto r = parse_hugepage_dir_size(bad, "/sys/kernel/mm/hugepages/x");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().kind, core::ErrorKind::parse_error);
  }
}

TEST(Hugepages, OneValueFiles) {
  EXPECT_EQ(*parse_sysfs_u64("2000\n", "x"), 2000u);
  EXPECT_EQ(*parse_sysfs_u64("0", "x"), 0u);
  EXPECT_EQ(parse_sysfs_u64("", "/sys/a").error().to_string(), "/sys/a: file is empty");
  EXPECT_FALSE(parse_sysfs_u64("12a\n", "x").ok());
  EXPECT_FALSE(parse_sysfs_u64("-1\n", "x").ok());
  EXPECT_FALSE(parse_sysfs_u64("1 2\n", "x").ok());
}

// PCP qa/1788 asserts kB: pagesize, totalsize = nr*pagesize, free/reserved/surplus likewise.
void check_pcp_dataset(const std::string& dataset) {
  const std::string key = "performancecopilot-pcp/" + dataset + "/sys/kernel/mm/hugepages/";
  const auto& e = shared_expected().at(key);
  model::Sample s;
  read_hugepages(core::RootFs::under(shared_fixtures() / "performancecopilot-pcp" / dataset), s);
  ASSERT_TRUE(s.hugepages.ok()) << s.hugepages.reason();
  EXPECT_TRUE(s.unavailable.empty());
  const auto& pools = *s.hugepages.value;
  ASSERT_EQ(pools.size(), e.at("mem.hugepages.pagesize").size()) << dataset;
  int checked = 0;
  for (const auto& [inst, kb_json] : e.at("mem.hugepages.pagesize").items()) {
    const std::uint64_t kb = kb_json.get<std::uint64_t>();
    const auto* p = find_pool(pools, kb);
    ASSERT_NE(p, nullptr) << dataset << " " << inst;
    ASSERT_TRUE(p->nr && p->free && p->resv && p->surplus && p->overcommit) << inst;
    EXPECT_EQ(*p->nr * kb, e.at("mem.hugepages.totalsize").at(inst).get<std::uint64_t>()) << inst;
    EXPECT_EQ(*p->free * kb, e.at("mem.hugepages.free").at(inst).get<std::uint64_t>()) << inst;
    EXPECT_EQ(*p->resv * kb, e.at("mem.hugepages.reserved").at(inst).get<std::uint64_t>()) << inst;
    EXPECT_EQ(*p->surplus * kb, e.at("mem.hugepages.surplus").at(inst).get<std::uint64_t>())
        << inst;
    // PCP's mem.hugepages.overcommit is not the file (001 has 100 and 5 where PCP prints 0):
    // check the count against the raw file instead.
    const auto dir = shared_fixtures() / "performancecopilot-pcp" / dataset /
                     "sys/kernel/mm/hugepages" / ("hugepages-" + inst);
    EXPECT_EQ(*p->overcommit, std::stoull(slurp(dir / "nr_overcommit_hugepages"))) << inst;
    ++checked;
  }
  EXPECT_GE(checked, 2);
  for (std::size_t i = 1; i < pools.size(); ++i) {
    EXPECT_LT(pools[i - 1].page_size, pools[i].page_size);  // sorted by size
  }
}

TEST(Hugepages, MatchesPcp001) {
  VMTUNE_REQUIRE_SHARED_FIXTURES();
  check_pcp_dataset("sysfs-hugepages-001");
}
TEST(Hugepages, MatchesPcp002) {
  VMTUNE_REQUIRE_SHARED_FIXTURES();
  check_pcp_dataset("sysfs-hugepages-002");
}
TEST(Hugepages, MatchesPcp003) {
  VMTUNE_REQUIRE_SHARED_FIXTURES();
  check_pcp_dataset("sysfs-hugepages-003");
}

// 003 also has per-node pools (no resv/overcommit files there); NUMA reads them.
TEST(Hugepages, PerNodePoolsOfPcp003) {
  VMTUNE_REQUIRE_SHARED_FIXTURES();
  const auto& e =
      shared_expected().at("performancecopilot-pcp/sysfs-hugepages-003/sys/kernel/mm/hugepages/");
  model::Sample s;
  read_numa(core::RootFs::under(shared_fixtures() / "performancecopilot-pcp/sysfs-hugepages-003"),
            s);
  ASSERT_TRUE(s.numa.ok()) << s.numa.reason();
  ASSERT_EQ(s.numa.value->nodes.size(), 1u);
  const auto& node = s.numa.value->nodes[0];
  EXPECT_EQ(node.id, 0);
  ASSERT_EQ(node.hugepages.size(), 4u);
  for (const auto& [inst, kb_json] : e.at("mem.numa.hugepages.pagesize").items()) {
    const std::uint64_t kb = kb_json.get<std::uint64_t>();
    const auto* p = find_pool(node.hugepages, kb);
    ASSERT_NE(p, nullptr) << inst;
    ASSERT_TRUE(p->nr && p->free && p->surplus);
    EXPECT_FALSE(p->resv.has_value());  // per-node directories have no resv_hugepages
    EXPECT_FALSE(p->overcommit.has_value());
    EXPECT_EQ(*p->nr * kb, e.at("mem.numa.hugepages.totalsize").at(inst).get<std::uint64_t>());
    EXPECT_EQ(*p->free * kb, e.at("mem.numa.hugepages.free").at(inst).get<std::uint64_t>());
    EXPECT_EQ(*p->surplus * kb, e.at("mem.numa.hugepages.surplus").at(inst).get<std::uint64_t>());
  }
}

// A pool read from a tree must equal the raw files, field by field.
void expect_tree_matches_files(const fs::path& sys_root, const model::Sample& s) {
  ASSERT_TRUE(s.hugepages.ok()) << s.hugepages.reason();
  std::size_t dirs = 0;
  for (const auto& d : fs::directory_iterator(sys_root / "kernel/mm/hugepages")) {
    ++dirs;
    const auto name = d.path().filename().string();
    const std::uint64_t kb = std::stoull(name.substr(10));
    const auto* p = find_pool(*s.hugepages.value, kb);
    ASSERT_NE(p, nullptr) << name;
    EXPECT_EQ(*p->nr, std::stoull(slurp(d.path() / "nr_hugepages"))) << name;
    EXPECT_EQ(*p->free, std::stoull(slurp(d.path() / "free_hugepages"))) << name;
    EXPECT_EQ(*p->resv, std::stoull(slurp(d.path() / "resv_hugepages"))) << name;
    EXPECT_EQ(*p->surplus, std::stoull(slurp(d.path() / "surplus_hugepages"))) << name;
    EXPECT_EQ(*p->overcommit, std::stoull(slurp(d.path() / "nr_overcommit_hugepages"))) << name;
  }
  EXPECT_EQ(s.hugepages.value->size(), dirs);
  EXPECT_GE(dirs, 1u);
}

TEST(Hugepages, FirecrackerCaptureHas2MiBAnd1GiBPools) {
  VMTUNE_REQUIRE_SHARED_FIXTURES();
  const auto root = shared_fixtures() / "live-firecracker-6.18";
  model::Sample s;
  read_hugepages(core::RootFs::under(root), s);
  expect_tree_matches_files(root / "sys", s);
  ASSERT_EQ(s.hugepages.value->size(), 2u);
  EXPECT_EQ(s.hugepages.value->at(0).page_size, 2u << 20);
  EXPECT_EQ(s.hugepages.value->at(1).page_size, 1u << 30);
}

TEST(Hugepages, ProjectTreeOfThisMachineKind) {
  const auto root = test::test_data() / "live-debian12";
  model::Sample s;
  read_hugepages(core::RootFs::under(root), s);
  expect_tree_matches_files(root / "sys", s);
}

TEST(Hugepages, LiveReadMatchesSysfs) {
  model::Sample s;
  read_hugepages(core::RootFs(), s);
  if (!fs::exists("/sys/kernel/mm/hugepages")) {
    EXPECT_EQ(s.hugepages.state, model::SourceState::unsupported);
    return;
  }
  expect_tree_matches_files("/sys", s);
  EXPECT_EQ(s.hugepages.value->front().page_size, 2u << 20);  // x86-64 always has 2 MiB
}

TEST(Hugepages, MissingDirectoryIsUnsupportedWithReason) {
  auto tmp = core::TempDir::create("vmtune-test-");
  ASSERT_TRUE(tmp.ok());
  fs::create_directories(tmp->path() / "sys/kernel/mm");
  model::Sample s;
  read_hugepages(core::RootFs::under(tmp->path()), s);
  EXPECT_FALSE(s.hugepages.ok());
  EXPECT_EQ(s.hugepages.state, model::SourceState::unsupported);
  ASSERT_EQ(s.unavailable.size(), 1u);
  EXPECT_EQ(s.unavailable[0].path, "/sys/kernel/mm/hugepages");
  EXPECT_NE(s.unavailable[0].reason.find("CONFIG_HUGETLBFS"), std::string::npos);
}

TEST(Hugepages, DamagedFilesAreReportedAndTheRestKept) {
  auto tmp = core::TempDir::create("vmtune-test-");
  ASSERT_TRUE(tmp.ok());
  const auto d = tmp->path() / "sys/kernel/mm/hugepages";
  write_fixture(d / "hugepages-2048kB/nr_hugepages", "garbage\n");  // garbage
  write_fixture(d / "hugepages-2048kB/free_hugepages", "");         // empty (truncated to nothing)
  write_fixture(d / "hugepages-2048kB/resv_hugepages", "3\n");
  write_fixture(d / "hugepages-2048kB/surplus_hugepages", "1");  // no newline is fine
  // nr_overcommit_hugepages missing: absent, not an error
  write_fixture(d / "hugepages-1048576kB/nr_hugepages", "4\n");
  write_fixture(d / "hugepages-bogus/nr_hugepages", "4\n");  // bad directory name
  model::Sample s;
  read_hugepages(core::RootFs::under(tmp->path()), s);
  ASSERT_TRUE(s.hugepages.ok());
  const auto& pools = *s.hugepages.value;
  ASSERT_EQ(pools.size(), 2u);
  EXPECT_FALSE(pools[0].nr.has_value());
  EXPECT_FALSE(pools[0].free.has_value());
  EXPECT_EQ(*pools[0].resv, 3u);
  EXPECT_EQ(*pools[0].surplus, 1u);
  EXPECT_FALSE(pools[0].overcommit.has_value());
  EXPECT_EQ(*pools[1].nr, 4u);
  ASSERT_EQ(s.unavailable.size(), 3u);
  EXPECT_EQ(s.unavailable[0].path, "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages");
  EXPECT_EQ(s.unavailable[0].line, 1);
  EXPECT_EQ(s.unavailable[0].field, "nr_hugepages");
  EXPECT_EQ(s.unavailable[0].reason, "expected an unsigned integer: not a number");
  EXPECT_EQ(s.unavailable[1].field, "free_hugepages");
  EXPECT_EQ(s.unavailable[1].reason, "file is empty");
  EXPECT_EQ(s.unavailable[1].path, "/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages");
  EXPECT_EQ(s.unavailable[2].path, "/sys/kernel/mm/hugepages/hugepages-bogus");
}

// Strict parsing: each count file is one unsigned number; the error names file, line and field.
TEST(HugepagesStrict, EachKindOfDamageIsAnErrorForThatCount) {
  const auto error = [](const std::string& text) {
    auto r = parse_sysfs_u64(text, "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages",
                             "nr_hugepages");
    EXPECT_FALSE(r.ok()) << text;
    return r.ok() ? std::string() : r.error().to_string();
  };
  const std::string at = "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages";
  EXPECT_EQ(error(""), at + ": field \"nr_hugepages\": file is empty");
  EXPECT_EQ(error("abc\n"),
            at + ":1: field \"nr_hugepages\": expected an unsigned integer: not a number");
  EXPECT_EQ(error("99999999999999999999\n"),
            at + ":1: field \"nr_hugepages\": expected an unsigned integer: out of range");
  EXPECT_EQ(error("-1\n"),
            at + ":1: field \"nr_hugepages\": expected an unsigned integer: negative");
  EXPECT_EQ(error("12 kB\n"),
            at + ":1: field \"nr_hugepages\": expected an unsigned integer: trailing characters "
                 "after the number");
}

}  // namespace
}  // namespace vmtune::collect
