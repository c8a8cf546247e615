// SPDX-License-Identifier: GPL-2.0-or-later
#include "collect/cgroups.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <limits>

#include "collect/counters.hpp"
#include "core/parse.hpp"
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

constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();

/// A RootFs whose sys tree is `dir` itself (fixtures that hold bare cgroup files).
core::RootFs sys_at(const fs::path& dir) {
  core::RootFs fs = core::RootFs::under(dir);
  fs.set_root(core::Tree::sys, dir);
  return fs;
}

const model::Cgroup* group(const model::Cgroups& c, const std::string& path) {
  for (const auto& g : c.groups) {
    if (g.path == path) return &g;
  }
  return nullptr;
}

TEST(Cgroups, LayoutFromMountinfo) {
  const std::string v1 =
      "31 30 0:28 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n";
  const std::string v2u = "40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
  const std::string v2 =
      "35 24 0:30 / /sys/fs/cgroup rw,nosuid shared:9 - cgroup2 cgroup2 rw,nsdelegate\n";
  auto l = parse_cgroup_mountinfo(v1 + v2u, "/sys");
  EXPECT_EQ(l.layout, "hybrid");
  EXPECT_EQ(l.v2_mount, "fs/cgroup/unified");
  l = parse_cgroup_mountinfo(v2, "/sys");  // optional field "shared:9" before "-"
  EXPECT_EQ(l.layout, "v2");
  EXPECT_EQ(l.v2_mount, "fs/cgroup");
  EXPECT_EQ(parse_cgroup_mountinfo(v1, "/sys").layout, "v1");
  EXPECT_EQ(parse_cgroup_mountinfo("21 26 0:20 / /proc rw - proc proc rw\n", "/sys").layout,
            "none");
  EXPECT_EQ(parse_cgroup_mountinfo("", "/sys").layout, "none");
  EXPECT_EQ(parse_cgroup_mountinfo("garbage\n1 2 3\n", "/sys").layout, "none");
  // a cgroup2 mount outside the sys tree does not count; escaped mount points are decoded
  EXPECT_EQ(parse_cgroup_mountinfo("1 2 0:1 / /run/x rw - cgroup2 c rw\n", "/sys").layout, "none");
  l = parse_cgroup_mountinfo("1 2 0:1 / /sys/fs/cgroup/my\\040tree rw - cgroup2 c rw\n", "/sys");
  EXPECT_EQ(l.v2_mount, "fs/cgroup/my tree");
}

TEST(Cgroups, LimitsAndCounters) {
  EXPECT_EQ(*parse_cgroup_limit("max\n", "x"), kMax);
  EXPECT_EQ(*parse_cgroup_limit("999999999\n", "x"), 999999999u);
  EXPECT_FALSE(parse_cgroup_limit("", "x").ok());
  EXPECT_FALSE(parse_cgroup_limit("maximum\n", "x").ok());
  EXPECT_EQ(parse_cgroup_v2_path("12:memory:/a\n0::/user.slice/x.scope\n"), "/user.slice/x.scope");
  EXPECT_EQ(parse_cgroup_v2_path("4:memory:/a\n"), "");
}

// below's edge cases, each from its own fixture file.
TEST(Cgroups, BelowEdgeCases) {
  VMTUNE_REQUIRE_SHARED_FIXTURES();
  const auto b = shared_fixtures() / "facebookincubator-below/cgroupfs";
  EXPECT_EQ(*parse_cgroup_limit(slurp(b / "max/memory.max"), "memory.max"), kMax);
  auto neg = parse_cgroup_limit(slurp(b / "negative/memory.max"), "/sys/fs/cgroup/memory.max");
  ASSERT_FALSE(neg.ok());
  EXPECT_EQ(neg.error().kind, core::ErrorKind::parse_error);
  EXPECT_EQ(neg.error().to_string(),
            "/sys/fs/cgroup/memory.max:1: expected \"max\" or an unsigned byte count: negative");

  std::vector<core::Error> bad;
  auto over = parse_counters(slurp(b / "stat-overflow/memory.stat"), "memory.stat", &bad);
  ASSERT_TRUE(over.ok());
  EXPECT_TRUE(bad.empty());
  EXPECT_EQ(over->at("slab"), shared_expected()
                                  .at("facebookincubator-below/cgroupfs/stat-overflow/memory.stat")
                                  .at("slab")
                                  .get<std::uint64_t>());
  EXPECT_EQ(over->at("slab"), 14914318128160131214ull);

  bad.clear();
  auto badline =
      parse_counters(slurp(b / "stat-badline/memory.stat"), "/sys/fs/cgroup/memory.stat", &bad);
  ASSERT_TRUE(badline.ok());  // the good line is kept, the bad one reported
  EXPECT_EQ(badline->at("slab"), 1234u);
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_EQ(bad[0].line, 2);
  EXPECT_EQ(bad[0].field, "lol");

  auto empty = parse_counters(slurp(b / "stat-empty/memory.stat"), "/x/memory.stat", &bad);
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().to_string(), "/x/memory.stat: file is empty");

  // memory.pressure through the same reader a cgroup walk uses
  model::Cgroup g = read_cgroup_memory(sys_at(b / "pressure"), "", "/", &bad, nullptr);
  ASSERT_TRUE(g.pressure.has_value());
  EXPECT_EQ(g.pressure->some->total_us, 619176290u);
  EXPECT_EQ(g.pressure->full->total_us, 61917u);
}

TEST(Cgroups, ElasticDockerScope) {
  VMTUNE_REQUIRE_SHARED_FIXTURES();
  const std::string scope =
      "system.slice/docker-1c8fa019edd4b9d4b2856f4932c55929c5c118c808ed5faee9a135ca6e84b039.scope";
  const auto root = shared_fixtures() / "elastic-agent-system-metrics/cgroup/docker";
  const std::string key = "elastic-agent-system-metrics/cgroup/docker/sys/fs/cgroup/" + scope;
  const auto& e = shared_expected();
  std::vector<core::Error> bad;
  bool any = false;
  auto g =
      read_cgroup_memory(core::RootFs::under(root), "fs/cgroup/" + scope, "/" + scope, &bad, &any);
  EXPECT_TRUE(any);
  EXPECT_TRUE(bad.empty()) << bad.front().to_string();
  EXPECT_EQ(*g.current, e.at(key + "/memory.current").at("value").get<std::uint64_t>());
  EXPECT_EQ(*g.low, e.at(key + "/memory.low").at("value").get<std::uint64_t>());
  EXPECT_EQ(g.events.at("high"), e.at(key + "/memory.events").at("high").get<std::uint64_t>());
  const auto& st = e.at(key + "/memory.stat");
  EXPECT_EQ(g.stat.at("slab_reclaimable"), st.at("slab_reclaimable").get<std::uint64_t>());
  EXPECT_EQ(g.stat.at("thp_fault_alloc"), st.at("thp_fault_alloc").get<std::uint64_t>());
  const auto& pr = e.at(key + "/memory.pressure");
  ASSERT_TRUE(g.pressure && g.pressure->some && g.pressure->full);
  EXPECT_EQ(g.pressure->some->avg10, pr.at("some/avg10").get<double>());
  EXPECT_EQ(g.pressure->some->total_us, pr.at("some/total").get<std::uint64_t>());
  EXPECT_EQ(g.pressure->full->total_us, pr.at("full/total").get<std::uint64_t>());
  // the raw limit files say "max": kept as the UINT64_MAX sentinel
  EXPECT_EQ(*g.max,
            std::string(core::trim(slurp(root / "sys/fs/cgroup" / scope / "memory.max"))) == "max"
                ? kMax
                : std::stoull(slurp(root / "sys/fs/cgroup" / scope / "memory.max")));
}

TEST(Cgroups, OpencontainersPod) {
  VMTUNE_REQUIRE_SHARED_FIXTURES();
  const auto& e = shared_expected();
  std::vector<core::Error> bad;
  auto g = read_cgroup_memory(sys_at(shared_fixtures() / "opencontainers-cgroups/fs2-pod"), "", "/",
                              &bad, nullptr);
  EXPECT_TRUE(bad.empty());
  const std::string k = "opencontainers-cgroups/fs2-pod/";
  EXPECT_EQ(*g.current,
            e.at(k + "memory.current").at("MemoryStats.Usage.Usage").get<std::uint64_t>());
  EXPECT_EQ(*g.max, e.at(k + "memory.max").at("MemoryStats.Usage.Limit").get<std::uint64_t>());
  EXPECT_EQ(*g.peak, e.at(k + "memory.peak").at("MemoryStats.Usage.MaxUsage").get<std::uint64_t>());
  // memory.stat has no trailing newline; anon + file = 7293091840 (TestRootStatsFromMeminfo)
  EXPECT_EQ(g.stat.at("anon") + g.stat.at("file"), 7293091840u);
  EXPECT_GT(g.stat.size(), 30u);
}

// PCP qa/730: every memory.current / memory.stat / memory.pressure value of a real v2 tree.
TEST(Cgroups, MatchesPcpCgroupsRoot004) {
  VMTUNE_REQUIRE_SHARED_FIXTURES();
  const auto root = shared_fixtures() / "performancecopilot-pcp/cgroups-root-004";
  model::Sample s;
  read_cgroups(core::RootFs::under(root), s);
  ASSERT_TRUE(s.cgroups.ok()) << s.cgroups.reason();
  EXPECT_TRUE(s.unavailable.empty()) << s.unavailable.front().path << s.unavailable.front().reason;
  const auto& c = *s.cgroups.value;
  EXPECT_EQ(c.layout, "v2");
  EXPECT_EQ(c.v2_mount, "fs/cgroup");
  const std::string prefix = "performancecopilot-pcp/cgroups-root-004/sys/fs/cgroup/";
  int groups = 0;
  int checked = 0;
  for (const auto& [key, fields] : shared_expected().items()) {
    if (key.rfind(prefix, 0) != 0) continue;
    std::string path = "/" + key.substr(prefix.size());
    if (path.size() > 1) path.pop_back();  // trailing '/'
    const auto* g = group(c, path);
    ASSERT_NE(g, nullptr) << path;
    ++groups;
    for (const auto& [name, value] : fields.items()) {
      if (!value.is_number()) continue;
      if (name == "cgroup.memory.current") {
        EXPECT_EQ(*g->current, value.get<std::uint64_t>()) << path;
      } else if (name.rfind("cgroup.memory.stat.", 0) == 0) {
        std::string stat = name.substr(19);
        for (auto& ch : stat) ch = ch == '.' ? '_' : ch;  // PCP: workingset.refault
        ASSERT_TRUE(g->stat.count(stat)) << path << " " << stat;
        EXPECT_EQ(g->stat.at(stat), value.get<std::uint64_t>()) << path << " " << stat;
      } else if (name.rfind("cgroup.pressure.memory.", 0) == 0) {
        ASSERT_TRUE(g->pressure.has_value()) << path;
        const bool some = name.find(".some.") != std::string::npos;
        const auto& line = some ? g->pressure->some : g->pressure->full;
        ASSERT_TRUE(line.has_value());
        if (name.substr(name.size() - 6) == ".total") {
          EXPECT_EQ(line->total_us, value.get<std::uint64_t>()) << path << " " << name;
        } else {
          const double want = value.get<double>();
          const double got = name.find("avg10sec") != std::string::npos  ? line->avg10
                             : name.find("avg1min") != std::string::npos ? line->avg60
                                                                         : line->avg300;
          EXPECT_DOUBLE_EQ(got, want) << path << " " << name;
        }
      } else {
        continue;
      }
      ++checked;
    }
  }
  EXPECT_EQ(groups, 7);
  EXPECT_GT(checked, 200);
  const auto* init = group(c, "/init.scope");
  ASSERT_NE(init, nullptr);
  EXPECT_EQ(*init->max, kMax);
  EXPECT_EQ(*init->high, kMax);
  EXPECT_EQ(*init->low, 0u);
  EXPECT_EQ(*init->swap_max, kMax);
  EXPECT_EQ(*init->swap_current, 5873664u);
  EXPECT_EQ(init->events.at("oom_kill"), 0u);
  // the root has only memory.pressure: recorded without memory.current
  const auto* top = group(c, "/");
  ASSERT_NE(top, nullptr);
  EXPECT_FALSE(top->current.has_value());
}

TEST(Cgroups, ProjectTreeIsHybridWithMemoryOnV1) {
  const auto root = test::test_data() / "live-debian12";
  model::Sample s;
  read_cgroups(core::RootFs::under(root), s);
  ASSERT_TRUE(s.cgroups.ok());
  const auto& c = *s.cgroups.value;
  EXPECT_EQ(c.layout, "hybrid");
  EXPECT_EQ(c.v2_mount, "fs/cgroup/unified");
  EXPECT_EQ(c.self_path, "/");
  ASSERT_EQ(c.groups.size(), 1u);
  EXPECT_EQ(c.groups[0].path, "/");
  ASSERT_TRUE(c.groups[0].pressure.has_value());
  EXPECT_FALSE(c.groups[0].current.has_value());
  ASSERT_EQ(s.unavailable.size(), 1u);
  EXPECT_EQ(s.unavailable[0].path, "/sys/fs/cgroup/unified/cgroup.controllers");
  EXPECT_NE(s.unavailable[0].reason.find("memory controller on cgroup v1"), std::string::npos);
}

TEST(Cgroups, TreeShapeWithoutMountTable) {
  auto tmp = core::TempDir::create("vmtune-test-");
  ASSERT_TRUE(tmp.ok());
  const auto t = tmp->path();
  fs::create_directories(t / "proc");
  fs::create_directories(t / "sys/fs/cgroup/memory");
  model::Sample s;
  read_cgroups(core::RootFs::under(t), s);
  ASSERT_TRUE(s.cgroups.ok());
  EXPECT_EQ(s.cgroups.value->layout, "v1");
  ASSERT_EQ(s.unavailable.size(), 1u);
  EXPECT_NE(s.unavailable[0].reason.find("cgroup v1 only"), std::string::npos);
  write_fixture(t / "sys/fs/cgroup/unified/cgroup.controllers", "memory\n");
  EXPECT_EQ(detect_cgroup_layout_from_tree(core::RootFs::under(t)).layout, "hybrid");
  fs::remove_all(t / "sys/fs/cgroup");
  EXPECT_EQ(detect_cgroup_layout_from_tree(core::RootFs::under(t)).layout, "none");
  model::Sample none;
  read_cgroups(core::RootFs::under(t), none);
  ASSERT_TRUE(none.cgroups.ok());
  EXPECT_EQ(none.cgroups.value->layout, "none");
  EXPECT_TRUE(none.cgroups.value->groups.empty());
}

TEST(Cgroups, DamagedFilesAreReportedAndTheRestKept) {
  auto tmp = core::TempDir::create("vmtune-test-");
  ASSERT_TRUE(tmp.ok());
  const auto d = tmp->path() / "sys/fs/cgroup";
  write_fixture(d / "cgroup.controllers", "cpu memory\n");
  write_fixture(d / "a/memory.current", "");                       // empty
  write_fixture(d / "a/memory.max", "lots\n");                     // garbage
  write_fixture(d / "a/memory.high", "-1\n");                      // negative
  write_fixture(d / "a/memory.stat", "anon 12\nfile 3\nshm");      // truncated last line
  write_fixture(d / "a/memory.events", "\x01\x02\n");              // garbage only
  write_fixture(d / "a/memory.pressure", "some avg10=0.00 avg6");  // truncated
  write_fixture(d / "a/memory.min", "0\n");
  model::Sample s;
  read_cgroups(core::RootFs::under(tmp->path()), s);
  ASSERT_TRUE(s.cgroups.ok());
  const auto* a = group(*s.cgroups.value, "/a");
  ASSERT_NE(a, nullptr);
  EXPECT_FALSE(a->current.has_value());
  EXPECT_FALSE(a->max.has_value());
  EXPECT_FALSE(a->high.has_value());
  EXPECT_EQ(*a->min, 0u);
  EXPECT_EQ(a->stat.at("anon"), 12u);
  EXPECT_EQ(a->stat.at("file"), 3u);
  EXPECT_TRUE(a->events.empty());
  EXPECT_FALSE(a->pressure.has_value());
  std::vector<std::string> paths;
  for (const auto& u : s.unavailable) paths.push_back(u.path.substr(u.path.rfind('/') + 1));
  EXPECT_EQ(paths, std::vector<std::string>({"memory.current", "memory.max", "memory.high",
                                             "memory.stat", "memory.events", "memory.events",
                                             "memory.pressure", "memory.pressure"}));
}

TEST(Cgroups, WalkIsBoundedInDepthAndCountAndSaysSo) {
  auto tmp = core::TempDir::create("vmtune-test-");
  ASSERT_TRUE(tmp.ok());
  const auto d = tmp->path() / "sys/fs/cgroup";
  write_fixture(d / "cgroup.controllers", "memory\n");
  fs::path deep = d;
  for (int i = 1; i <= kMaxCgroupDepth + 2; ++i) {
    deep /= "l" + std::to_string(i);
    write_fixture(deep / "memory.current", std::to_string(i) + "\n");
  }
  model::Sample s;
  read_cgroups(core::RootFs::under(tmp->path()), s);
  ASSERT_TRUE(s.cgroups.ok());
  const auto& c = *s.cgroups.value;
  EXPECT_EQ(c.groups.size(), static_cast<std::size_t>(kMaxCgroupDepth));
  EXPECT_EQ(*c.groups.back().current, static_cast<std::uint64_t>(kMaxCgroupDepth));
  ASSERT_EQ(s.unavailable.size(), 1u);
  EXPECT_NE(s.unavailable[0].reason.find("deeper than 4 levels"), std::string::npos);

  // Empty directories count as visited cgroups too (the bound is on the walk, not on output).
  for (std::size_t i = 0; i < kMaxCgroups; ++i) fs::create_directory(d / ("w" + std::to_string(i)));
  model::Sample wide;
  read_cgroups(core::RootFs::under(tmp->path()), wide);
  ASSERT_TRUE(wide.cgroups.ok());
  EXPECT_EQ(wide.cgroups.value->groups.size(), 1u);  // l1 only: its subtree is queued last
  bool said = false;
  for (const auto& u : wide.unavailable) {
    said = said || u.reason.find("stopped after 2000 cgroups") != std::string::npos;
  }
  EXPECT_TRUE(said);
}

TEST(Cgroups, LiveRead) {
  model::Sample s;
  read_cgroups(core::RootFs(), s);
  ASSERT_TRUE(s.cgroups.ok()) << s.cgroups.reason();
  const auto& c = *s.cgroups.value;
  const auto self = slurp("/proc/self/cgroup");
  EXPECT_EQ(c.self_path, parse_cgroup_v2_path(self));
  if (fs::exists("/sys/fs/cgroup/cgroup.controllers")) {
    EXPECT_EQ(c.layout, "v2");
  } else if (fs::exists("/sys/fs/cgroup/unified/cgroup.controllers")) {
    EXPECT_EQ(c.layout, "hybrid");
    EXPECT_EQ(c.v2_mount, "fs/cgroup/unified");
  }
  if (!c.v2_mount.empty()) {
    ASSERT_FALSE(c.groups.empty());
    EXPECT_EQ(c.groups.front().path, "/");
    // PSI is on in this kernel: the root's memory.pressure parses
    if (fs::exists("/sys/" + c.v2_mount + "/memory.pressure")) {
      EXPECT_TRUE(c.groups.front().pressure.has_value());
    }
  }
  for (const auto& u : s.unavailable) {
    EXPECT_EQ(u.source, "cgroups");
    EXPECT_TRUE(u.reason.find("v1") != std::string::npos ||
                u.reason.find("truncated") != std::string::npos)
        << u.path << ": " << u.reason;
  }
}

// Strict parsing: limit files and counters; errors name the file, line and field and never
// quote the content.
TEST(CgroupsStrict, EachKindOfDamageIsAnErrorForThatField) {
  const auto error = [](const std::string& text) {
    auto r = parse_cgroup_limit(text, "/sys/fs/cgroup/a/memory.max", "memory.max");
    EXPECT_FALSE(r.ok()) << text;
    return r.ok() ? std::string() : r.error().to_string();
  };
  const std::string at = "/sys/fs/cgroup/a/memory.max";
  const std::string want = ":1: field \"memory.max\": expected \"max\" or an unsigned byte count: ";
  EXPECT_EQ(error(""), at + ": field \"memory.max\": file is empty");
  EXPECT_EQ(error("lots\n"), at + want + "not a number");
  EXPECT_EQ(error("99999999999999999999\n"), at + want + "out of range");
  EXPECT_EQ(error("-1\n"), at + want + "negative");
  EXPECT_EQ(error("1G\n"), at + want + "trailing characters after the number");

  std::vector<core::Error> bad;
  auto c = parse_counters("anon 12\nfile abc\nshmem\n", "/sys/fs/cgroup/a/memory.stat", &bad);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(*c, (model::Counters{{"anon", 12}}));
  EXPECT_EQ(test::error_strings(bad),
            (std::vector<std::string>{
                "/sys/fs/cgroup/a/memory.stat:2: field \"file\": expected \"<name> <unsigned "
                "integer>\": not a number",
                "/sys/fs/cgroup/a/memory.stat:3: field \"shmem\": expected \"<name> <unsigned "
                "integer>\": the value is missing",
            }));
  EXPECT_FALSE(parse_counters("", "/sys/fs/cgroup/a/memory.stat", nullptr).ok());
}

}  // namespace
}  // namespace vmtune::collect
