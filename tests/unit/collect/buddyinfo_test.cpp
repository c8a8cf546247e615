// SPDX-License-Identifier: GPL-2.0-or-later
#include "collect/buddyinfo.hpp"

#include <gtest/gtest.h>

#include <regex>

#include "collect/zoneinfo.hpp"
#include "core/temp_dir.hpp"
#include "model/derive.hpp"
#include "strict_support.hpp"
#include "test_support.hpp"

namespace vmtune::collect {
namespace {

using test::shared_expected;
using test::shared_fixtures;
using test::slurp;

std::vector<model::BuddyZone> parse_fixture(const std::string& rel) {
  std::vector<core::Error> bad;
  auto b = parse_buddyinfo(slurp(shared_fixtures() / rel), "/proc/buddyinfo", &bad);
  EXPECT_TRUE(b.ok()) << rel << ": " << (b.ok() ? "" : b.error().to_string());
  EXPECT_TRUE(bad.empty()) << rel << ": " << (bad.empty() ? "" : bad.front().to_string());
  return b.ok() ? *b : std::vector<model::BuddyZone>{};
}

const model::BuddyZone* find(const std::vector<model::BuddyZone>& zs, int node,
                             const std::string& zone) {
  for (const auto& z : zs) {
    if (z.node == node && z.zone == zone) return &z;
  }
  return nullptr;
}

TEST(Buddyinfo, MatchesProcfs) {
  VMTUNE_REQUIRE_SHARED_FIXTURES();
  const std::string rel = "prometheus-procfs/proc/buddyinfo";
  const auto zs = parse_fixture(rel);
  const auto& exp = shared_expected().at(rel);
  ASSERT_EQ(zs.size(), 3u);
  const auto order = exp.at("_zone_order").get<std::vector<std::string>>();
  for (std::size_t i = 0; i < zs.size(); ++i) {
    EXPECT_EQ(zs[i].zone, order[i]);
    EXPECT_EQ(zs[i].node, 0);
    EXPECT_EQ(zs[i].free_blocks.size(), 11u);
  }
  EXPECT_EQ(find(zs, 0, "Normal")->free_blocks[0],
            exp.at("Node 0/Normal/order0").get<std::uint64_t>());
  EXPECT_EQ(find(zs, 0, "DMA32")->free_blocks[1],
            exp.at("Node 0/DMA32/order1").get<std::uint64_t>());
}

TEST(Buddyinfo, MatchesJcEveryEntry) {
  VMTUNE_REQUIRE_SHARED_FIXTURES();
  const std::string rel = "kellyjonbrazil-jc/linux-proc/buddyinfo";
  const auto zs = parse_fixture(rel);
  const auto& entries = shared_expected().at(rel).at("entries");
  ASSERT_EQ(zs.size(), entries.size());
  for (std::size_t i = 0; i < zs.size(); ++i) {
    EXPECT_EQ(zs[i].node, entries[i].at("node").get<int>());
    EXPECT_EQ(zs[i].zone, entries[i].at("zone").get<std::string>());
    EXPECT_EQ(zs[i].free_blocks, entries[i].at("free_chunks").get<std::vector<std::uint64_t>>());
  }
}

// node_exporter's file has a trailing space on every line; it exports each (node, zone, order).
TEST(Buddyinfo, MatchesNodeExporterEveryBlockCount) {
  VMTUNE_REQUIRE_SHARED_FIXTURES();
  const std::string rel = "prometheus-node_exporter/proc/buddyinfo";
  const auto zs = parse_fixture(rel);
  const std::regex re(R"re(node_buddyinfo_blocks\{node="(\d+)",size="(\d+)",zone="(\w+)"\})re");
  int checked = 0;
  for (const auto& [key, value] : shared_expected().at(rel).items()) {
    if (key[0] == '_') continue;
    std::smatch m;
    ASSERT_TRUE(std::regex_match(key, m, re)) << key;
    const auto* z = find(zs, std::stoi(m[1]), m[3]);
    ASSERT_NE(z, nullptr) << key;
    EXPECT_EQ(z->free_blocks.at(std::stoul(m[2])), value.get<std::uint64_t>()) << key;
    ++checked;
  }
  EXPECT_EQ(checked, 33);
}

// PCP: mem.buddyinfo.pages = block count; mem.buddyinfo.total = count * 2^order * 4 kB.
TEST(Buddyinfo, MatchesPcpPagesAndTotals) {
  VMTUNE_REQUIRE_SHARED_FIXTURES();
  const std::string rel = "performancecopilot-pcp/meminfo-root-001/proc/buddyinfo";
  const auto zs = parse_fixture(rel);
  const std::regex re(R"re((\w+)::order(\d+)::node(\d+))re");
  int checked = 0;
  for (const char* metric : {"mem.buddyinfo.pages", "mem.buddyinfo.total"}) {
    const bool total = std::string(metric) == "mem.buddyinfo.total";
    for (const auto& [inst, value] : shared_expected().at(rel).at(metric).items()) {
      std::smatch m;
      ASSERT_TRUE(std::regex_match(inst, m, re)) << inst;
      const auto* z = find(zs, std::stoi(m[3]), m[1]);
      ASSERT_NE(z, nullptr) << inst;
      const auto order = std::stoul(m[2]);
      const std::uint64_t blocks = z->free_blocks.at(order);
      EXPECT_EQ(total ? blocks * (1ull << order) * 4 : blocks, value.get<std::uint64_t>())
          << metric << " " << inst;
      ++checked;
    }
  }
  EXPECT_EQ(checked, 66);
}

TEST(Buddyinfo, BadLinesAreReportedWithLineAndField) {
  const std::string text =
      "Node 0, zone      DMA      1      0      1\n"
      "Node 0, zone    DMA32    759    5x2\n"
      "Node x, zone   Normal   4381\n"
      "garbage\n"
      "Node 1, zone   Normal   4 3 2\n"
      "Node 1, zone   Movable  4 3 2 1\n";
  std::vector<core::Error> bad;
  auto b = parse_buddyinfo(text, "/proc/buddyinfo", &bad);
  ASSERT_TRUE(b.ok());
  ASSERT_EQ(b->size(), 2u);
  EXPECT_EQ((*b)[0].free_blocks, (std::vector<std::uint64_t>{1, 0, 1}));
  EXPECT_EQ((*b)[1].node, 1);
  EXPECT_EQ((*b)[1].free_blocks, (std::vector<std::uint64_t>{4, 3, 2}));
  ASSERT_EQ(bad.size(), 4u);
  EXPECT_EQ(bad[0].line, 2);
  EXPECT_EQ(bad[0].field, "order1");
  EXPECT_EQ(bad[3].line, 6);  // 4 orders where the other zones have 3
  EXPECT_EQ(bad[3].field, "order4");
  EXPECT_EQ(bad[0].to_string().rfind("/proc/buddyinfo:2: field \"order1\": ", 0), 0u);
  EXPECT_EQ(bad[1].line, 3);
  EXPECT_EQ(bad[1].field, "node");
  EXPECT_EQ(bad[2].line, 4);
}

TEST(Buddyinfo, EmptyGarbageTruncatedAndMissing) {
  auto empty = parse_buddyinfo("", "/proc/buddyinfo", nullptr);
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().to_string(), "/proc/buddyinfo: file is empty");
  EXPECT_FALSE(parse_buddyinfo(std::string("\0\x01\xff\n", 4), "/proc/buddyinfo", nullptr).ok());
  // Too many orders to be a 64-bit page count: rejected rather than overflowing 2^order.
  std::string longline = "Node 0, zone DMA";
  for (int i = 0; i < 40; ++i) longline += " 1";
  std::vector<core::Error> bad;
  EXPECT_FALSE(parse_buddyinfo(longline, "/proc/buddyinfo", &bad).ok());
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_EQ(bad[0].field, "order32");

  auto tmp = core::TempDir::create("vmtune-test-");
  ASSERT_TRUE(tmp.ok());
  std::filesystem::create_directories(tmp->path() / "proc");
  model::Sample s;
  read_buddyinfo(core::RootFs::under(tmp->path()), s);
  EXPECT_EQ(s.buddyinfo.state, model::SourceState::missing);
  ASSERT_EQ(s.unavailable.size(), 1u);
  EXPECT_EQ(s.unavailable[0].path, "/proc/buddyinfo");

  VMTUNE_REQUIRE_SHARED_FIXTURES();
  auto text = slurp(shared_fixtures() / "prometheus-procfs/proc/buddyinfo");
  text.resize(text.find("Normal") + 20);  // "Normal   4381   1093" : cut between counts
  bad.clear();
  auto b = parse_buddyinfo(text, "/proc/buddyinfo", &bad);
  ASSERT_TRUE(b.ok());
  ASSERT_EQ(b->size(), 2u);  // the short Normal line is rejected, not read as empty orders
  EXPECT_EQ((*b)[1].free_blocks.size(), 11u);
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_EQ(bad[0].line, 3);
  EXPECT_EQ(bad[0].field, "order2");
}

// Buddyinfo and zoneinfo of one capture describe the same free lists: for every zone the
// pages in free blocks (sum of count * 2^order) equal zoneinfo's "pages free" up to the
// drift between the two reads. Uses the project's own tree: no ../shared needed.
TEST(Buddyinfo, ProjectTreeLiveDebian12AgreesWithZoneinfo) {
  const auto fs = core::RootFs::under(test::test_data() / "live-debian12");
  model::Sample s;
  read_buddyinfo(fs, s);
  read_zoneinfo(fs, s);
  ASSERT_TRUE(s.buddyinfo.ok()) << s.buddyinfo.reason();
  ASSERT_TRUE(s.zones.ok()) << s.zones.reason();
  EXPECT_TRUE(s.unavailable.empty());
  int compared = 0;
  for (const auto& b : *s.buddyinfo.value) {
    std::uint64_t pages = 0;
    for (std::size_t k = 0; k < b.free_blocks.size(); ++k) pages += b.free_blocks[k] << k;
    for (const auto& z : *s.zones.value) {
      if (z.node != b.node || z.name != b.zone) continue;
      ASSERT_TRUE(z.free && z.managed);
      EXPECT_NEAR(static_cast<double>(pages), static_cast<double>(*z.free),
                  0.05 * static_cast<double>(*z.managed) + 64)
          << b.zone;
      ++compared;
    }
    const auto idx = model::unusable_free_index(b.free_blocks);
    ASSERT_EQ(idx.size(), b.free_blocks.size());
    EXPECT_EQ(idx[0], 0.0);
    for (std::size_t k = 1; k < idx.size(); ++k) EXPECT_GE(idx[k], idx[k - 1]);
  }
  EXPECT_EQ(compared, 3);
}

TEST(Buddyinfo, LiveRead) {
  model::Sample s;
  read_buddyinfo(core::RootFs(), s);
  ASSERT_TRUE(s.buddyinfo.ok()) << s.buddyinfo.reason();
  EXPECT_TRUE(s.unavailable.empty());
  ASSERT_FALSE(s.buddyinfo.value->empty());
  for (const auto& z : *s.buddyinfo.value) EXPECT_EQ(z.free_blocks.size(), 11u) << z.zone;
}

// Strict parsing: a damaged count drops its zone's line (a partial line would read as "no free
// blocks" in the missing orders), with file, line and field.
TEST(BuddyinfoStrict, EachKindOfDamageIsAnErrorForThatZone) {
  const std::string text =
      "Node 0, zone      DMA      1      0      0\n"
      "Node 0, zone    DMA32      x      0      0\n"                 // not a number
      "Node 0, zone   Normal      5  99999999999999999999      0\n"  // out of range
      "Node 0, zone  Movable      5      -1      0\n"                // negative
      "Node 0, zone   Device      5      1a      0\n"                // trailing characters
      "Node x, zone   Normal      5      1      0\n"                 // bad node
      "Node 1, zone   Normal      5      1\n";                       // cut short
  std::vector<core::Error> bad;
  auto b = parse_buddyinfo(text, "/proc/buddyinfo", &bad);
  ASSERT_TRUE(b.ok());
  ASSERT_EQ(b->size(), 1u);
  EXPECT_EQ(b->front().zone, "DMA");
  EXPECT_EQ(
      test::error_strings(bad),
      (std::vector<std::string>{
          "/proc/buddyinfo:2: field \"order0\": expected an unsigned block count: not a number",
          "/proc/buddyinfo:3: field \"order1\": expected an unsigned block count: out of range",
          "/proc/buddyinfo:4: field \"order1\": expected an unsigned block count: negative",
          "/proc/buddyinfo:5: field \"order1\": expected an unsigned block count: trailing "
          "characters after the number",
          "/proc/buddyinfo:6: field \"node\": expected a node number: not a number",
          "/proc/buddyinfo:7: field \"order2\": expected 3 orders like the zones before it: "
          "the line is cut short or too long",
      }));
}

TEST(BuddyinfoStrict, EmptyFileIsAnError) {
  auto r = parse_buddyinfo("", "/proc/buddyinfo", nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().to_string(), "/proc/buddyinfo: file is empty");
}

}  // namespace
}  // namespace vmtune::collect
