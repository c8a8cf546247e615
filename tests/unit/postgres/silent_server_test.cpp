// SPDX-License-Identifier: GPL-2.0-or-later
// A "PostgreSQL" found from /proc may be any user's program: one that accepts the connection,
// completes the start-up exchange and then never answers a query must not hang vmtune.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <thread>

#include "collect/postgres/server.hpp"
#include "core/temp_dir.hpp"

namespace vmtune::collect::postgres {
namespace {

void put32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((v >> shift) & 0xff);
}

/// Listens on DIR/.s.PGSQL.PORT, answers the start-up with AuthenticationOk, BackendKeyData
/// and ReadyForQuery (protocol 3), then reads whatever comes and answers nothing.
class SilentServer {
 public:
  /// ask_password: answer the start-up with AuthenticationCleartextPassword instead, and keep
  /// what the client sends back.
  SilentServer(const std::filesystem::path& dir, int port, bool ask_password = false)
      : ask_password_(ask_password) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const auto path = (dir / (".s.PGSQL." + std::to_string(port))).string();
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    ok_ =
        ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 && ::listen(fd_, 4) == 0;
    thread_ = std::thread([this] { serve(); });
  }
  ~SilentServer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  bool ok() const { return ok_; }
  std::string received() {
    std::lock_guard<std::mutex> lock(mutex_);
    return received_;
  }

 private:
  void serve() {
    while (!stop_) {
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      char buf[4096];
      if (::read(c, buf, sizeof buf) <= 0) {  // the start-up packet
        ::close(c);
        continue;
      }
      std::string reply;
      if (ask_password_) {
        reply += 'R';
        put32(reply, 8);
        put32(reply, 3);  // AuthenticationCleartextPassword
        if (::write(c, reply.data(), reply.size()) > 0) {
          ssize_t n;
          while ((n = ::read(c, buf, sizeof buf)) > 0) {
            std::lock_guard<std::mutex> lock(mutex_);
            received_.append(buf, static_cast<std::size_t>(n));
          }
        }
        ::close(c);
        continue;
      }
      reply += 'R';
      put32(reply, 8);
      put32(reply, 0);  // AuthenticationOk
      reply += 'K';
      put32(reply, 12);
      put32(reply, 4242);
      put32(reply, 1);  // BackendKeyData
      reply += 'Z';
      put32(reply, 5);
      reply += 'I';  // ReadyForQuery, idle
      if (::write(c, reply.data(), reply.size()) < 0) {
        ::close(c);
        continue;
      }
      while (!stop_ && ::read(c, buf, sizeof buf) > 0) {
      }  // swallow queries, answer none
      ::close(c);
    }
  }
  int fd_ = -1;
  bool ok_ = false;
  bool ask_password_ = false;
  std::mutex mutex_;
  std::string received_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

TEST(SilentServer, QueriesTimeOutAndTheConnectionIsGivenUp) {
  auto tmp = core::TempDir::create("vmtune-silent-pg-");
  ASSERT_TRUE(tmp.ok());
  SilentServer server(tmp->path(), 5999);
  ASSERT_TRUE(server.ok());
  model::PgInstance inst;
  std::vector<model::Unavailable> unavailable;
  query_server("host=" + tmp->path().string() + " port=5999 user=nobody dbname=postgres", inst,
               unavailable);
  EXPECT_TRUE(inst.connected);
  // One deadline, not one per query: the connection is given up after the first (a hang would
  // be stopped by ctest's timeout and fail the test).
  ASSERT_FALSE(unavailable.empty());
  EXPECT_EQ(unavailable.front().field, "session");
  EXPECT_EQ(unavailable.front().reason,
            "the server did not answer within 10 s; no further queries were sent");
  EXPECT_EQ(unavailable.size(), 1u) << unavailable.back().reason;
}

// A server found from /proc that asks for a password gets none: not root's PGPASSWORD, not one
// from ~/.pgpass.
TEST(SilentServer, ADiscoveredServerIsSentNoPassword) {
  auto tmp = core::TempDir::create("vmtune-silent-pg-");
  ASSERT_TRUE(tmp.ok());
  SilentServer server(tmp->path(), 5998, /*ask_password=*/true);
  ASSERT_TRUE(server.ok());
  ::setenv("PGPASSWORD", "root-secret-4711", 1);
  model::PgInstance inst;
  inst.socket_dir = tmp->path().string();
  inst.port = 5998;
  inst.user = "postgres";
  std::vector<model::Unavailable> unavailable;
  query_server(conninfo_for_instance(inst), inst, unavailable);
  ::unsetenv("PGPASSWORD");
  EXPECT_FALSE(inst.connected);
  EXPECT_EQ(server.received().find("root-secret-4711"), std::string::npos);
  ASSERT_FALSE(unavailable.empty());
  EXPECT_EQ(unavailable.front().field, "connection");
}

}  // namespace
}  // namespace vmtune::collect::postgres
