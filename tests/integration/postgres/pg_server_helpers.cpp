// SPDX-License-Identifier: GPL-2.0-or-later
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "pg_server.hpp"

namespace vmtune::test {
namespace {

bool port_free(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s;
}

}  // namespace

Command pg_shell(const std::string& cmd) {
  Command c;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (p == nullptr) return c;
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) c.out.append(buf.data(), n);
  const int st = ::pclose(p);
  c.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return c;
}

std::string sh_quote(const std::string& s) {
  std::string out = "'";
  for (char ch : s) {
    if (ch == '\'')
      out += "'\\''";
    else
      out += ch;
  }
  return out + "'";
}

std::optional<PgServer> PgServer::create(std::string* why) {
  if (!std::filesystem::exists(std::string(kBin) + "/initdb")) {
    *why = "PostgreSQL 15 is not installed (scripts/install-deps installs postgresql-15)";
    return std::nullopt;
  }
  char tmpl[] = "/var/tmp/vmtune-pg-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) {
    *why = "mkdtemp failed";
    return std::nullopt;
  }
  int port = 54329;
  while (port < 55329 && !port_free(port)) ++port;
  PgServer s(tmpl, port);  // from here the destructor removes the directory
  std::filesystem::create_directories(s.socket_dir());
  const auto c =
      pg_shell("chown -R postgres:postgres " + sh_quote(s.dir_.string()) + " && chmod 0755 " +
               sh_quote(s.dir_.string()) + " && cd / && runuser -u postgres -- " + kBin +
               "/initdb -D " + sh_quote(s.data_dir().string()) +
               " -U postgres --auth-local=trust --auth-host=scram-sha-256 -E UTF8");
  if (c.status != 0) {
    *why = "initdb failed: " + c.out;
    return std::nullopt;
  }
  return s;
}

PgServer::PgServer(PgServer&& o) noexcept
    : dir_(std::move(o.dir_)), port_(o.port_), last_pid_(o.last_pid_) {
  o.dir_.clear();
  o.last_pid_ = 0;
}

PgServer::~PgServer() {
  if (dir_.empty()) return;
  stop();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

bool PgServer::start(const std::string& huge_pages, const std::string& shared_buffers,
                     std::string* why, const std::string& extra) {
  stop();
  // An empty setting is left to postgresql.conf (and postgresql.auto.conf).
  const std::string opts = "-p " + std::to_string(port_) + " -k " + socket_dir().string() +
                           " -c listen_addresses=127.0.0.1" +
                           (huge_pages.empty() ? "" : " -c huge_pages=" + huge_pages) +
                           (shared_buffers.empty() ? "" : " -c shared_buffers=" + shared_buffers) +
                           " -c max_connections=40 -c fsync=off" +
                           (extra.empty() ? "" : " " + extra);
  const auto c =
      pg_shell("cd / && runuser -u postgres -- " + std::string(kBin) + "/pg_ctl -D " +
               sh_quote(data_dir().string()) + " -l " + sh_quote((dir_ / "server.log").string()) +
               " -w -t 60 -o " + sh_quote(opts) + " start");
  last_pid_ = postmaster_pid();
  if (c.status != 0 || last_pid_ <= 0) {
    std::ifstream log(dir_ / "server.log");
    std::ostringstream ss;
    ss << log.rdbuf();
    *why = "pg_ctl start failed: " + c.out + "\nserver.log:\n" + ss.str();
    return false;
  }
  return true;
}

void PgServer::stop() noexcept {
  if (dir_.empty()) return;
  const pid_t pid = postmaster_pid() > 0 ? postmaster_pid() : last_pid_;
  if (pid <= 0) return;
  (void)pg_shell("cd / && runuser -u postgres -- " + std::string(kBin) + "/pg_ctl -D " +
                 sh_quote(data_dir().string()) + " -m fast -w -t 30 stop");
  // Whatever pg_ctl managed: make sure the postmaster and its children are gone.
  if (::kill(pid, 0) == 0) {
    ::kill(pid, SIGQUIT);
    for (int i = 0; i < 50 && ::kill(pid, 0) == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (::kill(pid, 0) == 0) ::kill(pid, SIGKILL);
  }
  last_pid_ = 0;
}

pid_t PgServer::postmaster_pid() const {
  std::ifstream in(data_dir() / "postmaster.pid");
  long pid = 0;
  if (!(in >> pid)) return 0;
  return static_cast<pid_t>(pid);
}

Command PgServer::psql(const std::string& sql, const std::string& db) const {
  auto c = pg_shell("psql -X -q -v ON_ERROR_STOP=1 -h " + sh_quote(socket_dir().string()) + " -p " +
                    std::to_string(port_) + " -U postgres -d " + sh_quote(db) + " -Atc " +
                    sh_quote(sql));
  c.out = trim(c.out);
  return c;
}

Command PgServer::pgbench(const std::string& args) const {
  return pg_shell("cd / && runuser -u postgres -- pgbench -h " + sh_quote(socket_dir().string()) +
                  " -p " + std::to_string(port_) + " " + args + " postgres");
}

std::string PgServer::socket_conninfo() const {
  return "host=" + socket_dir().string() + " port=" + std::to_string(port_) +
         " user=postgres dbname=postgres";
}

SysctlGuard::SysctlGuard(std::filesystem::path path) : path_(std::move(path)) {
  original_ = read();
}

SysctlGuard::~SysctlGuard() {
  if (!original_.empty()) (void)write(original_);
}

std::string SysctlGuard::read() const {
  std::ifstream in(path_);
  std::string v;
  std::getline(in, v);
  return v;
}

bool SysctlGuard::write(const std::string& value) const {
  std::ofstream out(path_);
  out << value << "\n";
  out.flush();
  return static_cast<bool>(out);
}

void drop_file_cache(const std::filesystem::path& dir) {
  std::error_code ec;
  for (std::filesystem::recursive_directory_iterator it(dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    std::error_code sec;
    if (!it->is_regular_file(sec)) continue;
    const int fd = ::open(it->path().c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    ::fdatasync(fd);
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    ::close(fd);
  }
}

}  // namespace vmtune::test
