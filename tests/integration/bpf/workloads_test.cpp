// SPDX-License-Identifier: GPL-2.0-or-later
// Root-only: real workloads under real probes, checked against the kernel's own counters.
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include <algorithm>
#include <cstdlib>

#include "bpf_test_util.hpp"
#include "collect/bpf/trace_session.hpp"

namespace vmtune::test::bpf {
namespace {

using collect::bpf::AttachPreference;
using collect::bpf::TraceOptions;
using collect::bpf::TraceSession;

constexpr std::size_t kPage = 4096;

std::unique_ptr<TraceSession> start(std::vector<std::string> probes,
                                    AttachPreference prefer = AttachPreference::automatic) {
  TraceOptions o;
  o.probes = std::move(probes);
  o.prefer = prefer;
  o.slow_event_us = 1000;
  o.top_n = 50;
  auto s = TraceSession::start(core::RootFs(), o);
  for (const auto& p : s->probes()) {
    if (p.name != "fault_latency") {
      EXPECT_TRUE(p.attached) << p.name << ": " << p.reason;
    }
  }
  return s;
}

const model::ProcessStall* find(const model::BpfStats& s, const std::string& kind, int pid) {
  const auto it = s.top.find(kind);
  if (it == s.top.end()) return nullptr;
  for (const auto& p : it->second) {
    if (p.pid == pid) return &p;
  }
  return nullptr;
}

int wait_child(pid_t pid, rusage* ru = nullptr) {
  int status = 0;
  rusage local{};
  ::wait4(pid, &status, 0, ru != nullptr ? ru : &local);
  return status;
}

TEST(BpfWorkload, FaultStormCountMatchesMinfltWithinFivePercent) {
  VMTUNE_REQUIRE_ROOT();
  auto session = start({"faults"});
  const pid_t child = spawn_child([] {
    const std::size_t size = 256u << 20;  // 65,536 fresh pages
    auto* p = static_cast<volatile char*>(
        ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    if (p == MAP_FAILED) return 1;
    // One fault per 4 KiB page whatever the THP mode (under "always" 256 MiB would take 128
    // huge-page faults): the test pins what it depends on.
    ::madvise(const_cast<char*>(p), size, MADV_NOHUGEPAGE);
    for (std::size_t off = 0; off < size; off += kPage) p[off] = 1;
    return 0;
  });
  rusage ru{};
  const int status = wait_child(child, &ru);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  const auto stats = session->finish(1);
  const std::uint64_t kernel_count = static_cast<std::uint64_t>(ru.ru_minflt + ru.ru_majflt);
  const auto it = std::find_if(stats.faults.begin(), stats.faults.end(),
                               [&](const auto& p) { return p.pid == child; });
  ASSERT_NE(it, stats.faults.end()) << "the fault storm's process was not seen";
  EXPECT_GE(kernel_count, 65536u);
  const double diff =
      std::abs(static_cast<double>(it->faults.total) - static_cast<double>(kernel_count));
  EXPECT_LE(diff, 0.05 * static_cast<double>(kernel_count))
      << "bpf " << it->faults.total << " vs minflt+majflt " << kernel_count;
  EXPECT_GE(it->faults.user_write, 65536u);  // one write fault per touched page
  EXPECT_FALSE(stats.cgroup_faults.empty());
  bool latency_reported = false;
  for (const auto& p : stats.probes) {
    if (p.name == "fault_latency") {
      latency_reported = true;
      EXPECT_FALSE(p.attached);
      EXPECT_NE(p.reason.find("handle_mm_fault"), std::string::npos) << p.reason;
    }
  }
  EXPECT_TRUE(latency_reported);
}

TEST(BpfWorkload, MemcgReclaimStallsAreRecordedForTheProcess) {
  VMTUNE_REQUIRE_ROOT();
  MemcgV1 cg(16u << 20);
  if (!cg.ok()) GTEST_SKIP() << "no cgroup v1 memory controller to limit";
  // A 96 MiB file that is not in the page cache: reading it inside a 16 MiB memcg forces limit
  // reclaim of the clean cache it fills.
  const std::string file = "/var/tmp/vmtune-bpf-reclaim-" + std::to_string(::getpid());
  struct Remove {
    std::string f;
    ~Remove() { ::unlink(f.c_str()); }
  } remove{file};
  {
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0);
    std::vector<char> buf(1 << 20, 'x');
    for (int i = 0; i < 96; ++i)
      ASSERT_EQ(::write(fd, buf.data(), buf.size()), ssize_t(buf.size()));
    ::fsync(fd);
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    ::close(fd);
  }
  const auto before = vmstat();
  auto session = start({"reclaim"});
  const pid_t child = spawn_child([&] {
    if (!cg.join()) return 2;
    const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 3;
    std::vector<char> buf(1 << 20);
    while (::read(fd, buf.data(), buf.size()) > 0) {
    }
    ::close(fd);
    return 0;
  });
  const int status = wait_child(child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  const auto stats = session->finish(1);
  const auto after = vmstat();
  const auto failcnt = cg.read_u64("memory.failcnt");
  const auto* p = find(stats, "memcg_reclaim", child);
  ASSERT_NE(p, nullptr) << "no memcg reclaim stall recorded for the reader";
  EXPECT_GT(p->count, 0u);
  EXPECT_GT(p->pages, 0u);  // pages reclaimed
  EXPECT_GE(p->max_us, 1u) << "stall latency";
  EXPECT_FALSE(p->latency_slots.empty());
  EXPECT_GE(stats.histograms.at("memcg_reclaim_us").count, p->count);
  // The memcg's own counter of limit hits agrees: the reader ran into memory.limit_in_bytes.
  EXPECT_GT(failcnt, 0u);
  // Limit reclaim is cgroup reclaim: mm/vmscan.c counts allocstall and pgscan_direct only for
  // global reclaim (`if (!cgroup_reclaim(sc))`), so the global counters must move exactly when
  // the probes saw global direct reclaim.
  std::uint64_t allocstall = 0;
  for (const auto* k : {"allocstall_dma", "allocstall_dma32", "allocstall_normal",
                        "allocstall_movable", "allocstall_device"}) {
    allocstall += delta(before, after, k);
  }
  const auto direct = stats.histograms.at("direct_reclaim_us").count;
  EXPECT_EQ(direct > 0, allocstall > 0)
      << "direct reclaim stalls " << direct << " vs allocstall delta " << allocstall;
  EXPECT_EQ(direct > 0, delta(before, after, "pgscan_direct") > 0);
  EXPECT_GT(stats.counters.at("lru_scanned_file"), 0u);
}

TEST(BpfWorkload, DirtyThrottlingPausesShowForTheWriter) {
  VMTUNE_REQUIRE_ROOT();
  SysctlGuard guard;
  // Writing *_bytes zeroes *_ratio and back: save both pairs; restore writes the saved values
  // in reverse order, so the file that was non-zero originally is written last and wins.
  const std::string vm = "/proc/sys/vm/";
  const bool bytes_mode = read_file(vm + "dirty_bytes") != "0\n";
  const bool bg_bytes_mode = read_file(vm + "dirty_background_bytes") != "0\n";
  guard.save(vm + (bytes_mode ? "dirty_ratio" : "dirty_bytes"));
  guard.save(vm + (bytes_mode ? "dirty_bytes" : "dirty_ratio"));
  guard.save(vm + (bg_bytes_mode ? "dirty_background_ratio" : "dirty_background_bytes"));
  guard.save(vm + (bg_bytes_mode ? "dirty_background_bytes" : "dirty_background_ratio"));
  ASSERT_TRUE(write_file(vm + "dirty_background_bytes", std::to_string(1u << 20)));
  ASSERT_TRUE(write_file(vm + "dirty_bytes", std::to_string(4u << 20)));

  const std::string file = "/var/tmp/vmtune-bpf-dirty-" + std::to_string(::getpid());
  struct Remove {
    std::string f;
    ~Remove() { ::unlink(f.c_str()); }
  } remove{file};
  auto session = start({"writeback"});
  const pid_t child = spawn_child([&] {
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return 2;
    std::vector<char> buf(1 << 20, 'd');
    for (int i = 0; i < 128; ++i) {
      if (::write(fd, buf.data(), buf.size()) != static_cast<ssize_t>(buf.size())) return 3;
    }
    ::close(fd);
    return 0;
  });
  const int status = wait_child(child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  const auto stats = session->finish(1);
  const auto* p = find(stats, "writeback_throttle", child);
  ASSERT_NE(p, nullptr) << "no balance_dirty_pages pause recorded for the writer";
  EXPECT_GT(p->count, 0u);
  EXPECT_GT(p->total_us, 0u);
  EXPECT_GT(p->pages, 0u);
  EXPECT_GE(stats.counters.at("balance_dirty_pages_pauses"), p->count);
  EXPECT_GE(stats.histograms.at("writeback_pause_us").count, p->count);
}

TEST(BpfWorkload, CompactionAndCollapseEventsMatchVmstat) {
  VMTUNE_REQUIRE_ROOT();
  const auto before = vmstat();
  auto session = start({"compaction", "thp"});
  // Fragment: fault in 256 MiB, then free every other 4 KiB page.
  const std::size_t frag = 256u << 20;
  auto* f = static_cast<char*>(
      ::mmap(nullptr, frag, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  ASSERT_NE(f, MAP_FAILED);
  ::madvise(f, frag, MADV_NOHUGEPAGE);
  for (std::size_t off = 0; off < frag; off += kPage) f[off] = 1;
  for (std::size_t off = 0; off < frag; off += 2 * kPage) ::madvise(f + off, kPage, MADV_DONTNEED);
  ASSERT_TRUE(write_file("/proc/sys/vm/compact_memory", "1"));
  // Collapse an aligned 16 MiB region of small pages into huge pages (MADV_COLLAPSE, 6.1+).
  const std::size_t huge = 2u << 20, len = 16u << 20;
  auto* raw = static_cast<char*>(
      ::mmap(nullptr, len + huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  ASSERT_NE(raw, MAP_FAILED);
  char* region =
      reinterpret_cast<char*>((reinterpret_cast<std::uintptr_t>(raw) + huge - 1) & ~(huge - 1));
  ::madvise(region, len, MADV_NOHUGEPAGE);
  for (std::size_t off = 0; off < len; off += kPage) region[off] = 1;
  ::madvise(region, len, MADV_HUGEPAGE);
  const int collapse_rc = ::madvise(region, len, 25 /* MADV_COLLAPSE */);
  const auto stats = session->finish(1);
  const auto after = vmstat();
  ::munmap(raw, len + huge);
  ::munmap(f, frag);

  const auto scanned = delta(before, after, "compact_migrate_scanned") +
                       delta(before, after, "compact_free_scanned") +
                       delta(before, after, "compact_daemon_migrate_scanned") +
                       delta(before, after, "compact_daemon_free_scanned");
  const auto passes = stats.histograms.at("compaction_us").count;
  EXPECT_GT(passes, 0u) << "compact_memory ran compaction but no zone pass was seen";
  EXPECT_GT(scanned, 0u) << "vmstat shows no compaction scanning";
  EXPECT_EQ(stats.counters.at("compaction_direct_entries") > 0,
            delta(before, after, "compact_stall") > 0);
  std::uint64_t results = 0;
  for (const auto& [k, v] : stats.counters) {
    if (k.rfind("compaction_result_", 0) == 0) results += v;
  }
  EXPECT_EQ(results, passes);

  const auto collapsed = delta(before, after, "thp_collapse_alloc");
  const auto succeeded = stats.counters.at("thp_collapse_succeeded");
  EXPECT_EQ(succeeded > 0, collapsed > 0) << "bpf " << succeeded << " vs vmstat " << collapsed;
  if (collapse_rc == 0) {
    const auto* me = find(stats, "thp_collapse", ::getpid());
    ASSERT_NE(me, nullptr) << "MADV_COLLAPSE caller not seen";
    // Successful collapses by this process: at least one, at most one per 2 MiB range (a range
    // khugepaged collapsed first needs none), and never more than the kernel counted.
    EXPECT_GE(me->pages, 1u);
    EXPECT_LE(me->pages, len / huge);
    EXPECT_GE(collapsed, me->pages);
  }
}

TEST(BpfWorkload, OomKillIsReportedWithVictimAndCgroup) {
  VMTUNE_REQUIRE_ROOT();
  MemcgV1 cg(32u << 20);
  if (!cg.ok()) GTEST_SKIP() << "no cgroup v1 memory controller to limit";
  auto session = start({"oom"});
  Kmsg kmsg;
  const pid_t child = spawn_child([&] {
    if (!cg.join()) return 2;
    ::prctl(PR_SET_NAME, "vmt-oom-victim");
    const std::size_t size = 256u << 20;
    auto* p = static_cast<volatile char*>(
        ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    for (std::size_t off = 0; off < size; off += kPage) p[off] = 1;
    return 0;
  });
  const int status = wait_child(child);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "child was not OOM-killed";
  const auto stats = session->finish(1);
  const auto it = std::find_if(stats.oom_kills.begin(), stats.oom_kills.end(),
                               [&](const auto& k) { return k.pid == child; });
  ASSERT_NE(it, stats.oom_kills.end());
  EXPECT_EQ(it->comm, "vmt-oom-victim");
  ASSERT_TRUE(it->anon_rss.has_value());
  EXPECT_GT(*it->anon_rss, 16u << 20);
  // The kernel's own report of the kill: "Killed process PID (comm) total-vm:NkB,
  // anon-rss:NkB, file-rss:NkB, shmem-rss:NkB, UID:N pgtables:NkB oom_score_adj:N".
  std::string line;
  for (const auto& m : kmsg.read_new()) {
    if (m.find("Killed process " + std::to_string(child) + " ") != std::string::npos) line = m;
  }
  ASSERT_FALSE(line.empty()) << "no oom-kill line in /dev/kmsg";
  auto field_kb = [&](const std::string& name) -> std::uint64_t {
    const auto at = line.find(name + ":");
    return at == std::string::npos
               ? 0
               : std::strtoull(line.c_str() + at + name.size() + 1, nullptr, 10);
  };
  EXPECT_EQ(*it->anon_rss / 1024, field_kb("anon-rss")) << line;
  EXPECT_EQ(it->total_vm.value_or(0) / 1024, field_kb("total-vm")) << line;
  EXPECT_EQ(it->file_rss.value_or(0) / 1024, field_kb("file-rss")) << line;
  EXPECT_EQ(it->pgtables.value_or(0) / 1024, field_kb("pgtables")) << line;
  EXPECT_EQ(it->cgroup, "memory:/" + cg.name());
  EXPECT_GE(stats.counters.at("oom_mark_victim"), 1u);
}

TEST(BpfWorkload, ClassicTracepointFallbackAttachesEveryProbe) {
  VMTUNE_REQUIRE_ROOT();
  const bool mounted_before = std::filesystem::exists("/sys/kernel/tracing/events");
  {
    auto session = start(collect::bpf::all_probe_names(), AttachPreference::tp);
    for (const auto& p : session->probes()) {
      if (p.name == "fault_latency") continue;
      EXPECT_EQ(p.mode, "tp") << p.name;
      EXPECT_FALSE(p.events.empty()) << p.name;
    }
    EXPECT_FALSE(vmtune_program_ids().empty());
    const auto stats = session->finish(0.1);
    EXPECT_EQ(stats.probes.size(), 7u);  // six groups + fault_latency
  }
  EXPECT_EQ(std::filesystem::exists("/sys/kernel/tracing/events"), mounted_before)
      << "tracefs mount state not restored";
}

}  // namespace
}  // namespace vmtune::test::bpf
