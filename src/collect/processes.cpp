// SPDX-License-Identifier: GPL-2.0-or-later
#include "collect/processes.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>

#include "collect/cgroups.hpp"
#include "collect/source_util.hpp"
#include "core/parse.hpp"

namespace vmtune::collect {
namespace {

std::optional<int> parse_pid(std::string_view name) {
  if (name.empty() || name.front() < '0' || name.front() > '9') return std::nullopt;
  const auto v = core::parse_i64(name);
  if (!v || *v <= 0 || *v > 0x7fffffff) return std::nullopt;
  return static_cast<int>(*v);
}

core::Error stat_error(const std::string& path, std::string field, const std::string& what) {
  return core::make_error(core::ErrorKind::parse_error, path, what, 1, std::move(field));
}

/// Outcome of reading one per-process file.
enum class FileRead { ok, absent, exited, denied, failed };

struct PidReader {
  const core::RootFs& fs;
  const std::string& pid_dir;
  std::vector<core::Error>* bad;
  bool* denied_even_to_root = nullptr;  ///< set when root itself was refused (RootFs says so)

  FileRead read(const char* file, std::string& out) const {
    auto text = fs.read_text(core::Tree::proc, pid_dir + "/" + file);
    if (text) {
      out = std::move(*text);
      return FileRead::ok;
    }
    switch (text.error().kind) {
      case core::ErrorKind::missing:
        // ENOENT/ESRCH: the process exited, unless its directory is still there (a captured
        // tree that simply lacks the file).
        return fs.exists(core::Tree::proc, pid_dir) ? FileRead::absent : FileRead::exited;
      case core::ErrorKind::permission_denied:
        if (denied_even_to_root != nullptr &&
            text.error().message.find("even to root") != std::string::npos) {
          *denied_even_to_root = true;
        }
        return FileRead::denied;
      default:
        if (bad != nullptr) bad->push_back(text.error());
        return FileRead::failed;
    }
  }
};

}  // namespace

core::Result<ProcStat> parse_proc_stat(std::string_view text, const std::string& logical_path) {
  const auto open = text.find('(');
  const auto close = text.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
    return stat_error(
        logical_path, "comm",
        core::trim(text).empty() ? "file is empty" : "expected \"<pid> (<comm>) <state> ...\"");
  }
  ProcStat st;
  const auto pid = core::parse_i64(text.substr(0, open));
  if (!pid || *pid <= 0 || *pid > 0x7fffffff) {
    return stat_error(logical_path, "pid",
                      "expected a process id, got \"" +
                          std::string(core::trim(text.substr(0, std::min<std::size_t>(open, 40)))) +
                          "\"");
  }
  st.pid = static_cast<int>(*pid);
  st.comm = std::string(text.substr(open + 1, close - open - 1));
  const auto rest = core::split_ws(core::trim(text.substr(close + 1)));
  // rest[0]=state [1]=ppid [2]=pgrp [3]=session [4]=tty_nr [5]=tpgid [6]=flags [7]=minflt
  // [8]=cminflt [9]=majflt
  if (rest.size() < 10) {
    return stat_error(logical_path, rest.empty() ? "state" : "majflt",
                      "line ends after " + std::to_string(rest.size() + 2) +
                          " fields, expected at least 12 (truncated?)");
  }
  if (rest[0].size() != 1) return stat_error(logical_path, "state", "expected one letter");
  st.state = rest[0][0];
  const auto ppid = core::parse_i64(rest[1]);
  if (!ppid || *ppid < 0 || *ppid > 0x7fffffff) {
    return stat_error(logical_path, "ppid", "expected a process id");
  }
  st.ppid = static_cast<int>(*ppid);
  const auto minflt = core::parse_u64(rest[7]);
  if (!minflt) return stat_error(logical_path, "minflt", "expected an unsigned count");
  const auto majflt = core::parse_u64(rest[9]);
  if (!majflt) return stat_error(logical_path, "majflt", "expected an unsigned count");
  st.minflt = *minflt;
  st.majflt = *majflt;
  return st;
}

void parse_proc_status(std::string_view text, model::Process& p) {
  // "Mems_allowed_list:\t0-1": the one text field kept; an id list or nothing.
  constexpr std::string_view kMems = "\nMems_allowed_list:";
  if (const auto at = text.find(kMems); at != std::string_view::npos) {
    auto rest = text.substr(at + kMems.size());
    rest = core::trim(rest.substr(0, rest.find('\n')));
    if (rest.size() <= 256 && core::parse_id_list(rest, 4095)) p.mems_allowed = std::string(rest);
  }
  for (const auto& kv : core::parse_kv_kb(text, "", nullptr, /*skip_non_numeric=*/true)) {
    if (!kv.had_kb_unit) continue;
    const auto& k = kv.key;
    if (k == "VmRSS") {
      p.vm_rss = kv.value;
    } else if (k == "RssAnon") {
      p.rss_anon = kv.value;
    } else if (k == "RssFile") {
      p.rss_file = kv.value;
    } else if (k == "RssShmem") {
      p.rss_shmem = kv.value;
    } else if (k == "VmPTE") {
      p.vm_pte = kv.value;
    } else if (k == "VmSwap") {
      p.vm_swap = kv.value;
    } else if (k == "HugetlbPages") {
      p.hugetlb = kv.value;
    }
  }
}

void parse_smaps_rollup(std::string_view text, model::Process& p) {
  // The first line is the "[rollup]" pseudo-mapping header; skip_non_numeric ignores it.
  for (const auto& kv : core::parse_kv_kb(text, "", nullptr, /*skip_non_numeric=*/true)) {
    if (!kv.had_kb_unit) continue;
    if (kv.key == "AnonHugePages") {
      p.anon_huge_pages = kv.value;
    } else if (kv.key == "Pss") {
      p.pss = kv.value;
    } else if (kv.key == "SwapPss") {
      p.swap_pss = kv.value;
    }
  }
}

std::vector<std::string> parse_cmdline(std::string_view raw) {
  while (!raw.empty() && raw.back() == '\0') raw.remove_suffix(1);
  std::vector<std::string> argv;
  if (raw.empty()) return argv;
  for (;;) {
    const auto nul = raw.find('\0');
    argv.emplace_back(raw.substr(0, nul));
    if (nul == std::string_view::npos) break;
    raw.remove_prefix(nul + 1);
  }
  return argv;
}

namespace {

/// Reads stat, status, cmdline and cgroup of one /proc/PID directory. nullopt when the process
/// was gone before its stat (or its stat is unreadable or damaged; the damage lands in `bad`).
std::optional<model::Process> read_process(const core::RootFs& fs, const std::string& name, int pid,
                                           std::vector<core::Error>* bad, ProcessScanStats& st) {
  const PidReader r{fs, name, bad, &st.smaps_denied_even_to_root};
  std::string text;
  auto res = r.read("stat", text);
  if (res == FileRead::exited || res == FileRead::absent) {
    ++st.exited;  // a captured pid directory without stat is as good as gone
    return std::nullopt;
  }
  if (res != FileRead::ok) return std::nullopt;
  auto parsed = parse_proc_stat(text, fs.logical(core::Tree::proc, name + "/stat"));
  if (!parsed) {
    if (bad != nullptr) bad->push_back(parsed.error());
    return std::nullopt;
  }
  model::Process p;
  p.pid = pid;  // the directory names the process; a hand-edited stat may not agree
  p.ppid = parsed->ppid;
  p.comm = std::move(parsed->comm);
  p.state = parsed->state;
  p.minflt = parsed->minflt;
  p.majflt = parsed->majflt;
  if ((res = r.read("status", text)) == FileRead::ok) parse_proc_status(text, p);
  if (res != FileRead::exited && (res = r.read("cmdline", text)) == FileRead::ok) {
    p.cmdline = parse_cmdline(text);
  }
  if (res != FileRead::exited && (res = r.read("cgroup", text)) == FileRead::ok) {
    p.cgroup = parse_cgroup_v2_path(text);
  }
  // A process that exits after its stat was read keeps what was read, as a replay of the
  // captured tree (which lacks the files that vanished) sees it.
  return p;
}

bool is_postgres(const model::Process& p) { return p.comm == "postgres" || p.comm == "postmaster"; }

}  // namespace

std::vector<std::size_t> select_for_smaps(const std::vector<model::Process>& procs) {
  std::vector<std::size_t> chosen;
  // The largest anonymous users: where AnonHugePages and SwapPss decide THP and swap advice.
  std::vector<std::size_t> by_anon;
  for (std::size_t i = 0; i < procs.size(); ++i) {
    if (procs[i].rss_anon.value_or(0) > 0) by_anon.push_back(i);
  }
  const auto n = std::min(by_anon.size(), kSmapsLargestAnon);
  std::partial_sort(by_anon.begin(), by_anon.begin() + static_cast<std::ptrdiff_t>(n),
                    by_anon.end(), [&](std::size_t a, std::size_t b) {
                      const auto ra = *procs[a].rss_anon;
                      const auto rb = *procs[b].rss_anon;
                      return ra != rb ? ra > rb : procs[a].pid < procs[b].pid;
                    });
  chosen.assign(by_anon.begin(), by_anon.begin() + static_cast<std::ptrdiff_t>(n));
  // Each PostgreSQL postmaster (a postgres process whose parent is not one) and the first few
  // of its children by pid: their Pss shows how shared_buffers is really shared.
  std::map<int, std::size_t> index_of;
  for (std::size_t i = 0; i < procs.size(); ++i) index_of[procs[i].pid] = i;
  std::map<int, std::size_t> children_taken;
  for (std::size_t i = 0; i < procs.size(); ++i) {
    const auto& p = procs[i];
    if (!is_postgres(p)) continue;
    const auto parent = index_of.find(p.ppid);
    const bool parent_pg = parent != index_of.end() && is_postgres(procs[parent->second]);
    if (!parent_pg) {
      chosen.push_back(i);
    } else if (children_taken[p.ppid]++ < kSmapsBackendsPerPostmaster) {
      chosen.push_back(i);
    }
  }
  std::sort(chosen.begin(), chosen.end());
  chosen.erase(std::unique(chosen.begin(), chosen.end()), chosen.end());
  return chosen;
}

core::Result<std::vector<model::Process>> scan_processes_rootfs(const core::RootFs& fs,
                                                                SmapsRollup smaps,
                                                                std::vector<core::Error>* bad,
                                                                ProcessScanStats* stats) {
  auto names = fs.list_dir(core::Tree::proc, "");
  if (!names) return std::move(names).error();
  ProcessScanStats local;
  auto& st = stats != nullptr ? *stats : local;
  std::vector<model::Process> out;
  std::vector<std::string> dirs;
  for (const auto& name : *names) {
    const auto dir_pid = parse_pid(name);
    if (!dir_pid) continue;
    ++st.scanned;
    if (auto p = read_process(fs, name, *dir_pid, bad, st)) {
      out.push_back(std::move(*p));
      dirs.push_back(name);
    }
  }
  std::vector<std::size_t> which;
  if (smaps == SmapsRollup::all) {
    which.resize(out.size());
    for (std::size_t i = 0; i < out.size(); ++i) which[i] = i;
  } else if (smaps == SmapsRollup::selected) {
    which = select_for_smaps(out);
  }
  // A process that exits between its status and its smaps_rollup keeps what was read (its
  // smaps fields absent), exactly as a replay of the captured tree, which lacks the file, sees it.
  std::string text;
  for (const auto i : which) {
    const PidReader r{fs, dirs[i], bad, &st.smaps_denied_even_to_root};
    const auto res = r.read("smaps_rollup", text);
    if (res == FileRead::ok) {
      ++st.smaps_read;
      parse_smaps_rollup(text, out[i]);
    } else if (res == FileRead::denied) {
      ++st.smaps_read;
      ++st.smaps_denied;
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.pid < b.pid; });
  return out;
}

void read_processes(const core::RootFs& fs, model::Sample& sample, SmapsRollup smaps) {
  std::vector<core::Error> bad;
  ProcessScanStats stats;
  auto procs = scan_processes_rootfs(fs, smaps, &bad, &stats);
  if (!procs) return fail_source(sample, sample.processes, "processes", procs.error());
  if (stats.smaps_denied > 0) {
    bad.push_back(core::make_error(
        core::ErrorKind::permission_denied, fs.logical(core::Tree::proc, "*/smaps_rollup"),
        "smaps_rollup unreadable for " + std::to_string(stats.smaps_denied) + " of " +
            std::to_string(stats.smaps_read) +
            " processes; their Pss, SwapPss and AnonHugePages are absent" +
            // Root is refused some too (PID 1 in a container, another user namespace): no hint
            // to run as root then. Taken from the reads' own errors, so a replay says the same.
            (stats.smaps_denied_even_to_root ? ", even to root" : "")));
  }
  set_source(sample, sample.processes, "processes", std::move(*procs), bad);
}

}  // namespace vmtune::collect
