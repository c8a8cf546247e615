// SPDX-License-Identifier: GPL-2.0-or-later
#include "collect/postgres/discovery.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "core/temp_dir.hpp"
#include "test_support.hpp"

namespace vmtune::collect::postgres {
namespace {

using test::shared_expected;
using test::shared_fixtures;
using test::slurp;
using test::test_data;

const std::filesystem::path kOff = test_data() / "postgres/pg15_hugepages_off";
const std::filesystem::path kOn = test_data() / "postgres/pg15_hugepages_on";

TEST(PostmasterPid, CapturedFileParsesLineByLine) {
  auto pm = parse_postmaster_pid(slurp(kOff / "proc/9593/cwd/postmaster.pid"), "postmaster.pid");
  ASSERT_TRUE(pm.ok()) << pm.error().to_string();
  EXPECT_EQ(pm->pid, 9593);
  EXPECT_EQ(pm->data_dir, "/var/tmp/pgexp.L0Tx/data");
  EXPECT_EQ(pm->start_time_unix, 1795566082);
  EXPECT_EQ(pm->port, 54399);
  EXPECT_EQ(pm->socket_dir, "/var/tmp/pgexp.L0Tx/sock");
  EXPECT_EQ(pm->listen_address, "");
  EXPECT_EQ(pm->shmem_key, "1064963         4");
  EXPECT_EQ(pm->status, "ready");
}

TEST(PostmasterPid, DamagedFilesAreErrorsWithLineAndField) {
  auto empty = parse_postmaster_pid("", "/data/postmaster.pid");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().to_string(), "/data/postmaster.pid: file is empty");
  auto garbage = parse_postmaster_pid("\x01zz\n/data\n", "/data/postmaster.pid");
  ASSERT_FALSE(garbage.ok());
  EXPECT_EQ(garbage.error().line, 1);
  EXPECT_EQ(garbage.error().field, "pid");
  auto port = parse_postmaster_pid("12\n/data\n1700000000\n99999\n", "/data/postmaster.pid");
  ASSERT_FALSE(port.ok());
  EXPECT_EQ(port.error().line, 4);
  EXPECT_EQ(port.error().field, "port");
  // Truncated (a server still starting writes the lines one by one): what is there is kept.
  auto partial = parse_postmaster_pid("12\n/srv/pg\n", "/srv/pg/postmaster.pid");
  ASSERT_TRUE(partial.ok());
  EXPECT_EQ(partial->data_dir, "/srv/pg");
  EXPECT_FALSE(partial->port);
  EXPECT_TRUE(partial->socket_dir.empty());
}

TEST(ProcStatus, MemoryFieldsInBytes) {
  VMTUNE_REQUIRE_SHARED_FIXTURES();
  const char* rel = "facebookincubator-below/procfs/93041/status";
  auto m = parse_status_memory(slurp(shared_fixtures() / rel), "/proc/93041/status");
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  const auto& e = shared_expected().at(rel);
  EXPECT_EQ(m->vm_pte, e.at("VmPTE").get<std::uint64_t>() * 1024);
  EXPECT_EQ(m->rss_shmem, e.at("RssShmem").get<std::uint64_t>() * 1024);
  EXPECT_EQ(m->rss_anon, e.at("RssAnon").get<std::uint64_t>() * 1024);
  EXPECT_EQ(m->hugetlb, e.at("HugetlbPages").get<std::uint64_t>() * 1024);
  const char* rel2 = "prometheus-procfs/proc/26231/status";
  auto p = parse_status_memory(slurp(shared_fixtures() / rel2), "/proc/26231/status");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->vm_pte, shared_expected().at(rel2).at("VmPTE").get<std::uint64_t>() * 1024);
  EXPECT_EQ(p->uid, shared_expected().at(rel2).at("Uid")[0].get<std::uint32_t>());
  EXPECT_FALSE(parse_status_memory("", "/proc/1/status").ok());
  EXPECT_FALSE(parse_status_memory("\xff\xfe\n", "/proc/1/status").ok());
}

TEST(Cmdline, DataDirAndPort) {
  const auto h = parse_postgres_cmdline(slurp(kOff / "proc/9593/cmdline"));
  EXPECT_EQ(h.data_dir, "/var/tmp/pgexp.L0Tx/data");
  EXPECT_EQ(h.port, 54399);
  const auto glued = parse_postgres_cmdline(std::string("postgres\0-D/srv/x\0-p5433\0", 25));
  EXPECT_EQ(glued.data_dir, "/srv/x");
  EXPECT_EQ(glued.port, 5433);
  const auto none = parse_postgres_cmdline(std::string("postgres\0-p\0", 12));
  EXPECT_TRUE(none.data_dir.empty());
  EXPECT_FALSE(none.port);
}

std::uint64_t sum_status_kb(const std::filesystem::path& proc, const std::vector<int>& pids,
                            const std::string& key) {
  std::uint64_t total = 0;
  for (int pid : pids) {
    std::ifstream in(proc / std::to_string(pid) / "status");
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind(key + ":", 0) == 0) total += std::stoull(line.substr(key.size() + 1)) * 1024;
    }
  }
  return total;
}

TEST(Discovery, CapturedServerWithHugePagesOff) {
  model::Sample s;
  const auto found = discover_instances(core::RootFs::under(kOff), s, false);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_TRUE(s.unavailable.empty()) << s.unavailable.front().reason;
  const auto& i = found[0];
  EXPECT_EQ(i.postmaster_pid, 9593);
  EXPECT_EQ(i.data_dir, "/var/tmp/pgexp.L0Tx/data");
  EXPECT_EQ(i.port, 54399);
  EXPECT_EQ(i.socket_dir, "/var/tmp/pgexp.L0Tx/sock");
  EXPECT_EQ(i.status, "ready");
  EXPECT_EQ(i.user, "101");  // the postgres uid, unresolved for a captured tree
  EXPECT_EQ(i.backend_pids,
            (std::vector<int>{9594, 9595, 9599, 9600, 9602, 9834, 9835, 9836, 9842, 9843}));
  EXPECT_EQ(i.processes_counted, 11u);
  EXPECT_EQ(i.page_tables_total, 1772ull * 1024);  // Σ VmPTE of the 11 status files
  std::vector<int> all = i.backend_pids;
  all.push_back(9593);
  EXPECT_EQ(i.rss_shmem_total, sum_status_kb(kOff / "proc", all, "RssShmem"));
  EXPECT_EQ(i.shmem_page_table_estimate, *i.rss_shmem_total / 512);
  EXPECT_EQ(i.hugetlb_total, 0u);
  EXPECT_EQ(i.segment_backing, "4k");
  EXPECT_EQ(i.segment_size, 146016ull * 1024);
  EXPECT_FALSE(i.connected);
}

TEST(Discovery, CapturedServerWithHugePagesOn) {
  model::Sample s;
  const auto found = discover_instances(core::RootFs::under(kOn), s, false);
  ASSERT_EQ(found.size(), 1u);
  const auto& i = found[0];
  EXPECT_EQ(i.postmaster_pid, 10404);
  EXPECT_EQ(i.segment_backing, "hugetlb");
  EXPECT_EQ(i.segment_size, 72ull * 2 * 1024 * 1024);
  std::vector<int> all = i.backend_pids;
  all.push_back(10404);
  EXPECT_EQ(i.hugetlb_total, sum_status_kb(kOn / "proc", all, "HugetlbPages"));
  EXPECT_GT(*i.hugetlb_total, 0u);
}

/// A writable copy of a captured tree.
core::TempDir copy_tree(const std::filesystem::path& from) {
  auto tmp = core::TempDir::create("vmtune-pg-test-");
  EXPECT_TRUE(tmp.ok());
  std::filesystem::copy(from, tmp->path(), std::filesystem::copy_options::recursive);
  return std::move(*tmp);
}

TEST(Discovery, MissingPostmasterPidFallsBackToTheCommandLine) {
  auto tmp = copy_tree(kOff);
  std::filesystem::remove(tmp.path() / "proc/9593/cwd/postmaster.pid");
  model::Sample s;
  const auto found = discover_instances(core::RootFs::under(tmp.path()), s, false);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].data_dir, "/var/tmp/pgexp.L0Tx/data");
  EXPECT_EQ(found[0].port, 54399);
  EXPECT_TRUE(found[0].socket_dir.empty());
  ASSERT_EQ(s.unavailable.size(), 1u);
  EXPECT_EQ(s.unavailable[0].source, "postgres");
  EXPECT_EQ(s.unavailable[0].path, "/proc/9593/cwd/postmaster.pid");
}

TEST(Discovery, StaleAndGarbageFilesBecomeEntries) {
  auto tmp = copy_tree(kOff);
  const auto p = tmp.path() / "proc";
  std::ofstream(p / "9593/cwd/postmaster.pid") << "4242\n/other\n";
  std::ofstream(p / "9593/smaps") << "\x01\x02 garbage\n";
  std::ofstream(p / "9594/status", std::ios::trunc);  // empty
  std::ofstream(p / "9595/stat") << "garbage";        // not a process any more
  model::Sample s;
  const auto found = discover_instances(core::RootFs::under(tmp.path()), s, false);
  ASSERT_EQ(found.size(), 1u);
  const auto& i = found[0];
  EXPECT_EQ(i.data_dir, "/var/tmp/pgexp.L0Tx/data");  // from the command line
  EXPECT_EQ(i.segment_backing, "unknown");
  EXPECT_FALSE(i.segment_size);
  EXPECT_EQ(i.backend_pids.size(), 9u);  // 9595 unreadable
  EXPECT_EQ(i.processes_counted, 9u);    // 9594 status empty
  std::vector<std::string> paths;
  for (const auto& u : s.unavailable) paths.push_back(u.path);
  EXPECT_NE(std::find(paths.begin(), paths.end(), "/proc/9593/cwd/postmaster.pid"), paths.end());
  EXPECT_NE(std::find(paths.begin(), paths.end(), "/proc/9593/smaps"), paths.end());
  EXPECT_NE(std::find(paths.begin(), paths.end(), "/proc/9594/status"), paths.end());
}

TEST(Discovery, EmptyOrMissingProcIsNotACrash) {
  auto tmp = core::TempDir::create("vmtune-pg-test-");
  ASSERT_TRUE(tmp.ok());
  model::Sample s;
  EXPECT_TRUE(discover_instances(core::RootFs::under(tmp->path()), s, false).empty());
  ASSERT_EQ(s.unavailable.size(), 1u);
  EXPECT_EQ(s.unavailable[0].path, "/proc");
  std::filesystem::create_directories(tmp->path() / "proc");
  model::Sample s2;
  EXPECT_TRUE(discover_instances(core::RootFs::under(tmp->path()), s2, false).empty());
  EXPECT_TRUE(s2.unavailable.empty());
}

}  // namespace
}  // namespace vmtune::collect::postgres
