// SPDX-License-Identifier: GPL-2.0-or-later
// rules/postgres.toml against the captured PostgreSQL 15 trees (tests/data/postgres/), read the
// way `audit --root` reads a tree; what a connection would add (settings, statistics) is set on
// the discovered instance as the server reported it. Each heuristic fires just past its
// threshold and stays quiet just short of it.
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <regex>

#include "catalogue.hpp"
#include "collect/collector.hpp"
#include "collect/postgres/postgres.hpp"
#include "core/temp_dir.hpp"
#include "rules/audit.hpp"
#include "rules/config.hpp"
#include "rules/engine.hpp"
#include "test_support.hpp"

// Cases below name only the fields they set (designated initializers); GCC 12 warns about the
// omitted ones even though they have default member initializers (fixed in GCC 13).
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace vmtune::rules {
namespace {

namespace fs = std::filesystem;

using test::catalogue;

struct Case {
  std::string tree = "pg15_hugepages_off";
  std::map<std::string, std::string> meminfo;  ///< fields to overwrite ("MemTotal" -> "81920 kB")
  std::function<void(model::PgInstance&)> server;  ///< what a connection reported
};

/// The R-PG-* findings for a case.
std::vector<Finding> evaluate(const Case& c) {
  auto tmp = core::TempDir::create("vmtune-pg-rules-");
  EXPECT_TRUE(tmp.ok());
  fs::copy(test::test_data() / "postgres" / c.tree, tmp->path(), fs::copy_options::recursive);
  if (!c.meminfo.empty()) {
    auto text = test::slurp(tmp->path() / "proc/meminfo");
    for (const auto& [k, v] : c.meminfo) {
      text = std::regex_replace(text, std::regex("(^|\n)" + k + ":[^\n]*"), "$1" + k + ": " + v);
    }
    std::ofstream(tmp->path() / "proc/meminfo", std::ios::trunc) << text;
  }
  const auto root = core::RootFs::under(tmp->path());
  auto sample = collect::collect_sample(root, {});
  collect::postgres::collect_postgres(root, {}, sample);
  EXPECT_TRUE(sample.postgres.ok());
  if (c.server && sample.postgres.ok() && !sample.postgres.value->instances.empty()) {
    auto& inst = sample.postgres.value->instances.front();
    inst.connected = true;
    inst.server_version_num = 150020;
    c.server(inst);
    collect::postgres::estimate_double_buffering(inst);
  }
  const auto ev =
      rules::audit(catalogue(), model::make_snapshot(std::move(sample), std::nullopt), Config{});
  std::vector<Finding> out;
  for (const auto& f : ev.findings) {
    if (f.rule_id.rfind("R-PG-", 0) == 0) out.push_back(f);
  }
  return out;
}

const Finding* find(const std::vector<Finding>& fs, const std::string& id) {
  for (const auto& f : fs) {
    if (f.rule_id == id) return &f;
  }
  return nullptr;
}

/// The settings PostgreSQL 15 reported for the captured server (128MB shared_buffers).
void pg15_defaults(model::PgInstance& i, const std::string& huge_pages) {
  i.settings = {{"shared_buffers", "128MB"},
                {"huge_pages", huge_pages},
                {"shared_memory_size_in_huge_pages", "72"},
                {"max_connections", "100"}};
  i.setting_values = {{"shared_buffers", 134217728.0},
                      {"shared_memory_size_in_huge_pages", 72.0},
                      {"max_connections", 100.0},
                      {"block_size", 8192.0}};
}

TEST(PostgresRules, PoolRecommendationFromTheServersOwnCount) {
  const auto f = evaluate({.server = [](auto& i) { pg15_defaults(i, "off"); }});
  const auto* hp = find(f, "R-PG-HP-1");
  ASSERT_NE(hp, nullptr);
  EXPECT_EQ(hp->severity, Severity::info);
  // The pool, and in the same finding huge_pages = on for once it is granted: a user who
  // follows the advice does not end up with a reserved pool the server never uses.
  ASSERT_EQ(hp->recommendations.size(), 2u);
  EXPECT_EQ(hp->recommendations[0].key, "vm.nr_hugepages");
  EXPECT_EQ(hp->recommendations[0].current, "");     // the tree has no /proc/sys
  EXPECT_EQ(hp->recommendations[0].proposed, "80");  // 72 + max(ceil(1.44), 8)
  EXPECT_EQ(hp->recommendations[1].kind, RecommendationKind::postgresql);
  EXPECT_EQ(hp->recommendations[1].key, "huge_pages");
  EXPECT_EQ(hp->recommendations[1].current, "off");
  EXPECT_EQ(hp->recommendations[1].proposed, "on");
  EXPECT_EQ(find(f, "R-PG-HP-2"), nullptr);
}

TEST(PostgresRules, PoolRecommendationWithoutAConnectionUsesTheSegment) {
  // 146016 kB / 2048 kB = 71.3 -> 72 pages, the number the server itself reports.
  const auto f = evaluate({});
  const auto* hp = find(f, "R-PG-HP-1");
  ASSERT_NE(hp, nullptr);
  EXPECT_EQ(hp->recommendations[0].proposed, "80");
}

TEST(PostgresRules, PoolThatHoldsTheSegmentIsQuietOneLessFires) {
  const auto on = [](auto& i) { pg15_defaults(i, "on"); };
  // Captured: 80 pages, 62 free, 54 reserved, the segment holds 72 -> nobody else uses any.
  EXPECT_EQ(find(evaluate({.tree = "pg15_hugepages_on", .server = on}), "R-PG-HP-1"), nullptr);
  EXPECT_EQ(find(evaluate({.tree = "pg15_hugepages_on",
                           .meminfo = {{"HugePages_Total", "72"}, {"HugePages_Free", "54"}},
                           .server = on}),
                 "R-PG-HP-1"),
            nullptr);
  // 79 pages, 53 free, 54 reserved: 80 in use, 72 of them the segment, 8 someone else's;
  // 72 + 8 do not fit in 79.
  const auto f = evaluate({.tree = "pg15_hugepages_on",
                           .meminfo = {{"HugePages_Total", "79"}, {"HugePages_Free", "53"}},
                           .server = on});
  const auto* hp = find(f, "R-PG-HP-1");
  ASSERT_NE(hp, nullptr);
  EXPECT_EQ(hp->recommendations[0].proposed, "88");  // 72 + 8 margin + 8 used by others
}

TEST(PostgresRules, HugePagesOnOnceThePoolFits) {
  const auto try_ = [](auto& i) { pg15_defaults(i, "try"); };
  const auto f = evaluate({.tree = "pg15_hugepages_on", .server = try_});
  const auto* on = find(f, "R-PG-HP-2");
  ASSERT_NE(on, nullptr);
  ASSERT_EQ(on->recommendations.size(), 1u);
  EXPECT_EQ(to_string(on->recommendations[0].kind), std::string("postgresql"));
  EXPECT_EQ(on->recommendations[0].key, "huge_pages");
  EXPECT_EQ(on->recommendations[0].proposed, "on");
  // Already on; or the pool too small (off tree, no pages): quiet.
  EXPECT_EQ(find(evaluate({.tree = "pg15_hugepages_on",
                           .server = [](auto& i) { pg15_defaults(i, "on"); }}),
                 "R-PG-HP-2"),
            nullptr);
  EXPECT_EQ(find(evaluate({.server = try_}), "R-PG-HP-2"), nullptr);
}

TEST(PostgresRules, PageTableCostAroundTwoAndFivePercent) {
  // Σ VmPTE of the captured server is 1772 kB: 2 % of 88600 kB, 5 % of 35440 kB.
  const auto off = [](auto& i) { pg15_defaults(i, "off"); };
  EXPECT_EQ(find(evaluate({.meminfo = {{"MemTotal", "88700 kB"}}, .server = off}), "R-PG-PT-1"),
            nullptr);
  const auto warn = evaluate({.meminfo = {{"MemTotal", "88500 kB"}}, .server = off});
  const auto* pt = find(warn, "R-PG-PT-1");
  ASSERT_NE(pt, nullptr);
  EXPECT_EQ(pt->severity, Severity::warning);
  EXPECT_EQ(pt->recommendations[0].key, "huge_pages");
  const auto crit = evaluate({.meminfo = {{"MemTotal", "35000 kB"}}, .server = off});
  ASSERT_NE(find(crit, "R-PG-PT-1"), nullptr);
  EXPECT_EQ(find(crit, "R-PG-PT-1")->severity, Severity::critical);
  // hugetlb-backed: no page-table finding whatever the numbers.
  EXPECT_EQ(find(evaluate({.tree = "pg15_hugepages_on", .meminfo = {{"MemTotal", "35000 kB"}}}),
                 "R-PG-PT-1"),
            nullptr);
}

TEST(PostgresRules, SharedBuffersSmallAndMissing) {
  // 128 MB of 24 GB, hit ratio just under and just over 0.99.
  auto hit = [](double r) {
    return [r](model::PgInstance& i) {
      pg15_defaults(i, "off");
      i.stats["database.hit_ratio"] = r;
    };
  };
  const auto f = evaluate({.server = hit(0.985)});
  const auto* sb = find(f, "R-PG-SB-2");
  ASSERT_NE(sb, nullptr);
  EXPECT_EQ(sb->recommendations[0].key, "shared_buffers");
  EXPECT_EQ(sb->recommendations[0].proposed, std::to_string(24683620ull * 1024 / 4 / 8192));
  EXPECT_EQ(find(evaluate({.server = hit(0.995)}), "R-PG-SB-2"), nullptr);
  EXPECT_EQ(find(evaluate({.server = hit(0.5)}), "R-PG-SB-1"), nullptr);
}

TEST(PostgresRules, SharedBuffersAboveFortyPercentWithDoubleBuffering) {
  // 128 MB shared_buffers on a 300 MB host (43 %), relation files fully in the page cache.
  auto big = [](double resident) {
    return [resident](model::PgInstance& i) {
      pg15_defaults(i, "off");
      i.page_cache = model::PgPageCache{};
      i.page_cache->bytes_resident_estimate = static_cast<std::uint64_t>(resident);
    };
  };
  const auto f = evaluate({.meminfo = {{"MemTotal", "307200 kB"}}, .server = big(100e6)});
  const auto* sb = find(f, "R-PG-SB-1");
  ASSERT_NE(sb, nullptr);
  EXPECT_EQ(sb->severity, Severity::warning);
  EXPECT_EQ(sb->recommendations[0].proposed, std::to_string(307200ull * 1024 / 4 / 8192));
  // 20 % of shared_buffers double-buffered is the limit: just under stays quiet.
  EXPECT_EQ(
      find(evaluate({.meminfo = {{"MemTotal", "307200 kB"}}, .server = big(0.19 * 134217728)}),
           "R-PG-SB-1"),
      nullptr);
  // 38 % of RAM: quiet however much is double-buffered.
  EXPECT_EQ(
      find(evaluate({.meminfo = {{"MemTotal", "344064 kB"}}, .server = big(100e6)}), "R-PG-SB-1"),
      nullptr);
}

TEST(PostgresRules, DoubleBufferingFinding) {
  auto sb_and_cache = [](double sb, double resident) {
    return [sb, resident](model::PgInstance& i) {
      pg15_defaults(i, "off");
      i.setting_values["shared_buffers"] = sb;
      i.page_cache = model::PgPageCache{};
      i.page_cache->bytes_resident_estimate = static_cast<std::uint64_t>(resident);
    };
  };
  const double gib = 1024.0 * 1024 * 1024;
  const auto f = evaluate({.server = sb_and_cache(4 * gib, 3 * gib)});
  const auto* db = find(f, "R-PG-DB-1");
  ASSERT_NE(db, nullptr);
  EXPECT_TRUE(db->recommendations.empty());
  EXPECT_EQ(find(evaluate({.server = sb_and_cache(4 * gib, 1.9 * gib)}), "R-PG-DB-1"), nullptr);
  EXPECT_EQ(find(evaluate({.server = sb_and_cache(1.5 * gib, 0.9 * gib)}), "R-PG-DB-1"), nullptr)
      << "under 1 GiB is not worth a finding";
}

}  // namespace
}  // namespace vmtune::rules
