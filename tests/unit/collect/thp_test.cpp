// SPDX-License-Identifier: GPL-2.0-or-later
#include "collect/thp.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

#include "core/parse.hpp"
#include "core/temp_dir.hpp"
#include "strict_support.hpp"
#include "test_support.hpp"

namespace vmtune::collect {
namespace {

namespace fs = std::filesystem;
using test::shared_fixtures;
using test::slurp;
using test::write_fixture;

TEST(Thp, SelectionIsTheBracketedWord) {
  EXPECT_EQ(*parse_thp_selection("always [madvise] never\n", "x"), "madvise");
  EXPECT_EQ(*parse_thp_selection("always defer defer+madvise [madvise] never\n", "x"), "madvise");
  EXPECT_EQ(*parse_thp_selection("always inherit madvise [never]\n", "x"), "never");
  EXPECT_EQ(*parse_thp_selection("always within_size advise [never] deny force", "x"), "never");
  auto none =
      parse_thp_selection("always madvise never\n", "/sys/kernel/mm/transparent_hugepage/enabled");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().kind, core::ErrorKind::parse_error);
  EXPECT_EQ(none.error().to_string(),
            "/sys/kernel/mm/transparent_hugepage/enabled:1: expected a bracketed selection such as "
            "\"always [madvise] never\": no bracketed word");
  EXPECT_EQ(parse_thp_selection("", "/x").error().to_string(), "/x: file is empty");
  EXPECT_FALSE(parse_thp_selection("always [madv", "x").ok());  // truncated
}

// Every value must equal what the raw files say: selections, numbers, khugepaged, mTHP sizes.
void expect_matches_files(const fs::path& thp_dir, const model::Sample& s) {
  ASSERT_TRUE(s.thp.ok()) << s.thp.reason();
  const auto& t = *s.thp.value;
  EXPECT_EQ(t.enabled, core::bracketed_choice(slurp(thp_dir / "enabled")));
  EXPECT_EQ(t.defrag, core::bracketed_choice(slurp(thp_dir / "defrag")));
  EXPECT_EQ(t.shmem_enabled, core::bracketed_choice(slurp(thp_dir / "shmem_enabled")));
  ASSERT_TRUE(t.hpage_pmd_size.has_value());
  EXPECT_EQ(*t.hpage_pmd_size, std::stoull(slurp(thp_dir / "hpage_pmd_size")));
  ASSERT_TRUE(t.use_zero_page.has_value());
  EXPECT_EQ(*t.use_zero_page, std::stoull(slurp(thp_dir / "use_zero_page")));
  std::size_t kh = 0;
  for (const auto& f : fs::directory_iterator(thp_dir / "khugepaged")) {
    ++kh;
    const auto name = f.path().filename().string();
    ASSERT_TRUE(t.khugepaged.count(name)) << name;
    // Counters such as full_scans move on a live machine; settings must match exactly.
    if (name != "full_scans" && name != "pages_collapsed") {
      EXPECT_EQ(t.khugepaged.at(name), std::string(core::trim(slurp(f.path())))) << name;
    }
  }
  EXPECT_EQ(t.khugepaged.size(), kh);
  EXPECT_GE(kh, 5u);
  std::size_t sizes = 0;
  for (const auto& d : fs::directory_iterator(thp_dir)) {
    const auto name = d.path().filename().string();
    if (name.rfind("hugepages-", 0) != 0) continue;
    ++sizes;
    ASSERT_TRUE(t.per_size.count(name)) << name;
    const auto& files = t.per_size.at(name);
    for (const char* file : {"enabled", "shmem_enabled"}) {
      if (fs::exists(d.path() / file)) {
        ASSERT_TRUE(files.count(file)) << name << "/" << file;
        EXPECT_EQ(files.at(file), core::bracketed_choice(slurp(d.path() / file)));
      } else {
        EXPECT_EQ(files.count(file), 0u) << name << "/" << file;
      }
    }
  }
  EXPECT_EQ(t.per_size.size(), sizes);
}

TEST(Thp, FirecrackerCapture) {
  VMTUNE_REQUIRE_SHARED_FIXTURES();
  const auto root = shared_fixtures() / "live-firecracker-6.18";
  model::Sample s;
  read_thp(core::RootFs::under(root), s);
  expect_matches_files(root / "sys/kernel/mm/transparent_hugepage", s);
  const auto& t = *s.thp.value;
  EXPECT_EQ(t.enabled, "madvise");
  EXPECT_EQ(t.defrag, "madvise");
  EXPECT_EQ(t.shmem_enabled, "never");
  EXPECT_EQ(*t.hpage_pmd_size, 2u << 20);
  EXPECT_EQ(*t.use_zero_page, 1u);
  EXPECT_EQ(t.khugepaged.at("max_ptes_none"), "511");
  EXPECT_EQ(t.per_size.size(), 9u);
  // order-1 (8 kB) is shmem-only: no anonymous "enabled" file
  EXPECT_EQ(t.per_size.at("hugepages-8kB").count("enabled"), 0u);
  EXPECT_EQ(t.per_size.at("hugepages-8kB").count("shmem_enabled"), 1u);
  EXPECT_TRUE(s.unavailable.empty());
}

TEST(Thp, ProjectTreeOfThisMachineKind) {
  const auto root = test::test_data() / "live-debian12";
  model::Sample s;
  read_thp(core::RootFs::under(root), s);
  expect_matches_files(root / "sys/kernel/mm/transparent_hugepage", s);
  EXPECT_TRUE(s.unavailable.empty());
}

TEST(Thp, LiveReadMatchesSysfs) {
  model::Sample s;
  read_thp(core::RootFs(), s);
  if (!fs::exists("/sys/kernel/mm/transparent_hugepage")) {
    EXPECT_EQ(s.thp.state, model::SourceState::unsupported);
    return;
  }
  expect_matches_files("/sys/kernel/mm/transparent_hugepage", s);
}

TEST(Thp, KernelWithoutThpIsUnsupportedWithReason) {
  auto tmp = core::TempDir::create("vmtune-test-");
  ASSERT_TRUE(tmp.ok());
  fs::create_directories(tmp->path() / "sys/kernel/mm");
  model::Sample s;
  read_thp(core::RootFs::under(tmp->path()), s);
  EXPECT_FALSE(s.thp.ok());
  EXPECT_EQ(s.thp.state, model::SourceState::unsupported);
  ASSERT_EQ(s.unavailable.size(), 1u);
  EXPECT_EQ(s.unavailable[0].source, "thp");
  EXPECT_EQ(s.unavailable[0].path, "/sys/kernel/mm/transparent_hugepage");
  EXPECT_NE(s.unavailable[0].reason.find("CONFIG_TRANSPARENT_HUGEPAGE"), std::string::npos);
}

TEST(Thp, GarbageEnabledFailsTheSection) {
  auto tmp = core::TempDir::create("vmtune-test-");
  ASSERT_TRUE(tmp.ok());
  const auto d = tmp->path() / "sys/kernel/mm/transparent_hugepage";
  write_fixture(d / "enabled", std::string("\x01\xff garbage\n"));
  write_fixture(d / "defrag", "always [madvise] never\n");
  model::Sample s;
  read_thp(core::RootFs::under(tmp->path()), s);
  EXPECT_EQ(s.thp.state, model::SourceState::parse_error);
  ASSERT_EQ(s.unavailable.size(), 1u);
  EXPECT_EQ(s.unavailable[0].path, "/sys/kernel/mm/transparent_hugepage/enabled");
}

TEST(Thp, DamagedOtherFilesAreReportedAndTheRestKept) {
  auto tmp = core::TempDir::create("vmtune-test-");
  ASSERT_TRUE(tmp.ok());
  const auto d = tmp->path() / "sys/kernel/mm/transparent_hugepage";
  write_fixture(d / "enabled", "always [madvise] never\n");
  write_fixture(d / "defrag", "always defer [defe");  // truncated
  write_fixture(d / "shmem_enabled", "");             // empty
  write_fixture(d / "hpage_pmd_size", "2097152x\n");  // garbage
  // use_zero_page missing (older kernel): absent, no error
  write_fixture(d / "khugepaged/pages_to_scan", "4096\n");
  write_fixture(d / "hugepages-64kB/enabled", "always inherit [madvise] never\n");
  write_fixture(d / "hugepages-64kB/shmem_enabled", "nonsense\n");
  model::Sample s;
  read_thp(core::RootFs::under(tmp->path()), s);
  ASSERT_TRUE(s.thp.ok());
  const auto& t = *s.thp.value;
  EXPECT_EQ(t.enabled, "madvise");
  EXPECT_EQ(t.defrag, "");
  EXPECT_EQ(t.shmem_enabled, "");
  EXPECT_FALSE(t.hpage_pmd_size.has_value());
  EXPECT_FALSE(t.use_zero_page.has_value());
  EXPECT_EQ(t.khugepaged.at("pages_to_scan"), "4096");
  EXPECT_EQ(t.per_size.at("hugepages-64kB").at("enabled"), "madvise");
  EXPECT_EQ(t.per_size.at("hugepages-64kB").count("shmem_enabled"), 0u);
  ASSERT_EQ(s.unavailable.size(), 4u);
  EXPECT_EQ(s.unavailable[0].path, "/sys/kernel/mm/transparent_hugepage/defrag");
  EXPECT_EQ(s.unavailable[1].path, "/sys/kernel/mm/transparent_hugepage/shmem_enabled");
  EXPECT_EQ(s.unavailable[2].path, "/sys/kernel/mm/transparent_hugepage/hpage_pmd_size");
  EXPECT_EQ(s.unavailable[3].path,
            "/sys/kernel/mm/transparent_hugepage/hugepages-64kB/shmem_enabled");
}

// Strict parsing: every khugepaged file and hpage_pmd_size is a number; damage is an error for
// that file, named by its path below transparent_hugepage.
TEST(ThpStrict, NumbersMustBeNumbersAndErrorsNameTheFile) {
  auto tmp = core::TempDir::create("vmtune-test-");
  ASSERT_TRUE(tmp.ok());
  const auto d = tmp->path() / "sys/kernel/mm/transparent_hugepage";
  write_fixture(d / "enabled", "always [madvise] never\n");
  write_fixture(d / "defrag", "\n");                              // empty
  write_fixture(d / "hpage_pmd_size", "99999999999999999999\n");  // out of range
  write_fixture(d / "use_zero_page", "-1\n");                     // negative
  write_fixture(d / "khugepaged/pages_to_scan", "abc\n");         // not a number
  write_fixture(d / "khugepaged/max_ptes_none", "");              // empty
  write_fixture(d / "khugepaged/defrag", "1\n");
  model::Sample s;
  read_thp(core::RootFs::under(tmp->path()), s);
  ASSERT_TRUE(s.thp.ok());
  const auto& t = *s.thp.value;
  EXPECT_EQ(t.defrag, "");
  EXPECT_FALSE(t.hpage_pmd_size);
  EXPECT_FALSE(t.use_zero_page);
  EXPECT_EQ(t.khugepaged, (std::map<std::string, std::string>{{"defrag", "1"}}));
  auto entries = test::unavailable_strings(s);
  std::sort(entries.begin(), entries.end());
  const std::string dir = "thp|/sys/kernel/mm/transparent_hugepage/";
  EXPECT_EQ(entries,
            (std::vector<std::string>{
                dir + "defrag|0|defrag|file is empty",
                dir + "hpage_pmd_size|1|hpage_pmd_size|expected an unsigned integer: out of range",
                dir + "khugepaged/max_ptes_none|0|khugepaged/max_ptes_none|file is empty",
                dir + "khugepaged/pages_to_scan|1|khugepaged/pages_to_scan|expected an unsigned "
                      "integer: not a number",
                dir + "use_zero_page|1|use_zero_page|expected an unsigned integer: negative",
            }));
}

}  // namespace
}  // namespace vmtune::collect
