// SPDX-License-Identifier: GPL-2.0-or-later
#include "collect/counters.hpp"

#include <gtest/gtest.h>

#include "strict_support.hpp"

namespace vmtune::collect {
namespace {

// Every "name value" file (vmstat, numastat, memory.stat, memory.events) goes through here:
// values above INT64_MAX are kept, a repeated name keeps its last value, bad lines are
// reported and skipped.
TEST(Counters, NameValueLines) {
  std::vector<core::Error> bad;
  auto c = parse_counters("numa_hit 5\nnuma_miss\nslab 14914318128160131214\nnuma_hit 6\nx -1\n",
                          "/sys/devices/system/node/node0/numastat", &bad);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(*c, (model::Counters{{"numa_hit", 6}, {"slab", 14914318128160131214ull}}));
  EXPECT_EQ(test::error_strings(bad),
            (std::vector<std::string>{
                "/sys/devices/system/node/node0/numastat:2: field \"numa_miss\": expected "
                "\"<name> <unsigned integer>\": the value is missing",
                "/sys/devices/system/node/node0/numastat:5: field \"x\": expected \"<name> "
                "<unsigned integer>\": negative",
            }));
}

// Nothing usable is an error that tells an empty file from one in another format, in the
// words of the file's own format when the caller gives them.
TEST(Counters, NoValidLineIsAnError) {
  EXPECT_EQ(parse_counters("", "/x/memory.events", nullptr).error().to_string(),
            "/x/memory.events: file is empty");
  EXPECT_EQ(parse_counters("a b c\n", "/x/memory.events", nullptr).error().to_string(),
            "/x/memory.events: no \"name value\" line found");
  const auto vmstat = parse_counters("junk\n", "/proc/vmstat", nullptr, "\"<name> <value>\"");
  ASSERT_FALSE(vmstat.ok());
  EXPECT_EQ(vmstat.error().kind, core::ErrorKind::parse_error);
  EXPECT_EQ(vmstat.error().to_string(), "/proc/vmstat: no \"<name> <value>\" line found");
}

}  // namespace
}  // namespace vmtune::collect
