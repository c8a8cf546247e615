// SPDX-License-Identifier: GPL-2.0-or-later
#include "collect/zoneinfo.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <regex>

#include "core/temp_dir.hpp"
#include "strict_support.hpp"
#include "test_support.hpp"

namespace vmtune::collect {
namespace {

using test::shared_expected;
using test::shared_fixtures;
using test::slurp;

std::vector<model::Zone> parse_fixture(const std::string& rel) {
  std::vector<core::Error> bad;
  auto z = parse_zoneinfo(slurp(shared_fixtures() / rel), "/proc/zoneinfo", &bad);
  EXPECT_TRUE(z.ok()) << rel << ": " << (z.ok() ? "" : z.error().to_string());
  EXPECT_TRUE(bad.empty()) << rel << ": " << (bad.empty() ? "" : bad.front().to_string());
  return z.ok() ? *z : std::vector<model::Zone>{};
}

const model::Zone* find_zone(const std::vector<model::Zone>& zones, int node,
                             const std::string& name) {
  for (const auto& z : zones) {
    if (z.node == node && z.name == name) return &z;
  }
  return nullptr;
}

// A watermark-block value or, failing that, a zone counter; nullopt when the zone lacks it.
std::optional<std::uint64_t> zone_value(const model::Zone& z, const std::string& key) {
  if (key == "free") return z.free;
  if (key == "boost") return z.boost;
  if (key == "min") return z.min;
  if (key == "low") return z.low;
  if (key == "high") return z.high;
  if (key == "spanned") return z.spanned;
  if (key == "present") return z.present;
  if (key == "managed") return z.managed;
  if (key == "cma") return z.cma;
  if (auto it = z.stats.find(key); it != z.stats.end()) return it->second;
  return std::nullopt;
}

// procfs asserts each zone with cmp.Diff: watermarks, nr_free_pages, numa_*, protection, and
// (for the node's first zone) the per-node block, which we keep in node_stats of that zone.
TEST(Zoneinfo, MatchesProcfsEveryZoneAndField) {
  VMTUNE_REQUIRE_SHARED_FIXTURES();
  const std::string rel = "prometheus-procfs/proc/zoneinfo";
  const auto zones = parse_fixture(rel);
  const auto& exp = shared_expected().at(rel);
  ASSERT_EQ(zones.size(), exp.at("_zone_count").get<std::size_t>());
  int checked = 0;
  for (const auto& [zkey, fields] : exp.items()) {
    if (zkey[0] == '_') continue;
    // "Node 0/DMA"
    const int node = std::stoi(zkey.substr(5, zkey.find('/') - 5));
    const auto* z = find_zone(zones, node, zkey.substr(zkey.find('/') + 1));
    ASSERT_NE(z, nullptr) << zkey;
    for (const auto& [f, v] : fields.items()) {
      if (f == "protection") {
        EXPECT_EQ(z->protection, v.get<std::vector<std::uint64_t>>()) << zkey;
        ++checked;
        continue;
      }
      auto got = zone_value(*z, f);
      if (!got && z->node_stats.count(f)) got = z->node_stats.at(f);
      ASSERT_TRUE(got.has_value()) << zkey << " " << f;
      EXPECT_EQ(*got, v.get<std::uint64_t>()) << zkey << " " << f;
      ++checked;
    }
  }
  EXPECT_EQ(checked, 77);
  // The per-node block belongs to the zone it is printed under (DMA), not to the others.
  EXPECT_EQ(find_zone(zones, 0, "DMA")->node_stats.at("nr_active_anon"), 547580u);
  EXPECT_TRUE(find_zone(zones, 0, "DMA32")->node_stats.empty());
  // Movable and Device print no nr_free_pages: absent, not 0.
  for (const char* name : {"Movable", "Device"}) {
    const auto* z = find_zone(zones, 0, name);
    EXPECT_EQ(z->stats.count("nr_free_pages"), 0u) << name;
    EXPECT_FALSE(z->node_unreclaimable.has_value()) << name;
    EXPECT_FALSE(z->boost.has_value()) << name;  // pre-5.0 kernel: no boost line at all
  }
  EXPECT_EQ(find_zone(zones, 0, "DMA")->node_unreclaimable, std::optional<bool>(false));
  EXPECT_EQ(find_zone(zones, 0, "DMA")->stats.at("start_pfn"), 1u);
  EXPECT_EQ(find_zone(zones, 0, "DMA")->free, std::optional<std::uint64_t>(3952));
}

// jc's layout: entries[i] = {node, <per-node stats>..., <zone>: {pages: {...}, pagesets: [...]}}.
// Both zoneinfo (1 node) and zoneinfo2 (2 nodes, a pageset block under Device) are checked
// field by field, including node_unreclaimable that jc attaches to the last pageset.
void check_jc(const std::string& rel) {
  const auto zones = parse_fixture(rel);
  int checked = 0;
  std::size_t expected_zones = 0;
  for (const auto& entry : shared_expected().at(rel).at("entries")) {
    const int node = entry.at("node").get<int>();
    const model::Zone* node_block_zone = nullptr;
    for (const auto& [k, v] : entry.items()) {
      if (!v.is_object()) continue;
      ++expected_zones;
      const auto* z = find_zone(zones, node, k);
      ASSERT_NE(z, nullptr) << rel << " node " << node << " " << k;
      if (!z->node_stats.empty()) node_block_zone = z;
      for (const auto& [f, x] : v.at("pages").items()) {
        if (f == "protection") {
          EXPECT_EQ(z->protection, x.get<std::vector<std::uint64_t>>()) << rel << " " << k;
        } else {
          const auto got = zone_value(*z, f);
          ASSERT_TRUE(got.has_value()) << rel << " " << k << " " << f;
          EXPECT_EQ(*got, x.get<std::uint64_t>()) << rel << " " << k << " " << f;
        }
        ++checked;
      }
      if (v.contains("pagesets") && !v.at("pagesets").empty() &&
          v.at("pagesets").back().contains("node_unreclaimable")) {
        const bool want = v.at("pagesets").back().at("node_unreclaimable").get<int>() != 0;
        EXPECT_EQ(z->node_unreclaimable, std::optional<bool>(want)) << rel << " " << k;
        EXPECT_EQ(z->stats.at("start_pfn"),
                  v.at("pagesets").back().at("start_pfn").get<std::uint64_t>());
        ++checked;
      }
    }
    // The node-level keys of the entry are the per-node stats block.
    ASSERT_NE(node_block_zone, nullptr) << rel << " node " << node;
    for (const auto& [k, v] : entry.items()) {
      if (v.is_object() || k == "node") continue;
      ASSERT_TRUE(node_block_zone->node_stats.count(k)) << rel << " " << k;
      EXPECT_EQ(node_block_zone->node_stats.at(k), v.get<std::uint64_t>()) << rel << " " << k;
      ++checked;
    }
  }
  EXPECT_EQ(zones.size(), expected_zones) << rel;
  EXPECT_GT(checked, 100) << rel;
}

TEST(Zoneinfo, MatchesJcBothVariants) {
  VMTUNE_REQUIRE_SHARED_FIXTURES();
  check_jc("kellyjonbrazil-jc/linux-proc/zoneinfo");
  check_jc("kellyjonbrazil-jc/linux-proc/zoneinfo2");
  const auto z2 = parse_fixture("kellyjonbrazil-jc/linux-proc/zoneinfo2");
  ASSERT_EQ(z2.size(), 10u);
  // zoneinfo2's node 1 Device zone carries a pagesets block and node_unreclaimable: 9.
  EXPECT_EQ(find_zone(z2, 1, "Device")->node_unreclaimable, std::optional<bool>(true));
  EXPECT_EQ(find_zone(z2, 0, "Device")->node_unreclaimable, std::nullopt);
}

// node_exporter: node_zoneinfo_<name>[_pages|_total]{node,zone}; per-node values are
// attributed to the zone the block is printed under (as procfs does).
TEST(Zoneinfo, MatchesNodeExporterEveryMetric) {
  VMTUNE_REQUIRE_SHARED_FIXTURES();
  const std::string rel = "prometheus-node_exporter/proc/zoneinfo";
  const auto zones = parse_fixture(rel);
  const std::regex re(R"re(node_zoneinfo_(\w+)\{node="(\d+)",zone="(\w+)"\})re");
  int checked = 0;
  for (const auto& [key, value] : shared_expected().at(rel).items()) {
    if (key[0] == '_') continue;
    std::smatch m;
    ASSERT_TRUE(std::regex_match(key, m, re)) << key;
    std::string name = m[1];
    const auto* z = find_zone(zones, std::stoi(m[2]), m[3]);
    ASSERT_NE(z, nullptr) << key;
    if (name.rfind("protection_", 0) == 0) {
      const auto i = std::stoul(name.substr(11));
      ASSERT_LT(i, z->protection.size()) << key;
      EXPECT_EQ(z->protection[i], value.get<std::uint64_t>()) << key;
      ++checked;
      continue;
    }
    // The metric name is the kernel's, sometimes with a unit suffix added ("min_pages",
    // "numa_hit_total") and sometimes not ("nr_anon_pages" is the kernel's own name).
    std::vector<std::string> candidates = {name};
    for (const std::string s : {"_pages", "_total"}) {
      if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0) {
        candidates.push_back(name.substr(0, name.size() - s.size()));
      }
    }
    if (name == "nr_kernel_stacks") candidates = {"nr_kernel_stack"};
    std::optional<std::uint64_t> got;
    for (const auto& c : candidates) {
      if (!got) got = zone_value(*z, c);
      if (!got && z->node_stats.count(c)) got = z->node_stats.at(c);
    }
    ASSERT_TRUE(got.has_value()) << key;
    EXPECT_EQ(*got, value.get<std::uint64_t>()) << key;
    ++checked;
  }
  EXPECT_EQ(checked, 97);
}

// PCP (3.x to 5.x kernels, 1-2 nodes) reports every zoneinfo value in kB (pages x 4 on
// these x86 captures): "Zone::nodeN" instances for zone values, "nodeN" for the per-node
// block. Old kernels print "scanned" (later "node_scanned") in the watermark block.
TEST(Zoneinfo, MatchesPcpAllSevenCaptures) {
  VMTUNE_REQUIRE_SHARED_FIXTURES();
  for (int i = 1; i <= 7; ++i) {
    const std::string rel =
        "performancecopilot-pcp/meminfo-root-00" + std::to_string(i) + "/proc/zoneinfo";
    const auto zones = parse_fixture(rel);
    int checked = 0;
    for (const auto& [metric, instances] : shared_expected().at(rel).items()) {
      if (metric[0] == '_') continue;
      std::string name = metric.substr(std::string("mem.zoneinfo.").size());
      // PCP's names for workingset_activate_{anon,file}.
      if (name.rfind("workingset_active_", 0) == 0) name.insert(16, "at");
      for (const auto& [inst, v] : instances.items()) {
        const std::uint64_t want = v.get<std::uint64_t>();
        std::optional<std::uint64_t> got;
        const auto sep = inst.find("::");
        if (sep == std::string::npos) {
          // "node1": the per-node block, printed under exactly one zone of that node.
          const int node = std::stoi(inst.substr(4));
          int blocks = 0;
          for (const auto& z : zones) {
            if (z.node == node && z.node_stats.count(name)) {
              got = z.node_stats.at(name);
              ++blocks;
            }
          }
          EXPECT_EQ(blocks, 1) << rel << " " << name << " " << inst;
        } else {
          const std::string zname = inst.substr(0, sep);
          std::string rest = inst.substr(sep + 2);
          const auto sep2 = rest.find("::");
          const int node =
              std::stoi(rest.substr(4, sep2 == std::string::npos ? rest.npos : sep2 - 4));
          const auto* z = find_zone(zones, node, zname);
          ASSERT_NE(z, nullptr) << rel << " " << inst;
          if (name == "protection") {
            const auto idx = std::stoul(rest.substr(rest.find("lowmem_reserved") + 15));
            if (idx < z->protection.size()) got = z->protection[idx];
          } else if (name == "scanned") {
            got = zone_value(*z, "scanned");
            if (!got) got = zone_value(*z, "node_scanned");
          } else {
            got = zone_value(*z, name);
          }
        }
        ASSERT_TRUE(got.has_value()) << rel << " " << name << " " << inst;
        EXPECT_EQ(*got * 4, want) << rel << " " << name << " " << inst;
        ++checked;
      }
    }
    EXPECT_GT(checked, 120) << rel;
  }
}

// meminfo-root-006 has a counter printed with an empty name (a bare number after
// nr_written): real kernel output, skipped without a complaint, and it must not shift the
// following lines.
TEST(Zoneinfo, NamelessKernelCounterIsSkippedQuietly) {
  VMTUNE_REQUIRE_SHARED_FIXTURES();
  const auto zones = parse_fixture("performancecopilot-pcp/meminfo-root-006/proc/zoneinfo");
  const auto* dma = find_zone(zones, 0, "DMA");
  ASSERT_NE(dma, nullptr);
  EXPECT_EQ(dma->node_stats.at("nr_written"), 17146999u);
  EXPECT_EQ(dma->free, std::optional<std::uint64_t>(3975));
  EXPECT_EQ(dma->min, std::optional<std::uint64_t>(69));
}

TEST(Zoneinfo, OldKernelAllUnreclaimableAndNewKernelBoostCma) {
  VMTUNE_REQUIRE_SHARED_FIXTURES();
  const auto old = parse_fixture("performancecopilot-pcp/meminfo-root-001/proc/zoneinfo");
  EXPECT_EQ(find_zone(old, 0, "DMA")->node_unreclaimable, std::optional<bool>(true));
  EXPECT_EQ(find_zone(old, 0, "DMA32")->node_unreclaimable, std::optional<bool>(false));
  EXPECT_EQ(find_zone(old, 0, "DMA")->stats.at("inactive_ratio"), 1u);
  EXPECT_TRUE(find_zone(old, 0, "DMA")->node_stats.empty());  // no per-node block before 4.8

  const auto live = parse_fixture("live-firecracker-6.18/proc/zoneinfo");
  ASSERT_EQ(live.size(), 5u);
  for (const auto& z : live) {
    SCOPED_TRACE(z.name);
    EXPECT_TRUE(z.boost.has_value());
    EXPECT_TRUE(z.cma.has_value());
    EXPECT_TRUE(z.free.has_value());
    EXPECT_EQ(z.protection.size(), 5u);
    if (z.managed.value_or(0) > 0) {
      EXPECT_LT(*z.min, *z.low);
      EXPECT_LT(*z.low, *z.high);
      EXPECT_TRUE(z.stats.count("promo"));
      EXPECT_TRUE(z.stats.count("nr_free_pages"));
    }
  }
  EXPECT_FALSE(find_zone(live, 0, "DMA")->node_stats.empty());
}

TEST(Zoneinfo, BadValuesAreReportedWithLineAndField) {
  const std::string text =
      "Node 0, zone   Normal\n"         // 1
      "  pages free     12x\n"          // 2
      "        min      5\n"            // 3
      "        low      six\n"          // 4
      "        protection: (0, x)\n"    // 5
      "      nr_free_pages 12\n"        // 6
      "  pagesets\n"                    // 7
      "    cpu: 0\n"                    // 8
      "              count: 3\n"        // 9
      "  node_unreclaimable:  maybe\n"  // 10
      "Node x, zone   DMA\n"            // 11
      "  pages free     1\n"            // 12
      "Node 1, zone   DMA\n"            // 13
      "  pages free     7\n";           // 14
  std::vector<core::Error> bad;
  auto z = parse_zoneinfo(text, "/proc/zoneinfo", &bad);
  ASSERT_TRUE(z.ok());
  ASSERT_EQ(z->size(), 2u);  // the zone with the broken header is dropped with its lines
  const auto& normal = (*z)[0];
  EXPECT_FALSE(normal.free.has_value());
  EXPECT_EQ(normal.min, std::optional<std::uint64_t>(5));
  EXPECT_FALSE(normal.low.has_value());
  EXPECT_TRUE(normal.protection.empty());
  EXPECT_EQ(normal.stats.at("nr_free_pages"), 12u);
  EXPECT_FALSE(normal.node_unreclaimable.has_value());
  EXPECT_EQ((*z)[1].node, 1);
  EXPECT_EQ((*z)[1].free, std::optional<std::uint64_t>(7));
  ASSERT_EQ(bad.size(), 5u);
  EXPECT_EQ(bad[0].line, 2);
  EXPECT_EQ(bad[0].field, "pages free");
  EXPECT_EQ(bad[1].line, 4);
  EXPECT_EQ(bad[1].field, "low");
  EXPECT_EQ(bad[2].line, 5);
  EXPECT_EQ(bad[2].field, "protection");
  EXPECT_EQ(bad[3].line, 10);
  EXPECT_EQ(bad[3].field, "node_unreclaimable");
  EXPECT_EQ(bad[4].line, 11);
  EXPECT_EQ(bad[4].to_string().rfind("/proc/zoneinfo:11: field \"zone\"", 0), 0u)
      << bad[4].to_string();
}

TEST(Zoneinfo, EmptyGarbageAndTruncatedFiles) {
  auto empty = parse_zoneinfo("", "/proc/zoneinfo", nullptr);
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().to_string(), "/proc/zoneinfo: file is empty");
  std::vector<core::Error> bad;
  auto garbage =
      parse_zoneinfo(std::string("\xff\xfe garbage\n\0\x01", 14), "/proc/zoneinfo", &bad);
  ASSERT_FALSE(garbage.ok());
  EXPECT_EQ(bad.size(), 1u);  // one report for the run of lines before any header
  EXPECT_EQ(bad[0].line, 1);

  VMTUNE_REQUIRE_SHARED_FIXTURES();
  auto text = slurp(shared_fixtures() / "prometheus-procfs/proc/zoneinfo");
  const auto cut = text.find("Node 0, zone   Normal");
  ASSERT_NE(cut, std::string::npos);
  text.resize(cut + 40);  // mid-way through "pages free" of Normal
  bad.clear();
  auto z = parse_zoneinfo(text, "/proc/zoneinfo", &bad);
  ASSERT_TRUE(z.ok());
  ASSERT_EQ(z->size(), 3u);
  EXPECT_EQ((*z)[1].managed, std::optional<std::uint64_t>(742806));
  EXPECT_LE(bad.size(), 1u);
  EXPECT_FALSE((*z)[2].managed.has_value());
}

TEST(Zoneinfo, MissingFileBecomesUnavailable) {
  auto tmp = core::TempDir::create("vmtune-test-");
  ASSERT_TRUE(tmp.ok());
  std::filesystem::create_directories(tmp->path() / "proc");
  model::Sample s;
  read_zoneinfo(core::RootFs::under(tmp->path()), s);
  EXPECT_EQ(s.zones.state, model::SourceState::missing);
  ASSERT_EQ(s.unavailable.size(), 1u);
  EXPECT_EQ(s.unavailable[0].path, "/proc/zoneinfo");
  EXPECT_EQ(s.unavailable[0].source, "zoneinfo");
}

// Cross-file consistency in the project's own capture (no ../shared needed): the zones' free
// pages add up to vmstat's nr_free_pages up to the per-CPU drift of one capture, and each
// zone's watermarks are ordered.
TEST(Zoneinfo, ProjectTreeLiveDebian12) {
  const auto fs = core::RootFs::under(test::test_data() / "live-debian12");
  model::Sample s;
  read_zoneinfo(fs, s);
  ASSERT_TRUE(s.zones.ok()) << s.zones.reason();
  EXPECT_TRUE(s.unavailable.empty());
  const auto& zones = *s.zones.value;
  ASSERT_EQ(zones.size(), 5u);
  std::uint64_t free = 0, managed = 0;
  int node_blocks = 0;
  for (const auto& z : zones) {
    free += z.free.value_or(0);
    managed += z.managed.value_or(0);
    node_blocks += z.node_stats.empty() ? 0 : 1;
    if (z.managed.value_or(0) > 0) {
      EXPECT_LE(*z.min, *z.low) << z.name;
      EXPECT_LE(*z.low, *z.high) << z.name;
      EXPECT_EQ(z.stats.at("nr_free_pages"), *z.free) << z.name;
    }
  }
  EXPECT_EQ(node_blocks, 1);
  const auto vm = slurp(test::test_data() / "live-debian12/proc/vmstat");
  const auto pos = vm.find("nr_free_pages ");
  ASSERT_NE(pos, std::string::npos);
  const double global = std::stod(vm.substr(pos + 14));
  EXPECT_NEAR(static_cast<double>(free), global, 0.05 * static_cast<double>(managed));
}

TEST(Zoneinfo, LiveRead) {
  model::Sample s;
  read_zoneinfo(core::RootFs(), s);
  ASSERT_TRUE(s.zones.ok()) << s.zones.reason();
  EXPECT_TRUE(s.unavailable.empty());
  bool normal = false;
  for (const auto& z : *s.zones.value) {
    if (z.name == "Normal" || z.name == "DMA32") normal = normal || z.managed.value_or(0) > 0;
    EXPECT_TRUE(z.free.has_value()) << z.name;
  }
  EXPECT_TRUE(normal);
}

// Strict parsing: a damaged watermark or counter is absent in that zone, with file, line and
// field; the other zones and fields are kept.
TEST(ZoneinfoStrict, EachKindOfDamageIsAnErrorForThatFieldOnly) {
  const std::string text =
      "Node 0, zone   Normal\n"
      "  pages free     abc\n"  // 2: not a number
      "        boost    0\n"
      "        min      \n"                      // 4: (a bare key) value missing
      "        low      99999999999999999999\n"  // 5: out of range
      "        high     -3\n"                    // 6: negative
      "        spanned  100x\n"                  // 7: trailing characters
      "        present  100\n"
      "        managed  90\n"
      "      nr_free_pages 12 kB\n"  // 10: one word too many
      "  node_unreclaimable:  1\n"
      "  start_pfn:           x\n";  // 12: not a number
  std::vector<core::Error> bad;
  auto z = parse_zoneinfo(text, "/proc/zoneinfo", &bad);
  ASSERT_TRUE(z.ok());
  ASSERT_EQ(z->size(), 1u);
  const auto& zone = z->front();
  EXPECT_FALSE(zone.free);
  EXPECT_FALSE(zone.min);
  EXPECT_FALSE(zone.low);
  EXPECT_FALSE(zone.high);
  EXPECT_FALSE(zone.spanned);
  EXPECT_EQ(zone.boost, 0u);
  EXPECT_EQ(zone.present, 100u);
  EXPECT_EQ(zone.managed, 90u);
  EXPECT_EQ(zone.stats.count("nr_free_pages"), 0u);
  EXPECT_EQ(zone.stats.count("start_pfn"), 0u);
  EXPECT_EQ(zone.node_unreclaimable, true);
  const std::string names = "expected \"<name> <unsigned integer>\": ";
  EXPECT_EQ(
      test::error_strings(bad),
      (std::vector<std::string>{
          "/proc/zoneinfo:2: field \"pages free\": expected \"pages free <n>\": not a number",
          "/proc/zoneinfo:4: field \"min\": " + names + "the value is missing",
          "/proc/zoneinfo:5: field \"low\": " + names + "out of range",
          "/proc/zoneinfo:6: field \"high\": " + names + "negative",
          "/proc/zoneinfo:7: field \"spanned\": " + names + "trailing characters after the number",
          "/proc/zoneinfo:10: field \"nr_free_pages\": " + names +
              "trailing characters after the number",
          "/proc/zoneinfo:12: field \"start_pfn\": expected \"<key>: <n>\": not a number",
      }));
}

TEST(ZoneinfoStrict, EmptyFileIsAnError) {
  auto r = parse_zoneinfo("", "/proc/zoneinfo", nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().to_string(), "/proc/zoneinfo: file is empty");
  EXPECT_FALSE(parse_zoneinfo("\n  \n", "/proc/zoneinfo", nullptr).ok());
}

}  // namespace
}  // namespace vmtune::collect
