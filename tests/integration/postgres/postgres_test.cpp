// SPDX-License-Identifier: GPL-2.0-or-later
// Against a real PostgreSQL 15 (initdb into a temporary directory, private socket and port,
// removed afterwards): discovery without a connection, the hugetlb pool recommendation and its
// disappearance once the pool is reserved and huge_pages = on, the double-buffering estimate,
// and connection failures that become clear unavailable entries while the audit still runs.

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "pg_server.hpp"
#include "test_support.hpp"

namespace vmtune::test {
namespace {

using Json = nlohmann::json;

struct ConnDeleter {
  void operator()(PGconn* c) const noexcept { PQfinish(c); }
};
using Conn = std::unique_ptr<PGconn, ConnDeleter>;

std::optional<PgServer> start_server(const std::string& huge_pages, const std::string& sb) {
  std::string why;
  auto srv = PgServer::create(&why);
  if (!srv) {
    ADD_FAILURE() << why;
    return std::nullopt;
  }
  if (!srv->start(huge_pages, sb, &why)) {
    ADD_FAILURE() << why;
    return std::nullopt;
  }
  return srv;
}

/// Runs vmtune with these arguments and parses its stdout as JSON.
Json vmtune_json(const std::string& args, int* status = nullptr) {
  const auto c = pg_shell(vmtune_binary().string() + " " + args + " 2>/dev/null");
  if (status != nullptr) *status = c.status;
  try {
    return Json::parse(c.out);
  } catch (const Json::exception& e) {
    ADD_FAILURE() << "vmtune " << args << ": not JSON (" << e.what()
                  << "): " << c.out.substr(0, 2000);
    return Json::object();
  }
}

/// The collect document's instance for this postmaster (null when not found).
Json instance_of(const Json& doc, pid_t pid) {
  if (!doc.contains("postgres") || doc["postgres"].is_null()) return nullptr;
  for (const auto& i : doc["postgres"]["instances"]) {
    if (i.value("postmaster_pid", 0) == pid) return i;
  }
  return nullptr;
}

const Json* finding(const Json& audit, const std::string& id) {
  for (const auto& f : audit["findings"]) {
    if (f["rule_id"] == id) return &f;
  }
  return nullptr;
}

std::uint64_t meminfo(const std::string& key) {
  std::ifstream in(std::string("/proc/meminfo"));
  std::string k;
  std::uint64_t v = 0;
  std::string unit;
  while (in >> k >> v) {
    if (k == key + ":") return v;
    std::getline(in, unit);
  }
  return 0;
}

/// Σ VmPTE (bytes) over these pids, read independently of vmtune.
std::uint64_t sum_vm_pte(const std::vector<int>& pids) {
  std::uint64_t total = 0;
  for (int pid : pids) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("VmPTE:", 0) == 0) total += std::stoull(line.substr(6)) * 1024;
    }
  }
  return total;
}

std::uint64_t expected_pool(std::uint64_t n) {
  return n + std::max<std::uint64_t>(static_cast<std::uint64_t>(std::ceil(0.02 * n)), 8);
}

std::vector<Conn> hold_connections(const PgServer& srv, int count, const char* sql) {
  std::vector<Conn> held;
  for (int i = 0; i < count; ++i) {
    Conn c(PQconnectdb(srv.socket_conninfo().c_str()));
    EXPECT_EQ(PQstatus(c.get()), CONNECTION_OK) << PQerrorMessage(c.get());
    PGresult* r = PQexec(c.get(), sql);
    EXPECT_EQ(PQresultStatus(r), PGRES_TUPLES_OK) << PQerrorMessage(c.get());
    PQclear(r);
    held.push_back(std::move(c));
  }
  return held;
}

TEST(PostgresServer, HugePagesOffFoundWithoutConnectionAndPoolRecommended) {
  VMTUNE_REQUIRE_ROOT();
  auto srv = start_server("off", "128MB");
  ASSERT_TRUE(srv);
  ASSERT_EQ(srv->pgbench("-i -s 5 -q").status, 0);
  ASSERT_EQ(srv->pgbench("-c 4 -j 2 -T 3").status, 0);
  auto held = hold_connections(*srv, 4, "SELECT sum(abalance) FROM pgbench_accounts");
  const pid_t pm = srv->postmaster_pid();

  // No connection: the --pg target does not exist, so everything below comes from /proc.
  const Json doc =
      vmtune_json("collect -f json --no-processes --pg 'host=/nonexistent-vmtune port=1'");
  const Json inst = instance_of(doc, pm);
  ASSERT_FALSE(inst.is_null()) << doc["postgres"].dump(2);
  EXPECT_FALSE(inst["connected"].get<bool>());
  EXPECT_EQ(inst["data_dir"], srv->data_dir().string());
  EXPECT_EQ(inst["port"], srv->port());
  EXPECT_EQ(inst["socket_dir"], srv->socket_dir().string());
  EXPECT_EQ(inst["segment_backing"], "4k");
  EXPECT_EQ(inst["segment"]["mapping"], "/dev/zero (deleted)");
  EXPECT_EQ(inst["segment"]["kernel_page_size"], 4096);
  EXPECT_GE(inst["segment_size"].get<std::uint64_t>(), 128ull << 20);
  std::vector<int> backends = inst["backend_pids"].get<std::vector<int>>();
  for (const auto& c : held) {
    EXPECT_NE(std::find(backends.begin(), backends.end(), PQbackendPID(c.get())), backends.end())
        << "client backend " << PQbackendPID(c.get()) << " not found";
  }
  EXPECT_GE(inst["processes_counted"].get<int>(), 1 + 4);
  backends.push_back(pm);
  const std::uint64_t pte = inst["page_tables_total"].get<std::uint64_t>();
  const std::uint64_t ours = sum_vm_pte(backends);
  EXPECT_GT(pte, 0u);
  EXPECT_NEAR(static_cast<double>(pte), static_cast<double>(ours),
              0.25 * static_cast<double>(ours));
  EXPECT_GT(inst["rss_shmem_total"].get<std::uint64_t>(), 4 * (1ull << 20));

  // The audit (connected over the socket) recommends the server's own huge page count + margin.
  const std::uint64_t n = std::stoull(srv->psql("SHOW shared_memory_size_in_huge_pages").out);
  ASSERT_GT(n, 64u);
  const std::uint64_t others =
      meminfo("HugePages_Total") - meminfo("HugePages_Free") + meminfo("HugePages_Rsvd");
  int status = -1;
  const Json audit = vmtune_json(
      "audit -f json -w 0 --no-processes --pg " + sh_quote(srv->socket_conninfo()), &status);
  EXPECT_GE(status, 0);
  EXPECT_LE(status, 2);
  const Json* hp = finding(audit, "R-PG-HP-1");
  ASSERT_NE(hp, nullptr) << audit["not_evaluated"].dump(2);
  ASSERT_EQ((*hp)["recommendations"].size(), 2u);  // the pool, then huge_pages = on
  const auto& rec = (*hp)["recommendations"][0];
  EXPECT_EQ(rec["key"], "vm.nr_hugepages");
  EXPECT_EQ((*hp)["recommendations"][1]["key"], "huge_pages");
  EXPECT_EQ(rec["proposed"], std::to_string(expected_pool(n) + others));
  EXPECT_EQ(finding(audit, "R-PG-HP-2"), nullptr) << "the pool cannot hold the segment yet";

  // A snapshot carries the PostgreSQL facts: the offline audit of the file says the same.
  const auto snap = srv->dir() / "host.vmtune.tar.gz";
  const auto taken =
      pg_shell(vmtune_binary().string() + " snapshot -w 0.2 -o " + sh_quote(snap.string()) +
               " --pg " + sh_quote(srv->socket_conninfo()));
  ASSERT_EQ(taken.status, 0) << taken.out;
  held.clear();
  srv->stop();  // nothing live left to read
  const Json offline = vmtune_json("--root " + sh_quote(snap.string()) + " audit -f json", &status);
  EXPECT_LE(status, 2);
  const Json* again = finding(offline, "R-PG-HP-1");
  ASSERT_NE(again, nullptr) << offline["not_evaluated"].dump(2);
  EXPECT_EQ((*again)["recommendations"][0]["proposed"], rec["proposed"]);
}

TEST(PostgresServer, HugePagesOnAfterReservingThePool) {
  VMTUNE_REQUIRE_ROOT();
  SysctlGuard pool("/proc/sys/vm/nr_hugepages");  // restored after the server is gone
  ASSERT_FALSE(pool.original().empty());
  auto srv = start_server("off", "128MB");
  ASSERT_TRUE(srv);
  int status = -1;
  const std::string audit_args =
      "audit -f json -w 0 --no-processes --pg " + sh_quote(srv->socket_conninfo());
  const Json before = vmtune_json(audit_args, &status);
  const Json* hp = finding(before, "R-PG-HP-1");
  ASSERT_NE(hp, nullptr);
  const std::string proposed = (*hp)["recommendations"][0]["proposed"].get<std::string>();
  const std::uint64_t want = std::stoull(proposed);
  ASSERT_TRUE(
      pool.write(std::to_string(std::max<std::uint64_t>(want, std::stoull(pool.original())))));
  if (meminfo("HugePages_Total") < want) {
    GTEST_SKIP() << "the kernel reserved only " << meminfo("HugePages_Total") << " of " << want
                 << " huge pages (fragmented memory)";
  }
  std::string why;
  ASSERT_TRUE(srv->start("on", "128MB", &why)) << why;
  auto held = hold_connections(*srv, 2, "SELECT count(*) FROM pg_class");

  const Json doc =
      vmtune_json("collect -f json --no-processes --pg " + sh_quote(srv->socket_conninfo()));
  const Json inst = instance_of(doc, srv->postmaster_pid());
  ASSERT_FALSE(inst.is_null());
  EXPECT_TRUE(inst["connected"].get<bool>()) << inst["connection_error"];
  EXPECT_EQ(inst["settings"]["huge_pages"], "on");
  EXPECT_EQ(inst["segment_backing"], "hugetlb");
  EXPECT_EQ(inst["segment"]["mapping"], "/anon_hugepage (deleted)");
  EXPECT_EQ(inst["segment"]["kernel_page_size"].get<std::uint64_t>(),
            meminfo("Hugepagesize") * 1024);
  EXPECT_GT(inst["hugetlb_total"].get<std::uint64_t>(), 0u);

  const Json after = vmtune_json(audit_args, &status);
  EXPECT_EQ(finding(after, "R-PG-HP-1"), nullptr) << "the pool now holds the segment";
  EXPECT_EQ(finding(after, "R-PG-HP-2"), nullptr) << "huge_pages is already on";
  held.clear();
  srv->stop();  // release the pages before the guard shrinks the pool
}

/// The R-PG-* findings of an audit document.
std::vector<Json> pg_findings(const Json& audit) {
  std::vector<Json> out;
  for (const auto& f : audit["findings"]) {
    if (f["rule_id"].get<std::string>().rfind("R-PG-", 0) == 0) out.push_back(f);
  }
  return out;
}

/// Huge pages in use on the host now: HugePages_Total - Free + Rsvd.
std::uint64_t hugepages_in_use() {
  return meminfo("HugePages_Total") - meminfo("HugePages_Free") + meminfo("HugePages_Rsvd");
}

TEST(PostgresServer, TwoClustersEachFindingNamesItsInstanceAndThePoolHoldsBoth) {
  VMTUNE_REQUIRE_ROOT();
  SysctlGuard pool("/proc/sys/vm/nr_hugepages");  // restored after the servers are gone
  ASSERT_FALSE(pool.original().empty());
  const std::uint64_t others = hugepages_in_use();  // other programs' pages, before ours
  // B: 64MB shared_buffers on huge pages, with a pool of exactly what it needs.
  auto b = start_server("off", "64MB");
  ASSERT_TRUE(b);
  const std::uint64_t nb = std::stoull(b->psql("SHOW shared_memory_size_in_huge_pages").out);
  const std::uint64_t target = hugepages_in_use() + nb;
  ASSERT_TRUE(pool.write(std::to_string(std::max(target, meminfo("HugePages_Total")))));
  if (meminfo("HugePages_Free") - meminfo("HugePages_Rsvd") < nb) {
    GTEST_SKIP() << "the kernel reserved only " << meminfo("HugePages_Total") << " of " << target
                 << " huge pages (fragmented memory)";
  }
  std::string why;
  ASSERT_TRUE(b->start("on", "64MB", &why)) << why;
  // A: 128MB shared_buffers, huge_pages = off.
  auto a = start_server("off", "128MB");
  ASSERT_TRUE(a);
  const std::uint64_t na = std::stoull(a->psql("SHOW shared_memory_size_in_huge_pages").out);

  int status = -1;
  const Json audit =
      vmtune_json("audit -f json -w 0 --no-processes --pg " + sh_quote(a->socket_conninfo()) +
                      " --pg " + sh_quote(b->socket_conninfo()),
                  &status);
  EXPECT_LE(status, 2);
  const std::string dir_a = a->data_dir().string();
  const std::string dir_b = b->data_dir().string();
  const auto findings = pg_findings(audit);
  ASSERT_FALSE(findings.empty()) << audit.dump(2);
  std::vector<Json> hp_a;
  for (const auto& f : findings) {
    const std::string subject = f["subject"];
    // Every PostgreSQL finding names its instance: data directory, port and postmaster pid.
    const bool is_a = subject.rfind(dir_a + " (port " + std::to_string(a->port()), 0) == 0;
    const bool is_b = subject.rfind(dir_b + " (port " + std::to_string(b->port()), 0) == 0;
    EXPECT_TRUE(is_a || is_b) << f["rule_id"] << ": " << subject;
    for (const auto& r : f["recommendations"]) {
      if (r["kind"] == "postgresql") {
        EXPECT_EQ(r["target"], subject);
      }
    }
    EXPECT_FALSE(is_b && f["rule_id"] == "R-PG-HP-1") << "B holds its pages already";
    EXPECT_FALSE(is_b && f["rule_id"] == "R-PG-HP-2") << "B has huge_pages = on";
    if (is_a && f["rule_id"] == "R-PG-HP-1") hp_a.push_back(f);
  }
  ASSERT_EQ(hp_a.size(), 1u) << audit.dump(2);
  // The whole plan for A in one audit: the pool for both clusters (B's pages counted as B's,
  // not as another program's), then huge_pages = on for A.
  const auto& recs = hp_a[0]["recommendations"];
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0]["key"], "vm.nr_hugepages");
  EXPECT_EQ(recs[0]["proposed"], std::to_string(expected_pool(na + nb) + others));
  EXPECT_EQ(recs[1]["key"], "huge_pages");
  EXPECT_EQ(recs[1]["current"], "off");
  EXPECT_EQ(recs[1]["proposed"], "on");
  a->stop();
  b->stop();  // release the pages before the guard shrinks the pool
}

TEST(PostgresServer, ManyBackendsGetThePageTableFindingWithTheMeasuredSum) {
  VMTUNE_REQUIRE_ROOT();
  std::string why;
  auto srv = PgServer::create(&why);
  ASSERT_TRUE(srv) << why;
  ASSERT_TRUE(
      srv->start("off", "2GB", &why, "-c max_connections=200 -c max_parallel_workers_per_gather=0"))
      << why;
  // ~340 MB of table in wide rows (7 to a page, quick to scan), under a quarter of
  // shared_buffers: every backend's scan maps the same buffers (no ring buffer), ~700 kB of
  // page table each.
  ASSERT_EQ(srv->psql("CREATE TABLE wide AS SELECT g AS id, repeat('x', 1000) AS pad "
                      "FROM generate_series(1, 300000) g")
                .status,
            0);
  // All 150 scans at once: the page faults that build the page tables are what take the time.
  std::vector<Conn> held;
  for (int i = 0; i < 150; ++i) {
    held.emplace_back(PQconnectdb(srv->socket_conninfo().c_str()));
    ASSERT_EQ(PQstatus(held.back().get()), CONNECTION_OK) << PQerrorMessage(held.back().get());
    ASSERT_EQ(PQsendQuery(held.back().get(), "SELECT count(*) FROM wide"), 1);
  }
  for (auto& c : held) {
    while (PGresult* r = PQgetResult(c.get())) {
      EXPECT_EQ(PQresultStatus(r), PGRES_TUPLES_OK) << PQerrorMessage(c.get());
      PQclear(r);
    }
  }
  const pid_t pm = srv->postmaster_pid();

  int status = -1;
  const Json audit = vmtune_json(
      "audit -f json -w 0 --no-processes --pg " + sh_quote(srv->socket_conninfo()), &status);
  std::vector<int> pids{pm};
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const auto name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream st(entry.path() / "stat");
    std::string line;
    std::getline(st, line);
    const auto close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 2));
    char state = 0;
    int ppid = 0;
    rest >> state >> ppid;
    if (ppid == pm) pids.push_back(std::stoi(name));
  }
  const std::uint64_t measured = sum_vm_pte(pids);
  const Json* pt = nullptr;
  for (const auto& f : audit["findings"]) {
    if (f["rule_id"] == "R-PG-PT-1" &&
        f["subject"].get<std::string>().rfind(srv->data_dir().string(), 0) == 0) {
      pt = &f;
    }
  }
  ASSERT_NE(pt, nullptr) << "Σ VmPTE = " << measured << "\n" << audit["not_evaluated"].dump(2);
  const double reported = (*pt)["evidence"][0]["value"].get<double>();
  EXPECT_NEAR(reported, static_cast<double>(measured), 0.10 * static_cast<double>(measured));
  EXPECT_GE(reported, 64.0 * 1024 * 1024);
  const auto& recs = (*pt)["recommendations"];
  ASSERT_GE(recs.size(), 1u);
  EXPECT_EQ(recs[recs.size() - 1]["key"], "huge_pages");
  held.clear();
  srv->stop();
}

// The snippet generator's plan, carried out step by step on a real cluster running with
// huge_pages = off: its pool line reserves the pages, its check holds, its postgresql.conf lines
// are accepted by PostgreSQL 15 (postgres -C) and, after the restart the plan asks for, the
// shared segment is hugetlb-backed.
TEST(PostgresServer, ThePlansHugetlbStepsEndWithAHugetlbBackedSegment) {
  VMTUNE_REQUIRE_ROOT();
  SysctlGuard pool("/proc/sys/vm/nr_hugepages");  // restored after the server is gone
  auto srv = start_server("off", "128MB");
  ASSERT_TRUE(srv);
  const std::string pg = " -w 0 --no-processes --pg " + sh_quote(srv->socket_conninfo());
  const auto planned = pg_shell(vmtune_binary().string() + " sysctl -f json" + pg);
  ASSERT_EQ(planned.status, 0) << planned.out;
  const Json plan = Json::parse(planned.out.substr(planned.out.find('{')));
  ASSERT_GE(plan["steps"].size(), 2u) << plan.dump(2);
  const Json& reserve = plan["steps"][0];
  ASSERT_EQ(reserve["title"], "Reserve the huge-page pool") << plan.dump(2);
  std::string pool_line;
  std::uint64_t want = 0;
  for (const auto& c : reserve["changes"]) {
    if (c["key"] == "vm.nr_hugepages") {
      pool_line = c["apply_line"].get<std::string>();
      want = std::stoull(c["proposed"].get<std::string>());
    }
  }
  ASSERT_EQ(pool_line, "sysctl -w vm.nr_hugepages=" + std::to_string(want));
  // Step 1 as printed, then its check.
  ASSERT_EQ(pg_shell(pool_line).status, 0);
  if (meminfo("HugePages_Total") < want) {
    GTEST_SKIP() << "the kernel reserved only " << meminfo("HugePages_Total") << " of " << want
                 << " huge pages (fragmented memory)";
  }
  // The PostgreSQL step: its postgresql.conf lines, checked by PostgreSQL itself.
  const auto conf =
      pg_shell(vmtune_binary().string() + " sysctl -f postgresql" + pg + " 2>/dev/null");
  ASSERT_EQ(conf.status, 0) << conf.out;
  std::string lines;
  std::istringstream in(conf.out);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line[0] != '#') lines += line + "\n";
  }
  ASSERT_NE(lines.find("huge_pages = 'on'\n"), std::string::npos) << conf.out;
  std::ofstream(srv->data_dir() / "postgresql.conf", std::ios::app) << lines;
  const auto shown =
      pg_shell("cd / && runuser -u postgres -- " + std::string(PgServer::kBin) + "/postgres -D " +
               sh_quote(srv->data_dir().string()) + " -C huge_pages");
  ASSERT_EQ(shown.status, 0) << shown.out;
  EXPECT_EQ(shown.out, "on\n");
  // The restart the plan asks for, with the settings from postgresql.conf.
  std::string why;
  ASSERT_TRUE(srv->start("", "", &why)) << why;
  auto held = hold_connections(*srv, 2, "SELECT count(*) FROM pg_class");
  const Json doc =
      vmtune_json("collect -f json --no-processes --pg " + sh_quote(srv->socket_conninfo()));
  const Json inst = instance_of(doc, srv->postmaster_pid());
  ASSERT_FALSE(inst.is_null());
  EXPECT_EQ(inst["settings"]["huge_pages"], "on");
  EXPECT_EQ(inst["segment_backing"], "hugetlb");
  // Nothing left to propose for the pool or huge_pages.
  const auto again = pg_shell(vmtune_binary().string() + " sysctl -f json" + pg);
  const Json after = Json::parse(again.out.substr(again.out.find('{')));
  for (const auto& step : after["steps"]) {
    for (const auto& c : step["changes"]) {
      EXPECT_NE(c["key"], "vm.nr_hugepages") << after.dump(2);
      EXPECT_NE(c["key"], "huge_pages") << after.dump(2);
    }
  }
  held.clear();
  srv->stop();  // release the pages before the guard shrinks the pool
}

TEST(PostgresServer, ReadingATableLargerThanSharedBuffersRaisesDoubleBuffering) {
  VMTUNE_REQUIRE_ROOT();
  auto srv = start_server("off", "32MB");
  ASSERT_TRUE(srv);
  ASSERT_EQ(srv->psql("CREATE TABLE big AS SELECT g, repeat('x', 600) AS pad "
                      "FROM generate_series(1, 180000) g; CHECKPOINT")
                .status,
            0);
  const std::uint64_t table = std::stoull(srv->psql("SELECT pg_relation_size('big')").out);
  ASSERT_GT(table, 3 * (32ull << 20)) << "the table must be larger than shared_buffers";
  drop_file_cache(srv->data_dir() / "base");

  const std::string args =
      "collect -f json --no-processes --pg " + sh_quote(srv->socket_conninfo());
  const Json i1 = instance_of(vmtune_json(args), srv->postmaster_pid());
  ASSERT_FALSE(i1.is_null());
  ASSERT_TRUE(i1["page_cache"].is_object()) << i1.dump(2);
  ASSERT_EQ(srv->psql("SELECT count(*) FROM big").out, "180000");
  const Json i2 = instance_of(vmtune_json(args), srv->postmaster_pid());
  ASSERT_FALSE(i2.is_null());

  const auto r1 = i1["page_cache"]["bytes_resident_estimate"].get<std::uint64_t>();
  const auto r2 = i2["page_cache"]["bytes_resident_estimate"].get<std::uint64_t>();
  EXPECT_GE(r2, r1 + table * 8 / 10) << "the scan should leave the table in the page cache";
  EXPECT_FALSE(i2["page_cache"]["truncated"].get<bool>());
  const auto d1 = i1["double_buffered_bytes"].get<std::uint64_t>();
  const auto d2 = i2["double_buffered_bytes"].get<std::uint64_t>();
  EXPECT_GT(d2, d1);
  EXPECT_EQ(d2, 32ull << 20) << "bounded by shared_buffers";
  EXPECT_GT(i2["double_buffered_ratio"].get<double>(), i1["double_buffered_ratio"].get<double>());
  EXPECT_DOUBLE_EQ(i2["double_buffered_ratio"].get<double>(), 1.0);
}

/// The postgres unavailable entry for `field`, or null.
Json unavailable(const Json& doc, const std::string& field) {
  for (const auto& u : doc["unavailable"]) {
    if (u["source"] == "postgres" && u["field"] == field) return u;
  }
  return nullptr;
}

TEST(PostgresServer, ConnectionProblemsAreClearEntriesAndTheAuditStillRuns) {
  VMTUNE_REQUIRE_ROOT();
  auto srv = start_server("off", "64MB");
  ASSERT_TRUE(srv);
  ASSERT_EQ(
      srv->psql(std::string("CREATE ROLE vmtune_ro LOGIN PASSWORD '") + PgServer::kPassword + "'")
          .status,
      0);
  const std::string tcp =
      "host=127.0.0.1 port=" + std::to_string(srv->port()) + " user=vmtune_ro dbname=postgres";
  int status = -1;

  // Wrong password.
  const Json wrong = vmtune_json(
      "audit -f json -w 0 --no-processes --pg " + sh_quote(tcp + " password=wrong-password"),
      &status);
  EXPECT_GE(status, 0);
  EXPECT_LE(status, 2) << "the audit must still run";
  const Json w = unavailable(wrong, "connection");
  ASSERT_FALSE(w.is_null()) << wrong["unavailable"].dump(2);
  EXPECT_NE(w["reason"].get<std::string>().find("wrong password"), std::string::npos) << w;
  EXPECT_EQ(w["reason"].get<std::string>().find("wrong-password"), std::string::npos)
      << "the password must not be echoed";
  EXPECT_NE(finding(wrong, "R-PG-HP-1"), nullptr) << "discovery still sizes the pool";

  // Refused: nothing listens on the next free port.
  int closed = srv->port() + 1;
  const Json refused = vmtune_json("audit -f json -w 0 --no-processes --pg " +
                                       sh_quote("host=127.0.0.1 port=" + std::to_string(closed)),
                                   &status);
  EXPECT_LE(status, 2);
  const Json r = unavailable(refused, "connection");
  ASSERT_FALSE(r.is_null());
  EXPECT_NE(r["reason"].get<std::string>().find("connection refused"), std::string::npos) << r;
  EXPECT_FALSE(refused["findings"].empty());

  // Right password, a role without superuser, extension missing.
  const std::string right = tcp + " password=" + PgServer::kPassword;
  const Json ok = vmtune_json("collect -f json --no-processes --pg " + sh_quote(right));
  const Json inst = instance_of(ok, srv->postmaster_pid());
  ASSERT_FALSE(inst.is_null());
  EXPECT_TRUE(inst["connected"].get<bool>()) << inst["connection_error"];
  EXPECT_EQ(inst["server_version_num"].get<int>() / 10000, 15);
  EXPECT_EQ(inst["setting_values"]["shared_buffers"].get<double>(), 64.0 * 1024 * 1024);
  EXPECT_GT(inst["setting_values"]["shared_memory_size_in_huge_pages"].get<double>(), 32);
  EXPECT_TRUE(inst["stats"].contains("database.blks_hit"));
  EXPECT_TRUE(inst["stats"].contains("bgwriter.buffers_alloc"));
  const Json ext = unavailable(ok, "pg_buffercache");
  ASSERT_FALSE(ext.is_null());
  EXPECT_NE(ext["reason"].get<std::string>().find("not installed"), std::string::npos) << ext;
  EXPECT_FALSE(unavailable(ok, "pg_stat_io").is_null()) << "PostgreSQL 15 has no pg_stat_io";

  // Installed, but the role may not read it; then granted pg_monitor.
  ASSERT_EQ(srv->psql("CREATE EXTENSION pg_buffercache").status, 0);
  const Json denied = vmtune_json("collect -f json --no-processes --pg " + sh_quote(right));
  const Json d = unavailable(denied, "pg_buffercache");
  ASSERT_FALSE(d.is_null());
  EXPECT_NE(d["reason"].get<std::string>().find("pg_monitor"), std::string::npos) << d;
  ASSERT_EQ(srv->psql("GRANT pg_monitor TO vmtune_ro").status, 0);
  const Json granted = vmtune_json("collect -f json --no-processes --pg " + sh_quote(right));
  EXPECT_TRUE(unavailable(granted, "pg_buffercache").is_null());
  const Json gi = instance_of(granted, srv->postmaster_pid());
  ASSERT_TRUE(gi["buffercache"].is_object());
  EXPECT_GT(gi["buffercache"]["buffers_used"].get<std::uint64_t>(), 0u);
  EXPECT_EQ(gi["buffercache"]["buffers_used"].get<std::uint64_t>() +
                gi["buffercache"]["buffers_unused"].get<std::uint64_t>(),
            8192u)
      << "64MB of 8 kB buffers";
}

}  // namespace
}  // namespace vmtune::test
