// SPDX-License-Identifier: GPL-2.0-or-later
#include "collect/processes.hpp"

#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "collect/cgroups.hpp"
#include "core/parse.hpp"
#include "core/temp_dir.hpp"
#include "test_support.hpp"

namespace vmtune::collect {
namespace {

namespace fs = std::filesystem;
using test::shared_expected;
using test::shared_fixtures;
using test::slurp;
using test::write_fixture;

const model::Process* find(const std::vector<model::Process>& ps, int pid) {
  for (const auto& p : ps) {
    if (p.pid == pid) return &p;
  }
  return nullptr;
}

ProcStat stat_of(const fs::path& file) {
  auto st = parse_proc_stat(slurp(file), "/proc/x/stat");
  EXPECT_TRUE(st.ok()) << file << ": " << (st.ok() ? "" : st.error().to_string());
  return st.ok() ? *st : ProcStat{};
}

// comm is everything between the first '(' and the LAST ')', whatever it holds.
TEST(Processes, StatCommWithParensSpacesAndNewlines) {
  VMTUNE_REQUIRE_SHARED_FIXTURES();
  const auto& e = shared_expected();
  const auto f = shared_fixtures();
  {
    const auto& want = e.at("facebookincubator-below/procfs/74718/stat");
    const auto st = stat_of(f / "facebookincubator-below/procfs/74718/stat");
    EXPECT_EQ(st.pid, want.at("pid").get<int>());
    EXPECT_EQ(st.comm, want.at("comm").get<std::string>());  // "((bash process)"
    EXPECT_EQ(std::string(1, st.state), want.at("state").get<std::string>());
    EXPECT_EQ(st.ppid, want.at("ppid").get<int>());
    EXPECT_EQ(st.minflt, want.at("minflt").get<std::uint64_t>());
    EXPECT_EQ(st.majflt, want.at("majflt").get<std::uint64_t>());
  }
  {
    const auto& want = e.at("shirou-gopsutil/process/proc/68927/stat");
    const auto st = stat_of(f / "shirou-gopsutil/process/proc/68927/stat");
    EXPECT_EQ(st.comm, want.at("comm").get<std::string>());  // "test(cmd).sh"
    EXPECT_EQ(std::to_string(st.ppid), want.at("ppid").get<std::string>());
    EXPECT_EQ(std::string(1, st.state), want.at("state").get<std::string>());
  }
  EXPECT_EQ(stat_of(f / "prometheus-procfs/proc/584/stat").comm,
            e.at("prometheus-procfs/proc/584/stat").at("comm").get<std::string>());
  EXPECT_EQ(stat_of(f / "prometheus-procfs/proc/26231/stat").comm, "vim");
  // procfs reuses another task's stat here (pid 33, extreme cutime/cstime)
  EXPECT_EQ(stat_of(f / "prometheus-procfs/proc/26232/stat").pid, 33);
  EXPECT_EQ(stat_of(f / "prometheus-procfs/proc/26232/stat").comm, "ata_sff");
  for (const char* name : {"pid_stat", "pid_stat_hack", "pid_stat_w_space_and_nl_in_comm"}) {
    const std::string rel = std::string("kellyjonbrazil-jc/linux-proc/") + name;
    const auto& want = e.at(rel);
    const auto st = stat_of(f / rel);
    EXPECT_EQ(st.pid, want.at("pid").get<int>()) << name;
    EXPECT_EQ(st.comm, want.at("comm").get<std::string>()) << name;
    EXPECT_EQ(std::string(1, st.state), want.at("state").get<std::string>()) << name;
    EXPECT_EQ(st.ppid, want.at("ppid").get<int>()) << name;
    EXPECT_EQ(st.minflt, want.at("minflt").get<std::uint64_t>()) << name;
    EXPECT_EQ(st.majflt, want.at("majflt").get<std::uint64_t>()) << name;
  }
  const auto sysstat = stat_of(f / "sysstat/root1/proc/8741/stat");
  EXPECT_EQ(sysstat.comm, "firefox");
  EXPECT_EQ(sysstat.ppid, 7900);
  EXPECT_EQ(sysstat.minflt, 777121u);
  EXPECT_EQ(sysstat.majflt, 528u);
}

TEST(Processes, DamagedStatIsAnErrorNamingTheField) {
  const std::string good =
      "1547 (bash) S 1546 1547 1547 0 -1 4194560 16905 1680161 0 811 4 11 3831 864 20 0\n";
  ASSERT_TRUE(parse_proc_stat(good, "x").ok());
  auto truncated = parse_proc_stat(good.substr(0, 40), "/proc/1547/stat");
  ASSERT_FALSE(truncated.ok());
  EXPECT_EQ(truncated.error().kind, core::ErrorKind::parse_error);
  EXPECT_EQ(truncated.error().path, "/proc/1547/stat");
  EXPECT_NE(truncated.error().message.find("truncated"), std::string::npos);
  EXPECT_EQ(parse_proc_stat("", "x").error().message, "file is empty");
  EXPECT_FALSE(parse_proc_stat("1547 (bash", "x").ok());  // cut inside comm
  EXPECT_FALSE(parse_proc_stat("\x01\x02\xff garbage", "x").ok());
  EXPECT_EQ(parse_proc_stat("abc (bash) S 1 1 1 0 -1 0 5 0 7 0", "x").error().field, "pid");
  EXPECT_EQ(parse_proc_stat("12 (bash) S 1 1 1 0 -1 0 x 0 7 0", "x").error().field, "minflt");
  EXPECT_EQ(parse_proc_stat("12 (bash) SS 1 1 1 0 -1 0 5 0 7 0", "x").error().field, "state");
}

TEST(Processes, StatusAndSmapsRollupFieldsInBytes) {
  VMTUNE_REQUIRE_SHARED_FIXTURES();
  const auto& e = shared_expected();
  const auto f = shared_fixtures();
  const auto check_status = [&](const std::string& rel) {
    model::Process p;
    parse_proc_status(slurp(f / rel), p);
    const auto& want = e.at(rel);
    const std::pair<const char*, std::optional<std::uint64_t>*> fields[] = {
        {"VmRSS", &p.vm_rss},        {"RssAnon", &p.rss_anon}, {"RssFile", &p.rss_file},
        {"RssShmem", &p.rss_shmem},  {"VmPTE", &p.vm_pte},     {"VmSwap", &p.vm_swap},
        {"HugetlbPages", &p.hugetlb}};
    int checked = 0;
    for (const auto& [name, member] : fields) {
      if (!want.contains(name)) continue;
      EXPECT_TRUE(member->has_value()) << rel << " " << name;
      if (!member->has_value()) continue;
      EXPECT_EQ(**member, want.at(name).get<std::uint64_t>() * 1024) << rel << " " << name;
      ++checked;
    }
    return checked;
  };
  EXPECT_EQ(check_status("prometheus-procfs/proc/26231/status"), 7);
  EXPECT_EQ(check_status("facebookincubator-below/procfs/93041/status"), 6);
  EXPECT_EQ(check_status("kellyjonbrazil-jc/linux-proc/pid_status"), 7);

  model::Process p;
  parse_smaps_rollup(slurp(f / "prometheus-procfs/proc/26231/smaps_rollup"), p);
  const auto& want = e.at("prometheus-procfs/proc/26231/smaps_rollup");
  EXPECT_EQ(*p.pss, want.at("Pss").get<std::uint64_t>() * 1024);
  EXPECT_EQ(*p.swap_pss, want.at("SwapPss").get<std::uint64_t>() * 1024);
  EXPECT_EQ(*p.anon_huge_pages, 0u);

  model::Process bound;  // numactl --membind=1: the one text field kept, validated
  parse_proc_status(
      "Name:\tpostgres\nVmRSS:\t  100 kB\nMems_allowed:\t00000002\n"
      "Mems_allowed_list:\t1\nvoluntary_ctxt_switches:\t3\n",
      bound);
  EXPECT_EQ(bound.mems_allowed, "1");
  EXPECT_EQ(*bound.vm_rss, 100u * 1024);
  model::Process hostile;
  parse_proc_status("Name:\tx\nMems_allowed_list:\t0-1\x1b[2J\n", hostile);
  EXPECT_EQ(hostile.mems_allowed, "");
  model::Process real;
  parse_proc_status(slurp(f / "prometheus-procfs/proc/26231/status"), real);
  EXPECT_EQ(real.mems_allowed, "0") << "the fixture's own Mems_allowed_list";

  model::Process none;  // a kernel thread's status has no Vm* lines; empty rollup
  parse_proc_status("Name:\tkthreadd\nState:\tS (sleeping)\nPPid:\t0\n", none);
  parse_smaps_rollup("", none);
  EXPECT_FALSE(none.vm_rss || none.rss_anon || none.vm_pte || none.pss);
}

TEST(Processes, CmdlineKeepsArgumentBoundaries) {
  using Argv = std::vector<std::string>;
  EXPECT_EQ(parse_cmdline(std::string("bash\0/dev/fd/3\0", 15)), (Argv{"bash", "/dev/fd/3"}));
  EXPECT_EQ(parse_cmdline(""), Argv{});
  EXPECT_EQ(parse_cmdline(std::string("\0\0", 2)), Argv{});
  // An empty argument in the middle survives; trailing NULs (terminator, padding) do not.
  EXPECT_EQ(parse_cmdline(std::string("a\0\0b\0\0", 6)), (Argv{"a", "", "b"}));
  // An argument with spaces stays one argument.
  EXPECT_EQ(parse_cmdline(std::string("sh\0-c\0echo a b\0", 15)), (Argv{"sh", "-c", "echo a b"}));
  // setproctitle: no terminating NUL, the title is one argument.
  EXPECT_EQ(parse_cmdline("postgres: checkpointer "), Argv{"postgres: checkpointer "});
  // Bytes are kept as they are; escaping is the renderers' job.
  EXPECT_EQ(parse_cmdline(std::string("\xff\x1b[31m\0x\ny\0", 11)), (Argv{"\xff\x1b[31m", "x\ny"}));
}

TEST(Processes, ScanOfFirecrackerCapture) {
  VMTUNE_REQUIRE_SHARED_FIXTURES();
  const auto root = shared_fixtures() / "live-firecracker-6.18";
  model::Sample s;
  read_processes(core::RootFs::under(root), s, SmapsRollup::all);
  ASSERT_TRUE(s.processes.ok()) << s.processes.reason();
  const auto& ps = *s.processes.value;
  ASSERT_EQ(ps.size(), 2u);
  const auto* bash = find(ps, 1547);
  ASSERT_NE(bash, nullptr);
  EXPECT_EQ(bash->comm, "bash");
  EXPECT_EQ(bash->ppid, 1546);
  EXPECT_EQ(bash->minflt, 16905u);
  EXPECT_EQ(bash->cmdline, (std::vector<std::string>{"bash", "/dev/fd/3"}));
  EXPECT_EQ(*bash->vm_rss, 4140u * 1024);
  EXPECT_EQ(*bash->rss_anon, 1168u * 1024);
  EXPECT_EQ(*bash->vm_pte, 52u * 1024);
  EXPECT_EQ(*bash->pss, 2117u * 1024);
  EXPECT_EQ(*bash->swap_pss, 0u);
  EXPECT_EQ(bash->cgroup, "");  // the capture has no per-process cgroup file
  EXPECT_NE(find(ps, 1), nullptr);
}

// A captured pid directory that lacks some files keeps the process with those fields absent;
// one without stat is skipped; a broken stat is reported with its path.
TEST(Processes, ScanOfProcfsFixtureAndDamagedTree) {
  VMTUNE_REQUIRE_SHARED_FIXTURES();
  model::Sample s;
  read_processes(core::RootFs::under(shared_fixtures() / "prometheus-procfs"), s, SmapsRollup::all);
  ASSERT_TRUE(s.processes.ok());
  const auto& ps = *s.processes.value;
  const auto* vim = find(ps, 26231);
  ASSERT_NE(vim, nullptr);
  EXPECT_EQ(vim->comm, "vim");
  EXPECT_EQ(*vim->vm_rss, 6716u * 1024);
  EXPECT_EQ(*vim->pss, 29944u * 1024);
  ASSERT_NE(find(ps, 26232), nullptr);  // the directory names the process, not stat's "33"
  EXPECT_EQ(find(ps, 26232)->comm, "ata_sff");
  EXPECT_FALSE(find(ps, 26232)->vm_rss.has_value());
  EXPECT_EQ(find(ps, 584)->comm, "(a b ) ( c d) ");
  EXPECT_EQ(find(ps, 26235), nullptr);  // status only, no stat

  auto tmp = core::TempDir::create("vmtune-test-");
  ASSERT_TRUE(tmp.ok());
  const auto p = tmp->path() / "proc";
  write_fixture(p / "10/stat", "10 (ok) S 1 10 10 0 -1 0 5 0 7 0 0 0\n");
  write_fixture(p / "10/status", "Name:\tok\nVmRSS:\t 12 kB\nRssAnon:\tgarbage kB\n");
  write_fixture(p / "11/stat", "11 (cut) S 1 1");     // truncated
  write_fixture(p / "12/stat", "");                   // empty
  write_fixture(p / "13/stat", "\x01\x02\x03");       // garbage
  write_fixture(p / "self/stat", "not a pid dir\n");  // not numeric: ignored
  model::Sample d;
  read_processes(core::RootFs::under(tmp->path()), d, SmapsRollup::all);
  ASSERT_TRUE(d.processes.ok());
  ASSERT_EQ(d.processes.value->size(), 1u);
  const auto& ok = d.processes.value->front();
  EXPECT_EQ(ok.pid, 10);
  EXPECT_EQ(ok.minflt, 5u);
  EXPECT_EQ(ok.majflt, 7u);
  EXPECT_EQ(*ok.vm_rss, 12u * 1024);
  EXPECT_FALSE(ok.rss_anon.has_value());
  ASSERT_EQ(d.unavailable.size(), 3u);
  EXPECT_EQ(d.unavailable[0].path, "/proc/11/stat");
  EXPECT_EQ(d.unavailable[1].path, "/proc/12/stat");
  EXPECT_EQ(d.unavailable[2].path, "/proc/13/stat");
}

TEST(Processes, MissingProcIsUnavailable) {
  auto tmp = core::TempDir::create("vmtune-test-");
  ASSERT_TRUE(tmp.ok());
  model::Sample s;
  read_processes(core::RootFs::under(tmp->path()), s, SmapsRollup::all);
  EXPECT_EQ(s.processes.state, model::SourceState::missing);
  ASSERT_EQ(s.unavailable.size(), 1u);
  EXPECT_EQ(s.unavailable[0].path, "/proc");
}

/// A child process that waits on a pipe, then touches `mib` MiB of anonymous memory, then waits
/// again until killed. Killed and reaped by the destructor, whatever the test does.
class Toucher {
 public:
  explicit Toucher(std::size_t mib) {
    if (::pipe(go_) != 0 || ::pipe(done_) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      char c = 0;
      if (::read(go_[0], &c, 1) != 1) ::_exit(1);
      const std::size_t len = mib << 20;
      void* mem = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (mem == MAP_FAILED) ::_exit(2);
      ::madvise(mem, len, MADV_NOHUGEPAGE);  // one fault per 4 KiB page: minflt must grow
      std::memset(mem, 0x5a, len);
      if (::write(done_[1], "d", 1) != 1) ::_exit(3);
      ::pause();
      ::_exit(0);
    }
  }
  ~Toucher() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    for (int fd : {go_[0], go_[1], done_[0], done_[1]}) {
      if (fd >= 0) ::close(fd);
    }
  }
  Toucher(const Toucher&) = delete;
  Toucher& operator=(const Toucher&) = delete;
  pid_t pid() const { return pid_; }
  bool touch_and_wait() {
    char c = 0;
    return ::write(go_[1], "g", 1) == 1 && ::read(done_[0], &c, 1) == 1;
  }

 private:
  pid_t pid_ = -1;
  int go_[2] = {-1, -1};
  int done_[2] = {-1, -1};
};

TEST(Processes, LiveScanSeesThisProcessAndAChildTouchingMemory) {
  constexpr std::size_t kMib = 64;
  Toucher child(kMib);
  ASSERT_GT(child.pid(), 0);
  model::Sample before;
  read_processes(core::RootFs(), before, SmapsRollup::all);
  ASSERT_TRUE(before.processes.ok()) << before.processes.reason();
  const auto& ps = *before.processes.value;
  EXPECT_GT(ps.size(), 10u);

  const auto* self = find(ps, ::getpid());
  ASSERT_NE(self, nullptr);
  EXPECT_EQ(self->comm, std::string(core::trim(slurp("/proc/self/comm"))));
  EXPECT_EQ(self->ppid, ::getppid());
  EXPECT_EQ(self->state, 'R');
  ASSERT_TRUE(self->vm_rss.has_value());
  EXPECT_GT(*self->vm_rss, 1u << 20);
  EXPECT_LE(*self->rss_anon + *self->rss_file + *self->rss_shmem, *self->vm_rss + (1u << 20));
  EXPECT_GT(*self->vm_pte, 0u);
  EXPECT_EQ(self->cgroup, parse_cgroup_v2_path(slurp("/proc/self/cgroup")));
  EXPECT_EQ(self->cmdline, parse_cmdline(slurp("/proc/self/cmdline")));
  EXPECT_FALSE(self->cmdline.empty());
  if (test::running_as_root()) {
    ASSERT_TRUE(self->pss.has_value());
    EXPECT_GT(*self->pss, 0u);
  }
  // kthreadd (pid 2): a kernel thread, kept with RSS absent and an empty command line
  const auto* kthreadd = find(ps, 2);
  ASSERT_NE(kthreadd, nullptr);
  EXPECT_EQ(kthreadd->comm, "kthreadd");
  EXPECT_TRUE(kthreadd->cmdline.empty());
  EXPECT_FALSE(kthreadd->vm_rss.has_value());

  const auto* c0 = find(ps, child.pid());
  ASSERT_NE(c0, nullptr);
  EXPECT_EQ(c0->ppid, ::getpid());
  ASSERT_TRUE(child.touch_and_wait());
  model::Sample after;
  read_processes(core::RootFs(), after, SmapsRollup::all);
  ASSERT_TRUE(after.processes.ok());
  const auto* c1 = find(*after.processes.value, child.pid());
  ASSERT_NE(c1, nullptr);
  ASSERT_TRUE(c1->rss_anon.has_value());
  EXPECT_GE(*c1->rss_anon, kMib << 20);
  EXPECT_GE(c1->minflt, c0->minflt + (kMib << 20) / 4096 / 2);
}

// Processes that come and go during the scan are skipped without any error entry.
TEST(Processes, LiveScanIgnoresProcessesExitingMidScan) {
  std::vector<pid_t> kids;
  for (int round = 0; round < 10; ++round) {
    for (int i = 0; i < 20; ++i) {
      const pid_t pid = ::fork();
      if (pid == 0) {
        ::usleep(static_cast<useconds_t>(100 * i));
        ::_exit(0);
      }
      if (pid > 0) kids.push_back(pid);
    }
    model::Sample s;
    read_processes(core::RootFs(), s, SmapsRollup::all);
    ASSERT_TRUE(s.processes.ok());
    for (const auto& u : s.unavailable) {
      EXPECT_NE(u.reason.find("smaps_rollup unreadable"), std::string::npos) << u.path << u.reason;
    }
    for (pid_t k : kids) ::waitpid(k, nullptr, 0);
    kids.clear();
  }
}

// A non-root reader cannot read other users' smaps_rollup: one aggregate entry, not one per pid.
TEST(Processes, SmapsPermissionDeniedIsRecordedOnce) {
  VMTUNE_REQUIRE_ROOT();
  const passwd* nobody = ::getpwnam("nobody");
  ASSERT_NE(nobody, nullptr);
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(fds[0]);
    if (::setgid(nobody->pw_gid) != 0 || ::setuid(nobody->pw_uid) != 0) ::_exit(1);
    model::Sample s;
    read_processes(core::RootFs(), s, SmapsRollup::all);
    int entries = 0;
    int denied = 0;
    for (const auto& u : s.unavailable) {
      ++entries;
      if (u.path == "/proc/*/smaps_rollup" && u.reason.find("permission denied") == 0) ++denied;
    }
    const int pss_of_root = s.processes.ok() && find(*s.processes.value, 1) != nullptr &&
                            !find(*s.processes.value, 1)->pss.has_value();
    const int msg[3] = {entries, denied, pss_of_root};
    if (::write(fds[1], msg, sizeof msg) != static_cast<ssize_t>(sizeof msg)) ::_exit(2);
    ::_exit(0);
  }
  ::close(fds[1]);
  int msg[3] = {-1, -1, -1};
  const auto n = ::read(fds[0], msg, sizeof msg);
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_EQ(n, static_cast<ssize_t>(sizeof msg));
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_EQ(msg[0], 1);  // exactly one entry in total
  EXPECT_EQ(msg[1], 1);  // and it is the aggregate smaps_rollup one
  EXPECT_EQ(msg[2], 1);  // init's Pss absent rather than 0
}

model::Process proc(int pid, int ppid, const char* comm, std::uint64_t anon) {
  model::Process p;
  p.pid = pid;
  p.ppid = ppid;
  p.comm = comm;
  if (anon > 0) p.rss_anon = anon;
  return p;
}

// The selection: the largest anonymous users, each postmaster and a few of its backends; not
// the rest (their smaps_rollup would cost page-table walks for nothing).
TEST(Processes, SmapsSelectionTakesLargestAnonAndPostgres) {
  std::vector<model::Process> ps;
  ps.push_back(proc(1, 0, "systemd", 10));
  ps.push_back(proc(500, 1, "postgres", 5));  // postmaster, small anon
  for (int i = 0; i < 6; ++i) ps.push_back(proc(501 + i, 500, "postgres", 1));
  for (int i = 0; i < 12; ++i) ps.push_back(proc(1000 + i, 1, "java", 1000 + i));
  ps.push_back(proc(2000, 1, "kthreadd", 0));
  const auto chosen = select_for_smaps(ps);
  std::vector<int> pids;
  for (const auto i : chosen) pids.push_back(ps[i].pid);
  // 8 largest anon (1004..1011), the postmaster 500 and its 4 lowest children 501..504.
  const std::vector<int> want = {500,  501,  502,  503,  504,  1004, 1005,
                                 1006, 1007, 1008, 1009, 1010, 1011};
  EXPECT_EQ(pids, want);
  EXPECT_TRUE(std::is_sorted(chosen.begin(), chosen.end()));
}

// Live, selected: only the chosen processes' smaps_rollup is read, and the largest anonymous
// user (a child holding 512 MiB) is among them with its Pss.
TEST(Processes, LiveSelectedScanReadsSmapsOnlyForTheChosen) {
  VMTUNE_REQUIRE_ROOT();
  Toucher child(512);
  ASSERT_GT(child.pid(), 0);
  ASSERT_TRUE(child.touch_and_wait());
  std::vector<core::Error> bad;
  ProcessScanStats st;
  auto ps = scan_processes_rootfs(core::RootFs(), SmapsRollup::selected, &bad, &st);
  ASSERT_TRUE(ps.ok());
  EXPECT_GT(ps->size(), 20u);
  EXPECT_LE(st.smaps_read, select_for_smaps(*ps).size() + 2);  // + processes that came since
  EXPECT_LT(st.smaps_read, ps->size());
  std::size_t with_pss = 0;
  for (const auto& p : *ps) with_pss += p.pss.has_value() ? 1 : 0;
  EXPECT_EQ(with_pss, st.smaps_read - st.smaps_denied);
  const auto* c = find(*ps, child.pid());
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(c->pss.has_value());
  EXPECT_GE(c->pss.value_or(0), 400u << 20);
}

}  // namespace
}  // namespace vmtune::collect
