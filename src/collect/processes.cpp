// SPDX-License-Identifier: GPL-2.0-or-later
#include "collect/processes.hpp"

#include <libproc2/pids.h>

#include <algorithm>
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

core::Result<std::vector<model::Process>> scan_processes_rootfs(const core::RootFs& fs,
                                                                bool smaps_rollup,
                                                                std::vector<core::Error>* bad,
                                                                ProcessScanStats* stats) {
  auto names = fs.list_dir(core::Tree::proc, "");
  if (!names) return std::move(names).error();
  ProcessScanStats local;
  auto& st = stats != nullptr ? *stats : local;
  std::vector<model::Process> out;
  std::string text;
  for (const auto& name : *names) {
    const auto dir_pid = parse_pid(name);
    if (!dir_pid) continue;
    ++st.scanned;
    const PidReader r{fs, name, bad, &st.smaps_denied_even_to_root};
    auto res = r.read("stat", text);
    if (res == FileRead::exited || res == FileRead::absent) {
      ++st.exited;  // a captured pid directory without stat is as good as gone
      continue;
    }
    if (res != FileRead::ok) continue;
    auto parsed = parse_proc_stat(text, fs.logical(core::Tree::proc, name + "/stat"));
    if (!parsed) {
      if (bad != nullptr) bad->push_back(parsed.error());
      continue;
    }
    model::Process p;
    p.pid = *dir_pid;  // the directory names the process; a hand-edited stat may not agree
    p.ppid = parsed->ppid;
    p.comm = std::move(parsed->comm);
    p.state = parsed->state;
    p.minflt = parsed->minflt;
    p.majflt = parsed->majflt;

    bool gone = false;
    if ((res = r.read("status", text)) == FileRead::ok) {
      parse_proc_status(text, p);
    }
    gone = gone || res == FileRead::exited;
    if (!gone && (res = r.read("cmdline", text)) == FileRead::ok) p.cmdline = parse_cmdline(text);
    gone = gone || res == FileRead::exited;
    if (!gone && (res = r.read("cgroup", text)) == FileRead::ok) {
      p.cgroup = parse_cgroup_v2_path(text);
    }
    gone = gone || res == FileRead::exited;
    if (!gone && smaps_rollup) {
      res = r.read("smaps_rollup", text);
      if (res == FileRead::ok) {
        parse_smaps_rollup(text, p);
      } else if (res == FileRead::denied) {
        ++st.smaps_denied;
      }
      gone = res == FileRead::exited;
    }
    if (gone) {
      ++st.exited;
      continue;
    }
    out.push_back(std::move(p));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.pid < b.pid; });
  return out;
}

namespace {

struct PidsInfoDeleter {
  void operator()(pids_info* info) const noexcept { procps_pids_unref(&info); }
};

// The items asked from libproc2, in the order of the enum below.
enum pids_item kItems[] = {
    PIDS_ID_PID,      PIDS_ID_PPID,        PIDS_CMD,           PIDS_STATE,
    PIDS_FLT_MIN,     PIDS_FLT_MAJ,        PIDS_CMDLINE_V,     PIDS_VM_RSS,
    PIDS_VM_RSS_ANON, PIDS_VM_RSS_FILE,    PIDS_VM_RSS_SHARED, PIDS_VM_SWAP,
    PIDS_CGROUP_V,    PIDS_SMAP_HUGE_ANON, PIDS_SMAP_PSS,      PIDS_SMAP_SWAP_PSS};
enum Rel {
  rel_pid,
  rel_ppid,
  rel_cmd,
  rel_state,
  rel_minflt,
  rel_majflt,
  rel_cmdline,
  rel_rss,
  rel_rss_anon,
  rel_rss_file,
  rel_rss_shmem,
  rel_swap,
  rel_cgroup,
  rel_anon_huge,
  rel_pss,
  rel_swap_pss,
  rel_count
};
static_assert(sizeof(kItems) / sizeof(kItems[0]) == rel_count);

}  // namespace

core::Result<std::vector<model::Process>> scan_processes_libproc2(bool smaps_rollup,
                                                                  std::vector<core::Error>* bad,
                                                                  ProcessScanStats* stats) {
  const int n = smaps_rollup ? rel_count : rel_anon_huge;
  pids_info* raw = nullptr;
  if (const int rc = procps_pids_new(&raw, kItems, n); rc < 0 || raw == nullptr) {
    return core::make_error(core::ErrorKind::io_error, "libproc2",
                            "procps_pids_new failed: error " + std::to_string(-rc));
  }
  std::unique_ptr<pids_info, PidsInfoDeleter> info(raw);
  pids_fetch* fetch = procps_pids_reap(info.get(), PIDS_FETCH_TASKS_ONLY);
  if (fetch == nullptr) {
    return core::make_error(core::ErrorKind::io_error, "libproc2", "procps_pids_reap failed");
  }
  const core::RootFs live;
  ProcessScanStats local;
  auto& st = stats != nullptr ? *stats : local;
  std::vector<model::Process> out;
  out.reserve(static_cast<std::size_t>(fetch->counts->total));
  std::string text;
  for (int i = 0; i < fetch->counts->total; ++i) {
    pids_stack* s = fetch->stacks[i];
    ++st.scanned;
    model::Process p;
    p.pid = PIDS_VAL(rel_pid, s_int, s, info.get());
    p.ppid = PIDS_VAL(rel_ppid, s_int, s, info.get());
    if (const char* c = PIDS_VAL(rel_cmd, str, s, info.get())) p.comm = c;
    p.state = static_cast<char>(PIDS_VAL(rel_state, s_ch, s, info.get()));
    p.minflt = PIDS_VAL(rel_minflt, ul_int, s, info.get());
    p.majflt = PIDS_VAL(rel_majflt, ul_int, s, info.get());
    if (char** argv = PIDS_VAL(rel_cmdline, strv, s, info.get())) {
      for (char** a = argv; *a != nullptr; ++a) p.cmdline.emplace_back(*a);
    }
    // libproc2 reports 0 for a field the status file lacks; kernel threads have none.
    const auto kb = [&](Rel rel) -> std::optional<std::uint64_t> {
      return static_cast<std::uint64_t>(PIDS_VAL(rel, ul_int, s, info.get())) * 1024;
    };
    p.vm_rss = kb(rel_rss);
    p.rss_anon = kb(rel_rss_anon);
    p.rss_file = kb(rel_rss_file);
    p.rss_shmem = kb(rel_rss_shmem);
    p.vm_swap = kb(rel_swap);
    if (char** lines = PIDS_VAL(rel_cgroup, strv, s, info.get())) {
      for (char** l = lines; *l != nullptr; ++l) {
        if (std::string_view(*l).substr(0, 3) == "0::") p.cgroup = std::string(*l + 3);
      }
    }
    if (smaps_rollup) {
      p.anon_huge_pages = kb(rel_anon_huge);
      p.pss = kb(rel_pss);
      p.swap_pss = kb(rel_swap_pss);
    }
    // VmPTE and HugetlbPages are not libproc2 items (4.0): read status for them.
    const std::string dir = std::to_string(p.pid);
    const PidReader r{live, dir, bad};
    const auto res = r.read("status", text);
    if (res == FileRead::exited) {
      ++st.exited;
      continue;
    }
    if (res == FileRead::ok) {
      model::Process extra;
      parse_proc_status(text, extra);
      p.vm_pte = extra.vm_pte;
      p.hugetlb = extra.hugetlb;
      if (!extra.vm_rss) {  // kernel thread: keep RSS absent as the RootFs scanner does
        p.vm_rss.reset();
        p.rss_anon.reset();
        p.rss_file.reset();
        p.rss_shmem.reset();
        p.vm_swap.reset();
      }
    }
    out.push_back(std::move(p));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.pid < b.pid; });
  return out;
}

void read_processes(const core::RootFs& fs, model::Sample& sample, bool smaps_rollup) {
  std::vector<core::Error> bad;
  ProcessScanStats stats;
  auto procs = (kLiveScanUsesLibproc2 && fs.is_live())
                   ? scan_processes_libproc2(smaps_rollup, &bad, &stats)
                   : scan_processes_rootfs(fs, smaps_rollup, &bad, &stats);
  if (!procs) return fail_source(sample, sample.processes, "processes", procs.error());
  if (stats.smaps_denied > 0) {
    bad.push_back(core::make_error(
        core::ErrorKind::permission_denied, fs.logical(core::Tree::proc, "*/smaps_rollup"),
        "smaps_rollup unreadable for " + std::to_string(stats.smaps_denied) + " of " +
            std::to_string(procs->size()) +
            " processes; their Pss, SwapPss and AnonHugePages are absent" +
            // Root is refused some too (PID 1 in a container, another user namespace): no hint
            // to run as root then. Taken from the reads' own errors, so a replay says the same.
            (stats.smaps_denied_even_to_root ? ", even to root" : "")));
  }
  set_source(sample, sample.processes, "processes", std::move(*procs), bad);
}

}  // namespace vmtune::collect
