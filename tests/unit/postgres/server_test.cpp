// SPDX-License-Identifier: GPL-2.0-or-later
#include "collect/postgres/server.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

#include "core/temp_dir.hpp"
#include "test_support.hpp"

namespace vmtune::collect::postgres {
namespace {

// Rows of pg_settings (setting, unit) as PostgreSQL 15 prints them.
TEST(Settings, MemoryUnitsBecomeBytes) {
  EXPECT_EQ(setting_to_number("16384", "8kB"), 128.0 * 1024 * 1024);  // shared_buffers 128MB
  EXPECT_EQ(setting_to_number("143", "MB"), 143.0 * 1024 * 1024);     // shared_memory_size
  EXPECT_EQ(setting_to_number("4096", "kB"), 4.0 * 1024 * 1024);      // work_mem 4MB
  EXPECT_EQ(setting_to_number("0", "kB"), 0.0);                       // huge_page_size
  EXPECT_EQ(setting_to_number("-1", "kB"), -1024.0);                  // autovacuum_work_mem -1
  EXPECT_EQ(setting_to_number("1024", "B"), 1024.0);
  EXPECT_EQ(setting_to_number("2", "16MB"), 32.0 * 1024 * 1024);
}

TEST(Settings, OtherNumbersStayAndWordsAreNotNumbers) {
  EXPECT_EQ(setting_to_number("72", ""), 72.0);    // shared_memory_size_in_huge_pages
  EXPECT_EQ(setting_to_number("100", ""), 100.0);  // max_connections
  EXPECT_EQ(setting_to_number("0.9", ""), 0.9);
  EXPECT_EQ(setting_to_number("300", "s"), 300.0);  // checkpoint_timeout stays in seconds
  EXPECT_FALSE(setting_to_number("on", ""));
  EXPECT_FALSE(setting_to_number("mmap", ""));
  EXPECT_FALSE(setting_to_number("", "kB"));
}

// libpq's own messages (PostgreSQL 15 client), as printed for each failure.
TEST(ConnectionErrors, EachCauseGetsItsOwnWords) {
  const std::string t = "host=/run/pg port=5432 user=app dbname=app";
  auto why = [&](const char* msg) { return explain_connection_error(msg, t); };
  EXPECT_NE(why("connection to server at \"127.0.0.1\", port 54329 failed: FATAL:  password "
                "authentication failed for user \"app\"\n")
                .find("wrong password"),
            std::string::npos);
  EXPECT_NE(why("connection to server at \"127.0.0.1\", port 54300 failed: Connection refused\n"
                "\tIs the server running on that host and accepting TCP/IP connections?\n")
                .find("connection refused"),
            std::string::npos);
  const auto sock =
      why("connection to server on socket \"/x/.s.PGSQL.5\" failed: No such file or "
          "directory\n\tIs the server running locally and accepting connections on "
          "that socket?\n");
  EXPECT_NE(sock.find("no server socket"), std::string::npos);
  EXPECT_NE(sock.find(t), std::string::npos);
  EXPECT_EQ(sock.find('\n'), std::string::npos) << "one line";
  EXPECT_NE(why("connection to server on socket \"/x/.s.PGSQL.5\" failed: FATAL:  database "
                "\"nosuchdb\" does not exist\n")
                .find("database does not exist"),
            std::string::npos);
  EXPECT_NE(why("FATAL:  role \"root\" does not exist").find("role does not exist"),
            std::string::npos);
  EXPECT_NE(why("FATAL:  Peer authentication failed for user \"postgres\"").find("peer"),
            std::string::npos);
  EXPECT_NE(why("fe_sendauth: no password supplied").find("none was given"), std::string::npos);
  EXPECT_NE(why("timeout expired").find("timed out"), std::string::npos);
  EXPECT_NE(why("\x1b[31mweird\x01").find("connection failed"), std::string::npos);
}

TEST(Conninfo, DiscoveredSocketAndOwner) {
  ::unsetenv("PGUSER");
  ::unsetenv("PGDATABASE");
  model::PgInstance i;
  i.socket_dir = "/var/run/it's here";
  i.port = 5433;
  i.user = "postgres";
  EXPECT_EQ(conninfo_for_instance(i),
            "host='/var/run/it\\'s here' port=5433 user='postgres' dbname=postgres password='' "
            "passfile=/nonexistent/vmtune-no-passfile");
  model::PgInstance tcp;
  tcp.port = 5432;
  tcp.listen_address = "*";
  EXPECT_EQ(conninfo_for_instance(tcp),
            "host='localhost' port=5432 dbname=postgres password='' "
            "passfile=/nonexistent/vmtune-no-passfile");
}

// A real libpq connection attempt to a socket directory nobody listens in.
TEST(QueryServer, NoServerIsOneClearEntry) {
  auto tmp = core::TempDir::create("vmtune-pg-test-");
  ASSERT_TRUE(tmp.ok());
  model::PgInstance inst;
  std::vector<model::Unavailable> u;
  query_server("host=" + tmp->path().string() + " port=5 user=nobody dbname=x", inst, u);
  EXPECT_FALSE(inst.connected);
  ASSERT_EQ(u.size(), 1u);
  EXPECT_EQ(u[0].source, "postgres");
  EXPECT_EQ(u[0].field, "connection");
  EXPECT_NE(u[0].reason.find("no server socket"), std::string::npos) << u[0].reason;
  EXPECT_EQ(inst.connection_error, u[0].reason);
  EXPECT_EQ(inst.connection, "host=" + tmp->path().string() + " port=5 user=nobody dbname=x");
  EXPECT_TRUE(inst.settings.empty());
}

TEST(QueryServer, PasswordIsNeverInTheEntry) {
  model::PgInstance inst;
  std::vector<model::Unavailable> u;
  query_server("host=127.0.0.1 port=1 user=a password=s3cret-value dbname=b connect_timeout=2",
               inst, u);
  ASSERT_EQ(u.size(), 1u);
  EXPECT_EQ(u[0].reason.find("s3cret-value"), std::string::npos);
  EXPECT_EQ(u[0].path.find("s3cret-value"), std::string::npos);
  EXPECT_EQ(inst.connection.find("s3cret-value"), std::string::npos);
  EXPECT_NE(u[0].reason.find("connection refused"), std::string::npos) << u[0].reason;
}

}  // namespace
}  // namespace vmtune::collect::postgres
