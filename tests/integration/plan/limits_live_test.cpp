// SPDX-License-Identifier: GPL-2.0-or-later
// The limit table against the running kernel: it takes the table's bounds and refuses one past
// them (EINVAL), for keys whose extreme values are harmless for the moment they are in force.
// Every value is put back byte for byte (test::ProcSysRestore).
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

#include "plan/limits.hpp"
#include "sysctl_guard.hpp"

namespace vmtune::plan {
namespace {

using test::proc_sys_path;
using test::ProcSysRestore;
using test::read_raw;
using test::write_raw;

constexpr std::uint64_t kIntMax = std::numeric_limits<std::int32_t>::max();

// Writes a few table entries' edges to the running kernel's /proc/sys and checks it takes the
// bounds and refuses one past them. Only keys whose extreme values are harmless for the few
// microseconds they are in force; never nr_hugepages, min_free_kbytes, overcommit_memory,
// panic_on_oom, max_map_count, numa_stat (writing 0 zeroes counters) or stat_interval (the vmstat
// work queued while an extreme interval is in force keeps that delay after the restore).

std::optional<KernelVersion> running_kernel() {
  struct utsname u {};
  if (::uname(&u) != 0) return std::nullopt;
  return parse_kernel_release(u.release);
}

bool have_swap() {
  const auto swaps = read_raw("/proc/swaps");
  return !swaps || swaps->find('\n') != swaps->rfind('\n');  // more than the header line
}

struct LiveCase {
  std::string_view key;
  bool write_edges;  ///< write min and max (false: only check the refusals, which change nothing)
};

std::string to_text(std::int64_t v) { return std::to_string(v); }
std::string to_text(std::uint64_t v) { return std::to_string(v); }

class LiveLimits : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    if (::access("/proc/sys/vm/swappiness", W_OK) != 0) GTEST_SKIP() << "/proc/sys is read-only";
    const auto v = running_kernel();
    if (!v) GTEST_SKIP() << "cannot parse the kernel release";
    kernel_ = *v;
  }

  /// Writes `text` and expects the kernel to take it (and print it back as written).
  void expect_taken(std::string_view key, const std::string& text) {
    const auto path = proc_sys_path(key);
    EXPECT_EQ(write_raw(path, text), 0) << key << " = " << text << " refused";
    EXPECT_EQ(read_raw(path), text + "\n") << key;
    EXPECT_FALSE(check_value(key, text, kernel_.major, kernel_.minor).has_value()) << key;
  }

  /// Writes `text` and expects the kernel to refuse it with `err`, leaving the value as it was.
  void expect_refused(std::string_view key, const std::string& text, int err) {
    const auto path = proc_sys_path(key);
    const auto before = read_raw(path);
    EXPECT_EQ(write_raw(path, text), err)
        << key << " = " << text << ": expected " << std::strerror(err);
    EXPECT_EQ(read_raw(path), before) << key << " changed by a refused write";
    EXPECT_TRUE(check_value(key, text, kernel_.major, kernel_.minor).has_value()) << key;
  }

  void run(const LiveCase& c) {
    SCOPED_TRACE(std::string(c.key));
    const auto path = proc_sys_path(c.key);
    if (!std::filesystem::exists(path)) return;  // e.g. min_slab_ratio on a non-NUMA kernel
    const KeyLimit* limit = find_limit(c.key, kernel_);
    ASSERT_NE(limit, nullptr);
    ProcSysRestore restore;
    ASSERT_TRUE(restore.save(c.key));
    ++exercised_;
    if (c.write_edges) {
      expect_taken(c.key, to_text(limit->min));
      expect_taken(c.key, to_text(limit->max));
    }
    // One past each stated bound; past the int type's range the kernel refuses too.
    const bool int_range = limit->max == kIntMax;
    if ((limit->max_stated || int_range) && !limit->conservative) {
      const bool erange = c.key.ends_with("_bytes") && limit->since >= KernelVersion{6, 10};
      expect_refused(c.key, to_text(limit->max + 1), erange ? ERANGE : EINVAL);
    }
    if (limit->min_stated && !limit->conservative) {
      expect_refused(c.key, to_text(limit->min - 1), EINVAL);
    }
    restore.restore();  // also done by the destructor; explicit so the check runs here
  }

  KernelVersion kernel_;
  int exercised_ = 0;
};

TEST_F(LiveLimits, KernelTakesTheTableBoundsAndRefusesOnePast) {
  const std::vector<LiveCase> cases = {
      {"vm.swappiness", true},
      {"vm.dirty_background_ratio", true},
      {"vm.vfs_cache_pressure", true},
      {"vm.watermark_scale_factor", true},
      {"vm.page-cluster", !have_swap()},  // 2^31-page readahead only matters with swap
      {"vm.extfrag_threshold", true},
      {"vm.compact_unevictable_allowed", true},
      {"vm.min_unmapped_ratio", true},
      {"vm.min_slab_ratio", true},
      // Refusals only: the edges themselves would throttle writers or start compaction.
      {"vm.dirty_ratio", false},
      {"vm.dirty_bytes", false},
      {"vm.dirty_background_bytes", false},
      {"vm.compaction_proactiveness", false},
  };
  for (const LiveCase& c : cases) run(c);
  EXPECT_GE(exercised_, 10) << "most of these keys exist on every kernel vmtune supports";
}

}  // namespace
}  // namespace vmtune::plan
