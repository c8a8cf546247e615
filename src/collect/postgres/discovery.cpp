// SPDX-License-Identifier: GPL-2.0-or-later
#include "collect/postgres/discovery.hpp"

#include <pwd.h>

#include <algorithm>
#include <map>

#include "collect/postgres/smaps.hpp"
#include "collect/processes.hpp"
#include "collect/source_util.hpp"
#include "core/parse.hpp"

namespace vmtune::collect::postgres {
namespace {

constexpr const char* kSource = "postgres";
// postmaster.pid is eight short lines; anything larger is not PostgreSQL's.
constexpr std::size_t kMaxPostmasterPid = 64u << 10;
// The postmaster's smaps: about 1 KiB per mapping; 64 MiB is some 60,000 mappings.
constexpr std::size_t kMaxSmaps = 64u << 20;

core::Error parse_err(const std::string& path, std::string msg, int line = 0,
                      std::string field = {}) {
  return core::make_error(core::ErrorKind::parse_error, path, std::move(msg), line,
                          std::move(field));
}

bool is_pg_comm(std::string_view comm) noexcept {
  return comm == "postgres" || comm == "postmaster";
}

bool all_digits(std::string_view s) noexcept {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::optional<int> to_int(std::string_view s) {
  const auto v = core::parse_i64(core::trim(s));
  if (!v || *v < 0 || *v > 0x7fffffff) return std::nullopt;
  return static_cast<int>(*v);
}

std::string user_name(std::uint32_t uid) {
  passwd pw{};
  passwd* res = nullptr;
  char buf[4096];
  if (getpwuid_r(uid, &pw, buf, sizeof buf, &res) == 0 && res != nullptr) return pw.pw_name;
  return std::to_string(uid);
}

}  // namespace

core::Result<PostmasterPid> parse_postmaster_pid(std::string_view text,
                                                 const std::string& logical_path) {
  if (text.empty()) return parse_err(logical_path, "file is empty");
  const auto lines = core::split_lines(text);
  PostmasterPid out;
  const auto pid = to_int(lines[0].text);
  if (!pid || *pid <= 0) {
    // The content is never quoted: the file may not be PostgreSQL's at all.
    return parse_err(logical_path, "expected the postmaster PID (a positive number)", 1, "pid");
  }
  out.pid = *pid;
  auto line = [&](std::size_t i) -> std::string_view {
    return i < lines.size() ? core::trim(lines[i].text) : std::string_view{};
  };
  out.data_dir = std::string(line(1));
  if (!line(2).empty()) {
    if (auto v = core::parse_i64(line(2)))
      out.start_time_unix = *v;
    else
      return parse_err(logical_path, "expected a start time (seconds since the epoch)", 3,
                       "start_time");
  }
  if (!line(3).empty()) {
    const auto port = to_int(line(3));
    if (!port || *port == 0 || *port > 65535) {
      return parse_err(logical_path, "expected a port number from 1 to 65535", 4, "port");
    }
    out.port = *port;
  }
  out.socket_dir = std::string(line(4));
  out.listen_address = std::string(line(5));
  out.shmem_key = std::string(line(6));
  out.status = std::string(line(7));
  return out;
}

core::Result<StatusMemory> parse_status_memory(std::string_view text,
                                               const std::string& logical_path) {
  if (text.empty()) return parse_err(logical_path, "file is empty");
  StatusMemory out;
  std::vector<core::Error> bad;
  for (const auto& kv : core::parse_kv_kb(text, logical_path, &bad, true)) {
    if (kv.key == "VmPTE")
      out.vm_pte = kv.value;
    else if (kv.key == "RssShmem")
      out.rss_shmem = kv.value;
    else if (kv.key == "RssAnon")
      out.rss_anon = kv.value;
    else if (kv.key == "HugetlbPages")
      out.hugetlb = kv.value;
  }
  for (const auto& line : core::split_lines(text)) {
    if (line.text.rfind("Uid:", 0) != 0) continue;
    const auto f = core::split_ws(line.text.substr(4));
    if (!f.empty()) {
      if (auto v = core::parse_u64(f[0]); v && *v <= 0xffffffffu)
        out.uid = static_cast<std::uint32_t>(*v);
    }
  }
  if (!out.vm_pte && !out.rss_shmem && !out.uid) {
    // Kernel threads have no Vm* lines but do have Uid; a file with neither is not a status file.
    return parse_err(logical_path, "no VmPTE, RssShmem or Uid line found");
  }
  return out;
}

CmdlineHints parse_postgres_cmdline(std::string_view cmdline_nul) {
  std::vector<std::string_view> args;
  std::size_t pos = 0;
  while (pos < cmdline_nul.size()) {
    auto end = cmdline_nul.find('\0', pos);
    if (end == std::string_view::npos) end = cmdline_nul.size();
    args.push_back(cmdline_nul.substr(pos, end - pos));
    pos = end + 1;
  }
  CmdlineHints out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto a = args[i];
    auto value = [&](std::string_view flag) -> std::optional<std::string_view> {
      if (a == flag && i + 1 < args.size()) return args[++i];
      if (a.size() > flag.size() && a.substr(0, flag.size()) == flag) return a.substr(flag.size());
      return std::nullopt;
    };
    if (auto v = value("-D"))
      out.data_dir = std::string(*v);
    else if (auto p = value("-p")) {
      if (auto n = to_int(*p); n && *n > 0 && *n <= 65535) out.port = *n;
    }
  }
  return out;
}

namespace {

using ProcTable = std::map<int, collect::ProcStat>;

// Every process: pid -> comm, ppid. The process collector already scanned /proc for this
// sample; only without that scan (--no-processes) is /proc/PID/stat read here. nullopt (and
// noted) when /proc cannot be listed.
std::optional<ProcTable> process_table(const core::RootFs& fs, model::Sample& sample) {
  ProcTable procs;
  if (sample.processes.value) {
    for (const auto& p : *sample.processes.value) {
      procs.emplace(p.pid, collect::ProcStat{p.pid, p.comm, p.state, p.ppid, p.minflt, p.majflt});
    }
    return procs;
  }
  auto pids = fs.list_dir(core::Tree::proc, "");
  if (!pids) {
    note_unavailable(sample, kSource, pids.error());
    return std::nullopt;
  }
  for (const auto& name : *pids) {
    if (!all_digits(name)) continue;
    const std::string rel = name + "/stat";
    auto text = fs.read_text(core::Tree::proc, rel);
    if (!text) continue;  // exited between listing and reading
    auto st = collect::parse_proc_stat(*text, fs.logical(core::Tree::proc, rel));
    if (!st) continue;  // a process we cannot read is not ours to report
    procs.emplace(st->pid, std::move(*st));
  }
  return procs;
}

// A postgres process whose parent is not one: a postmaster, not a backend.
bool is_postmaster(const collect::ProcStat& st, const ProcTable& procs) {
  if (!is_pg_comm(st.comm)) return false;
  const auto parent = procs.find(st.ppid);
  return parent == procs.end() || !is_pg_comm(parent->second.comm);
}

// The data directory: postmaster.pid through /proc/PID/cwd (the postmaster chdirs there),
// falling back to -D / -p on the command line.
// Opened without following links and only when owned by the postmaster's own user: a
// process that merely calls itself "postgres" must not make root read anyone else's file.
void locate_data_dir(const core::RootFs& fs, model::Sample& sample, model::PgInstance& inst) {
  const int pid = inst.postmaster_pid;
  const std::string spid = std::to_string(pid);
  const std::string pid_rel = spid + "/cwd/postmaster.pid";
  if (auto text = fs.read_in_process_dir(pid, "cwd", "postmaster.pid", kMaxPostmasterPid)) {
    auto pm = parse_postmaster_pid(*text, fs.logical(core::Tree::proc, pid_rel));
    if (pm && pm->pid == pid) {
      inst.data_dir = pm->data_dir;
      inst.port = pm->port;
      inst.socket_dir = pm->socket_dir;
      inst.listen_address = pm->listen_address;
      inst.status = pm->status;
      inst.start_time_unix = pm->start_time_unix;
    } else if (pm) {
      note_unavailable(sample, kSource,
                       parse_err(fs.logical(core::Tree::proc, pid_rel),
                                 "names PID " + std::to_string(pm->pid) + ", not the postmaster " +
                                     spid + " (stale lock file?)",
                                 1, "pid"));
    } else {
      note_unavailable(sample, kSource, pm.error());
    }
  } else {
    note_unavailable(sample, kSource, text.error());
  }
  if (inst.data_dir.empty() || !inst.port) {
    if (auto cmd = fs.read_text(core::Tree::proc, spid + "/cmdline")) {
      const auto hints = parse_postgres_cmdline(*cmd);
      if (inst.data_dir.empty()) inst.data_dir = hints.data_dir;
      if (!inst.port) inst.port = hints.port;
    }
  }
}

// Memory of the postmaster and every child, from their /proc/PID/status; the postmaster's
// also names the server's user.
void sum_process_memory(const core::RootFs& fs, model::Sample& sample, model::PgInstance& inst,
                        bool resolve_users, std::uint64_t page_size) {
  const int pid = inst.postmaster_pid;
  std::uint64_t pte = 0, shmem = 0, anon = 0, huge = 0;
  bool any = false;
  std::vector<int> all = {pid};
  all.insert(all.end(), inst.backend_pids.begin(), inst.backend_pids.end());
  for (int p : all) {
    const std::string rel = std::to_string(p) + "/status";
    auto text = fs.read_text(core::Tree::proc, rel);
    if (!text) {
      if (text.error().kind != core::ErrorKind::missing)
        note_unavailable(sample, kSource, text.error());
      continue;
    }
    auto mem = parse_status_memory(*text, fs.logical(core::Tree::proc, rel));
    if (!mem) {
      note_unavailable(sample, kSource, mem.error());
      continue;
    }
    if (p == pid && mem->uid)
      inst.user = resolve_users ? user_name(*mem->uid) : std::to_string(*mem->uid);
    pte += mem->vm_pte.value_or(0);
    shmem += mem->rss_shmem.value_or(0);
    anon += mem->rss_anon.value_or(0);
    huge += mem->hugetlb.value_or(0);
    any = any || mem->vm_pte.has_value();
    ++inst.processes_counted;
  }
  if (any) {
    inst.page_tables_total = pte;
    inst.rss_shmem_total = shmem;
    inst.rss_anon_total = anon;
    inst.hugetlb_total = huge;
    inst.shmem_page_table_estimate = shmem * 8 / page_size;
  }
}

// The main shared segment, from the postmaster's smaps.
void read_shared_segment(const core::RootFs& fs, model::Sample& sample, model::PgInstance& inst,
                         std::uint64_t page_size) {
  const std::string smaps_rel = std::to_string(inst.postmaster_pid) + "/smaps";
  inst.segment_backing = "unknown";
  auto text = fs.read_text(core::Tree::proc, smaps_rel, kMaxSmaps);
  if (!text) {
    note_unavailable(sample, kSource, text.error());
    return;
  }
  std::vector<core::Error> bad;
  auto maps = parse_smaps(*text, fs.logical(core::Tree::proc, smaps_rel), &bad);
  note_unavailable_all(sample, kSource, bad);
  if (!maps) {
    note_unavailable(sample, kSource, maps.error());
    return;
  }
  inst.segment = main_segment(*maps, page_size);
  if (inst.segment) {
    inst.segment_size = inst.segment->size;
    inst.segment_backing = inst.segment->backing;
  } else {
    note_unavailable(sample, kSource,
                     parse_err(fs.logical(core::Tree::proc, smaps_rel),
                               "no shared mapping found (is this a PostgreSQL postmaster?)"));
  }
}

}  // namespace

std::vector<model::PgInstance> discover_instances(const core::RootFs& fs, model::Sample& sample,
                                                  bool resolve_users) {
  std::vector<model::PgInstance> out;
  const auto procs = process_table(fs, sample);
  if (!procs) return out;
  const std::uint64_t page_size = sample.host.page_size > 0 ? sample.host.page_size : 4096;
  for (const auto& [pid, st] : *procs) {
    if (!is_postmaster(st, *procs)) continue;
    model::PgInstance inst;
    inst.postmaster_pid = pid;
    for (const auto& [cpid, cst] : *procs) {
      if (cst.ppid == pid) inst.backend_pids.push_back(cpid);
    }
    locate_data_dir(fs, sample, inst);
    sum_process_memory(fs, sample, inst, resolve_users, page_size);
    read_shared_segment(fs, sample, inst, page_size);
    out.push_back(std::move(inst));
  }
  return out;
}

}  // namespace vmtune::collect::postgres
