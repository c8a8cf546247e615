// SPDX-License-Identifier: GPL-2.0-or-later
#include "plan/limits.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace vmtune::plan {
namespace {

constexpr std::uint64_t kIntMax = std::numeric_limits<std::int32_t>::max();
constexpr std::uint64_t kDirtyBytesMax = 17592186040320ULL;  // UINT_MAX pages of 4 KiB

bool accepted(std::string_view key, std::string_view value, int major, int minor) {
  return !check_value(key, value, major, minor).has_value();
}

// ---- the table ---------------------------------------------------------------------------------

TEST(KernelRelease, ParsesMajorMinor) {
  EXPECT_EQ(parse_kernel_release("6.18.44-fc-v669"), (KernelVersion{6, 18}));
  EXPECT_EQ(parse_kernel_release("5.8"), (KernelVersion{5, 8}));
  EXPECT_EQ(parse_kernel_release("4.19.0-27-amd64"), (KernelVersion{4, 19}));
  EXPECT_EQ(parse_kernel_release("3.10.0-1160.el7.x86_64"), (KernelVersion{3, 10}));
  EXPECT_FALSE(parse_kernel_release("").has_value());
  EXPECT_FALSE(parse_kernel_release("6").has_value());
  EXPECT_FALSE(parse_kernel_release("6.").has_value());
  EXPECT_FALSE(parse_kernel_release("linux-6.1").has_value());
  EXPECT_FALSE(parse_kernel_release("1234567.1").has_value());
  EXPECT_LT((KernelVersion{5, 17}), (KernelVersion{5, 18}));
  EXPECT_LT((KernelVersion{5, 18}), (KernelVersion{6, 0}));
}

TEST(LimitTable, RowsAreWellFormed) {
  std::set<std::string_view> keys;
  const KeyLimit* previous = nullptr;
  for (const KeyLimit& row : all_limits()) {
    SCOPED_TRACE(std::string(row.key));
    EXPECT_TRUE(row.key.starts_with("vm.") || row.key.starts_with("kernel."));
    EXPECT_TRUE(row.min < 0 || static_cast<std::uint64_t>(row.min) <= row.max);
    EXPECT_NE(std::string_view(row.file), "");
    EXPECT_NE(std::string_view(row.reference), "");
    if (row.since != KernelVersion{} && row.until != KernelVersion{}) {
      EXPECT_LT(row.since, row.until);
    }
    if (previous != nullptr && previous->key == row.key) {
      // Rows of one key follow each other, oldest first, and meet exactly.
      EXPECT_NE(previous->until, KernelVersion{});
      EXPECT_EQ(previous->until, row.since);
    } else {
      EXPECT_TRUE(keys.insert(row.key).second) << "rows of one key must be adjacent";
      EXPECT_EQ(row.since, KernelVersion{}) << "the first row of a key covers older kernels";
    }
    previous = &row;
  }
  EXPECT_GE(keys.size(), 40u);
  // Every key has exactly one row for every kernel vmtune may meet.
  for (const KernelVersion v :
       {KernelVersion{3, 10}, KernelVersion{4, 18}, KernelVersion{5, 4}, KernelVersion{5, 10},
        KernelVersion{5, 14}, KernelVersion{5, 15}, KernelVersion{6, 1}, KernelVersion{6, 6},
        KernelVersion{6, 12}, KernelVersion{6, 18}, KernelVersion{7, 0}}) {
    for (const std::string_view key : keys) {
      EXPECT_NE(find_limit(key, v), nullptr) << key << " on " << v.major << "." << v.minor;
    }
  }
  EXPECT_EQ(find_limit("vm.no_such_key", {6, 1}), nullptr);
}

TEST(LimitTable, VersionDependentBounds) {
  EXPECT_EQ(find_limit("vm.swappiness", {5, 4})->max, 100u);
  EXPECT_EQ(find_limit("vm.swappiness", {5, 7})->max, 100u);
  EXPECT_EQ(find_limit("vm.swappiness", {5, 8})->max, 200u);
  EXPECT_EQ(find_limit("vm.swappiness", {6, 1})->max, 200u);
  EXPECT_EQ(find_limit("vm.watermark_scale_factor", {5, 16})->max, 1000u);
  EXPECT_TRUE(find_limit("vm.watermark_scale_factor", {5, 16})->conservative);
  EXPECT_EQ(find_limit("vm.watermark_scale_factor", {5, 17})->max, 3000u);
  EXPECT_EQ(find_limit("vm.page-cluster", {6, 1})->max, kIntMax);
  EXPECT_FALSE(find_limit("vm.page-cluster", {6, 1})->max_stated);
  EXPECT_EQ(find_limit("vm.page-cluster", {6, 2})->max, 31u);
  EXPECT_EQ(find_limit("kernel.numa_balancing", {5, 17})->max, 1u);
  EXPECT_EQ(find_limit("kernel.numa_balancing", {5, 18})->max, 4u);
  EXPECT_TRUE(find_limit("vm.dirty_bytes", {6, 9})->conservative);
  EXPECT_FALSE(find_limit("vm.dirty_bytes", {6, 10})->conservative);
}

// ---- check_value -------------------------------------------------------------------------------

TEST(CheckValue, SwappinessEdgesAndMessage) {
  EXPECT_TRUE(accepted("vm.swappiness", "0", 6, 1));
  EXPECT_TRUE(accepted("vm.swappiness", "200", 6, 1));
  EXPECT_FALSE(accepted("vm.swappiness", "-1", 6, 1));
  EXPECT_FALSE(accepted("vm.swappiness", "201", 6, 1));
  EXPECT_EQ(check_value("vm.swappiness", "250", 6, 1),
            "vm.swappiness = 250: the kernel accepts 0 to 200 (mm/vmscan.c, 5.8+)");
  EXPECT_EQ(check_value("vm.swappiness", "-1", 6, 1),
            "vm.swappiness = -1: the kernel accepts 0 to 200 (mm/vmscan.c, 5.8+)");
}

TEST(CheckValue, SwappinessAbove100DependsOnTheKernel) {
  EXPECT_EQ(check_value("vm.swappiness", "150", 5, 4),
            "vm.swappiness = 150: the kernel accepts 0 to 100 (kernel/sysctl.c, before 5.8)");
  EXPECT_TRUE(accepted("vm.swappiness", "100", 5, 4));
  EXPECT_FALSE(accepted("vm.swappiness", "101", 5, 7));
  EXPECT_TRUE(accepted("vm.swappiness", "150", 5, 8));
  EXPECT_TRUE(accepted("vm.swappiness", "150", 6, 1));
}

TEST(CheckValue, RatiosAndWatermarks) {
  for (const char* key : {"vm.dirty_ratio", "vm.dirty_background_ratio", "vm.min_unmapped_ratio",
                          "vm.min_slab_ratio", "vm.compaction_proactiveness"}) {
    SCOPED_TRACE(key);
    EXPECT_TRUE(accepted(key, "0", 6, 6));
    EXPECT_TRUE(accepted(key, "100", 6, 6));
    EXPECT_FALSE(accepted(key, "101", 6, 6));
    EXPECT_FALSE(accepted(key, "-1", 6, 6));
  }
  EXPECT_FALSE(accepted("vm.watermark_scale_factor", "0", 6, 6));
  EXPECT_TRUE(accepted("vm.watermark_scale_factor", "1", 6, 6));
  EXPECT_TRUE(accepted("vm.watermark_scale_factor", "3000", 6, 6));
  EXPECT_FALSE(accepted("vm.watermark_scale_factor", "3001", 6, 6));
  EXPECT_TRUE(accepted("vm.watermark_scale_factor", "1000", 5, 10));
  EXPECT_FALSE(accepted("vm.watermark_scale_factor", "1001", 5, 10));
  EXPECT_TRUE(accepted("vm.extfrag_threshold", "1000", 6, 6));
  EXPECT_FALSE(accepted("vm.extfrag_threshold", "1001", 6, 6));
  EXPECT_TRUE(accepted("vm.overcommit_memory", "2", 6, 6));
  EXPECT_FALSE(accepted("vm.overcommit_memory", "3", 6, 6));
  EXPECT_TRUE(accepted("vm.panic_on_oom", "2", 6, 6));
  EXPECT_FALSE(accepted("vm.panic_on_oom", "3", 6, 6));
  EXPECT_TRUE(accepted("vm.page-cluster", "31", 6, 6));
  EXPECT_FALSE(accepted("vm.page-cluster", "32", 6, 6));
  EXPECT_TRUE(accepted("vm.page-cluster", "32", 5, 15));
  EXPECT_TRUE(accepted("kernel.numa_balancing", "3", 6, 6));
  EXPECT_FALSE(accepted("kernel.numa_balancing", "2", 5, 15));
}

TEST(CheckValue, DirtyBytesNeedTwoPagesAndFitInUintPages) {
  EXPECT_FALSE(accepted("vm.dirty_bytes", "0", 6, 12));
  EXPECT_FALSE(accepted("vm.dirty_bytes", "8191", 6, 12));
  EXPECT_TRUE(accepted("vm.dirty_bytes", "8192", 6, 12));
  EXPECT_TRUE(accepted("vm.dirty_bytes", std::to_string(kDirtyBytesMax), 6, 12));
  EXPECT_FALSE(accepted("vm.dirty_bytes", std::to_string(kDirtyBytesMax + 1), 6, 12));
  EXPECT_FALSE(accepted("vm.dirty_background_bytes", "0", 6, 12));
  EXPECT_TRUE(accepted("vm.dirty_background_bytes", "1", 6, 12));
  EXPECT_TRUE(accepted("vm.dirty_background_bytes", "268435456", 5, 4));
}

TEST(CheckValue, NoBoundMeansTheTypesRange) {
  EXPECT_TRUE(accepted("vm.vfs_cache_pressure", "2147483647", 6, 1));
  EXPECT_FALSE(accepted("vm.vfs_cache_pressure", "2147483648", 6, 1));
  EXPECT_FALSE(accepted("vm.vfs_cache_pressure", "-1", 6, 1));
  EXPECT_EQ(check_value("vm.max_map_count", "-1", 6, 1),
            "vm.max_map_count = -1: the kernel accepts 0 to 2147483647 (kernel/sysctl.c; no "
            "upper bound: the type's range)");
  EXPECT_TRUE(accepted("vm.overcommit_ratio", "-2147483648", 6, 1));
  EXPECT_FALSE(accepted("vm.overcommit_ratio", "-2147483649", 6, 1));
  EXPECT_TRUE(accepted("vm.nr_hugepages", "18446744073709551615", 6, 1));
  EXPECT_FALSE(accepted("vm.nr_hugepages", "18446744073709551616", 6, 1));
  EXPECT_FALSE(accepted("vm.nr_hugepages", "99999999999999999999999", 6, 1));
  EXPECT_FALSE(accepted("vm.nr_hugepages", "-1", 6, 1));
  EXPECT_TRUE(accepted("vm.stat_interval", "2147483", 6, 1));
  EXPECT_FALSE(accepted("vm.stat_interval", "2147484", 6, 1));
}

TEST(CheckValue, TextThatIsNotADecimalInteger) {
  EXPECT_EQ(check_value("vm.swappiness", "high", 6, 1),
            "vm.swappiness = \"high\": not a decimal integer; the kernel accepts 0 to 200 "
            "(mm/vmscan.c, 5.8+)");
  for (const char* bad : {"", " ", "1.5", "1e3", "0x10", "+5", "5 6", "10%", "-", "--1", "ten"}) {
    SCOPED_TRACE(bad);
    EXPECT_TRUE(check_value("vm.swappiness", bad, 6, 1).has_value());
  }
  // A leading zero means octal to the kernel (base 0 parsing): refused, with the reason.
  const auto octal = check_value("vm.swappiness", "010", 6, 1);
  ASSERT_TRUE(octal.has_value());
  EXPECT_NE(octal->find("octal"), std::string::npos) << *octal;
  EXPECT_TRUE(check_value("vm.swappiness", "-0", 6, 1).has_value());
  // Surrounding whitespace and the newline sysctl files end with are fine.
  EXPECT_TRUE(accepted("vm.swappiness", " 60\n", 6, 1));
  EXPECT_TRUE(accepted("vm.swappiness", "0", 6, 1));
  // Untrusted text is escaped in the message.
  const auto esc = check_value("vm.swappiness", "\x1b[31m", 6, 1);
  ASSERT_TRUE(esc.has_value());
  EXPECT_EQ(esc->find('\x1b'), std::string::npos);
  EXPECT_NE(esc->find("\\x1b"), std::string::npos) << *esc;
}

TEST(CheckValue, UnknownKeysAreTheCallersToCheck) {
  EXPECT_FALSE(check_value("vm.no_such_key", "abc", 6, 1).has_value());
  EXPECT_FALSE(check_value("net.core.somaxconn", "-5", 6, 1).has_value());
}

// ---- boot-only parameters ----------------------------------------------------------------------

TEST(BootParams, NamedAndChecked) {
  EXPECT_TRUE(is_boot_only("transparent_hugepage"));
  EXPECT_TRUE(is_boot_only("transparent_hugepage="));
  EXPECT_TRUE(is_boot_only("hugepagesz"));
  EXPECT_TRUE(is_boot_only("hugepages"));
  EXPECT_TRUE(is_boot_only("default_hugepagesz="));
  EXPECT_FALSE(is_boot_only("vm.nr_hugepages"));
  EXPECT_FALSE(is_boot_only("hugepage"));
  EXPECT_FALSE(is_boot_only(""));
  EXPECT_EQ(boot_params().size(), 4u);

  for (const char* v : {"always", "madvise", "never"}) {
    EXPECT_FALSE(check_boot_value("transparent_hugepage", v).has_value()) << v;
  }
  EXPECT_EQ(check_boot_value("transparent_hugepage", "defer"),
            "transparent_hugepage=defer: the kernel accepts always | madvise | never "
            "(mm/huge_memory.c)");
  for (const char* v : {"2M", "2m", "2048K", "1G", "1024M", "0x200000", "2097152"}) {
    EXPECT_FALSE(check_boot_value("hugepagesz", v).has_value()) << v;
    EXPECT_FALSE(check_boot_value("default_hugepagesz=", v).has_value()) << v;
  }
  for (const char* v : {"", "4M", "3G", "1T", "2X", "M", "2 M", "-2M"}) {
    EXPECT_TRUE(check_boot_value("hugepagesz", v).has_value()) << v;
  }
  for (const char* v : {"0", "512", "0:256,1:256", "1:8"}) {
    EXPECT_FALSE(check_boot_value("hugepages", v).has_value()) << v;
  }
  for (const char* v : {"", "abc", "0:", ":5", "0:1,", "0:1,,1:2", "-1", "1.5"}) {
    EXPECT_TRUE(check_boot_value("hugepages", v).has_value()) << v;
  }
  EXPECT_FALSE(check_boot_value("quiet", "anything").has_value());
}

}  // namespace
}  // namespace vmtune::plan
