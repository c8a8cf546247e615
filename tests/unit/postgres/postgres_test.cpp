// SPDX-License-Identifier: GPL-2.0-or-later
#include "collect/postgres/postgres.hpp"

#include <gtest/gtest.h>

#include "json/sample_json.hpp"
#include "test_support.hpp"

namespace vmtune::collect::postgres {
namespace {

model::PgInstance with_cache(std::uint64_t resident, double shared_buffers) {
  model::PgInstance i;
  model::PgPageCache pc;
  pc.bytes_total = pc.bytes_sampled = 1ull << 30;
  pc.bytes_resident = pc.bytes_resident_estimate = resident;
  i.page_cache = pc;
  if (shared_buffers > 0) i.setting_values["shared_buffers"] = shared_buffers;
  return i;
}

TEST(DoubleBuffering, BoundedByPageCacheAndSharedBuffers) {
  auto small = with_cache(10u << 20, 128.0 * 1024 * 1024);
  estimate_double_buffering(small);
  EXPECT_EQ(small.double_buffered_bytes, 10u << 20);
  EXPECT_DOUBLE_EQ(*small.double_buffered_ratio, 10.0 / 128.0);
  EXPECT_EQ(small.page_cache_overlap, 10u << 20);
  EXPECT_EQ(small.relation_bytes_sampled, 1ull << 30);

  auto big = with_cache(900u << 20, 128.0 * 1024 * 1024);
  estimate_double_buffering(big);
  EXPECT_EQ(big.double_buffered_bytes, 128u << 20);
  EXPECT_DOUBLE_EQ(*big.double_buffered_ratio, 1.0);

  // pg_buffercache says only 1000 buffers are in use: that bounds the overlap.
  auto used = with_cache(900u << 20, 128.0 * 1024 * 1024);
  used.buffercache = model::PgBufferCache{};
  used.buffercache->buffers_used = 1000;
  estimate_double_buffering(used);
  EXPECT_EQ(used.double_buffered_bytes, 1000u * 8192);

  auto unknown = with_cache(900u << 20, 0);  // no connection: shared_buffers unknown
  estimate_double_buffering(unknown);
  EXPECT_FALSE(unknown.double_buffered_bytes);
  EXPECT_EQ(unknown.page_cache_overlap, 900u << 20);
}

TEST(CollectPostgres, CapturedTreeWithoutConnectionOrSampler) {
  model::Sample s;
  PostgresOptions opt;  // a captured tree: no connection, no page-cache sampling
  collect_postgres(core::RootFs::under(test::test_data() / "postgres/pg15_hugepages_on"), opt, s);
  ASSERT_TRUE(s.postgres.ok());
  ASSERT_EQ(s.postgres.value->instances.size(), 1u);
  const auto& i = s.postgres.value->instances[0];
  EXPECT_EQ(i.segment_backing, "hugetlb");
  EXPECT_FALSE(i.connected);
  EXPECT_TRUE(i.connection_error.empty()) << "no connection was attempted";
  EXPECT_FALSE(i.page_cache);
  EXPECT_TRUE(s.unavailable.empty());
}

TEST(CollectPostgres, FactsSurviveTheSnapshotJsonRoundTrip) {
  model::Sample s;
  collect_postgres(core::RootFs::under(test::test_data() / "postgres/pg15_hugepages_off"), {}, s);
  ASSERT_TRUE(s.postgres.ok());
  auto facts = *s.postgres.value;
  facts.instances[0].settings["shared_buffers"] = "128MB";
  facts.instances[0].setting_values["shared_buffers"] = 134217728;
  facts.instances[0].stats["database.hit_ratio"] = 0.5;
  facts.instances[0].page_cache = model::PgPageCache{};
  facts.instances[0].page_cache->bytes_resident_estimate = 7;
  const auto j = json::postgres_to_json(facts);
  const auto back = json::postgres_from_json(nlohmann::json::parse(j.dump()));
  EXPECT_EQ(json::postgres_to_json(back), j);
  ASSERT_EQ(back.instances.size(), 1u);
  EXPECT_EQ(back.instances[0].segment->mapping, "/dev/zero (deleted)");
  EXPECT_EQ(back.instances[0].page_tables_total, 1772ull * 1024);
  EXPECT_THROW(json::postgres_from_json(nlohmann::json::parse(R"({"instances": 3})")),
               nlohmann::json::exception);
}

}  // namespace
}  // namespace vmtune::collect::postgres
