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
  /// A second instance on the host: a copy of the first (after `server`), changed by this.
  std::function<void(model::PgInstance&)> second;
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
    if (c.second) {
      auto other = inst;
      c.second(other);
      sample.postgres.value->instances.push_back(std::move(other));
    }
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

TEST(PostgresRules, PageTableCostFromTheMeasuredSumOfVmPTE) {
  // 150 backends that each touched ~1.5 GiB of a 4 GiB segment (the integration test's shape):
  // Σ VmPTE 228 MiB, Σ RssShmem 110 GiB -> 220 MiB of it for shared memory.
  const auto backends = [](std::uint64_t pte_mib) {
    return [pte_mib](model::PgInstance& i) {
      pg15_defaults(i, "off");
      i.page_tables_total = pte_mib << 20;
      i.rss_shmem_total = 110ull << 30;
    };
  };
  // 228 MiB of 24 GiB (0.9 %): reported, info.
  const auto f = evaluate({.server = backends(228)});
  const auto* pt = find(f, "R-PG-PT-1");
  ASSERT_NE(pt, nullptr);
  EXPECT_EQ(pt->severity, Severity::info);
  ASSERT_FALSE(pt->evidence.empty());
  EXPECT_EQ(pt->evidence[0].number, 228.0 * 1024 * 1024);
  // With 2 MiB pages: 8 MiB private + 110 GiB / 262144 = 440 KiB.
  EXPECT_NEAR(*pt->evidence[2].number, 8.0 * 1024 * 1024 + 440.0 * 1024, 1.0);
  EXPECT_FALSE(pt->subject.empty());
  // The whole plan: pool, then huge_pages = on for this instance.
  ASSERT_EQ(pt->recommendations.size(), 2u);
  EXPECT_EQ(pt->recommendations[0].key, "vm.nr_hugepages");
  EXPECT_EQ(pt->recommendations[1].key, "huge_pages");
  EXPECT_EQ(pt->recommendations[1].target, pt->subject);
  // Under 64 MiB: not worth a restart, quiet.
  EXPECT_EQ(find(evaluate({.server = backends(60)}), "R-PG-PT-1"), nullptr);
  // Above 2 % of RAM (4 GiB host): warning; above 5 % without memory pressure: still warning.
  EXPECT_EQ(find(evaluate({.meminfo = {{"MemTotal", "4194304 kB"}}, .server = backends(228)}),
                 "R-PG-PT-1")
                ->severity,
            Severity::warning);
  EXPECT_EQ(find(evaluate({.meminfo = {{"MemTotal", "2097152 kB"}}, .server = backends(228)}),
                 "R-PG-PT-1")
                ->severity,
            Severity::warning);
  // hugetlb-backed: no page-table finding whatever the numbers.
  EXPECT_EQ(find(evaluate({.tree = "pg15_hugepages_on", .server = backends(228)}), "R-PG-PT-1"),
            nullptr);
}

TEST(PostgresRules, TwoInstancesEachFindingNamesItsOwnAndThePoolCoversBoth) {
  const auto second = [](std::uint64_t held) {
    return [held](model::PgInstance& i) {
      i.data_dir = "/srv/pg/second";
      i.port = 5433;
      i.postmaster_pid = 999999;
      i.setting_values["shared_memory_size_in_huge_pages"] = 40;
      i.settings["shared_memory_size_in_huge_pages"] = "40";
      if (held > 0) {
        i.segment_backing = "hugetlb";
        i.segment_size = held * 2048 * 1024;
        if (i.segment) i.segment->kernel_page_size = 2048 * 1024;
        i.settings["huge_pages"] = "on";
      }
    };
  };
  // Neither on huge pages: each instance gets its own finding, the one pool holds both.
  const auto off = [](auto& i) { pg15_defaults(i, "off"); };
  const auto both = evaluate({.server = off, .second = second(0)});
  std::vector<const Finding*> hp;
  for (const auto& f : both) {
    if (f.rule_id == "R-PG-HP-1") hp.push_back(&f);
  }
  ASSERT_EQ(hp.size(), 2u);
  EXPECT_NE(hp[0]->subject, hp[1]->subject);
  EXPECT_NE(hp[1]->subject.find("/srv/pg/second (port 5433, pid 999999)"), std::string::npos);
  for (const auto* f : hp) {
    EXPECT_EQ(f->recommendations[0].proposed, "120");  // 72 + 40 + max(ceil(2.24), 8)
    ASSERT_EQ(f->recommendations.size(), 2u);
    EXPECT_EQ(f->recommendations[1].target, f->subject);  // huge_pages = on for that instance
  }
  // The second already holds its 40 pages in a pool of exactly 40: only the first is short,
  // and the pool counts the second's pages as its own, not as another program's.
  const auto one = evaluate(
      {.meminfo = {{"HugePages_Total", "40"}, {"HugePages_Free", "0"}, {"HugePages_Rsvd", "0"}},
       .server = off,
       .second = second(40)});
  hp.clear();
  for (const auto& f : one) {
    if (f.rule_id == "R-PG-HP-1") hp.push_back(&f);
  }
  ASSERT_EQ(hp.size(), 1u);
  EXPECT_EQ(hp[0]->subject.find("/srv/pg/second"), std::string::npos);
  EXPECT_EQ(hp[0]->recommendations[0].proposed, "120");
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
