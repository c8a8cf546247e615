// SPDX-License-Identifier: GPL-2.0-or-later
#include "collect/bpf/probe_group.hpp"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>

namespace vmtune::collect::bpf {
namespace {

std::mutex g_log_mutex;
std::string g_last_log;

int libbpf_log(enum libbpf_print_level level, const char* fmt, va_list args) {
  // libbpf hands a va_list: size the message first (a copy of the list for each pass).
  va_list copy;
  va_copy(copy, args);
  const int n = std::vsnprintf(nullptr, 0, fmt, copy);
  va_end(copy);
  std::string buf(n > 0 ? static_cast<std::size_t>(n) : 0, '\0');
  if (n > 0) std::vsnprintf(buf.data(), buf.size() + 1, fmt, args);
  const char* debug = std::getenv("VMTUNE_BPF_DEBUG");
  if (debug != nullptr && *debug != '\0' && *debug != '0') std::fputs(buf.c_str(), stderr);
  if (level != LIBBPF_DEBUG) {
    std::lock_guard<std::mutex> lock(g_log_mutex);
    g_last_log = buf;
    while (!g_last_log.empty() && (g_last_log.back() == '\n' || g_last_log.back() == ' ')) {
      g_last_log.pop_back();
    }
  }
  return 0;
}

/// "tp_btf/<event>" or "tp/<sys>/<event>" programs of an object, by event name.
struct Candidates {
  struct bpf_program* btf = nullptr;
  struct bpf_program* tp = nullptr;
};

std::map<std::string, Candidates> index_programs(struct bpf_object* obj) {
  std::map<std::string, Candidates> out;
  struct bpf_program* prog = nullptr;
  bpf_object__for_each_program(prog, obj) {
    const std::string sec = bpf_program__section_name(prog);
    if (sec.rfind("tp_btf/", 0) == 0) {
      out[sec.substr(7)].btf = prog;
    } else if (sec.rfind("tp/", 0) == 0) {
      const auto slash = sec.find('/', 3);
      if (slash != std::string::npos) out[sec.substr(slash + 1)].tp = prog;
    }
  }
  return out;
}

std::string load_failure_reason(int err, const BpfSupport& support, const std::string& group) {
  if (err == EPERM || err == EACCES) {
    if (!support.privileged) return support.privilege_reason();
    if (!support.lockdown.empty() && support.lockdown != "none") {
      return "the kernel refused to load the " + group +
             " programs (EPERM) although vmtune is "
             "privileged: kernel lockdown is \"" +
             support.lockdown + "\"";
    }
    return "the kernel refused to load the " + group +
           " programs (EPERM) although vmtune is "
           "privileged: a security module (LSM) policy may forbid BPF";
  }
  std::string r = "loading the " + group + " programs failed: " + std::strerror(err);
  const auto last = last_libbpf_message();
  if (!last.empty()) r += " (libbpf: " + last + ")";
  r += "; run with VMTUNE_BPF_DEBUG=1 for the full libbpf log";
  return r;
}

std::string attach_failure_reason(int err, const std::string& label, const BpfSupport& support) {
  if ((err == EPERM || err == EACCES) && !support.privileged) return support.privilege_reason();
  return "attaching " + label + " failed: " + std::strerror(err);
}

/// A program chosen for one event, switched on for load.
struct Planned {
  struct bpf_program* prog;
  std::string label;  ///< "vmscan:mm_vmscan_kswapd_wake"
  bool required;
};

/// The program to use for one event (tp_btf when the kernel's BTF has btf_trace_<event>,
/// classic tp when tracefs has events/<sys>/<event>), or null with `why` set.
struct bpf_program* pick_program(const GroupContext& ctx, const EventSpec& spec,
                                 const Candidates& cand, AttachPreference prefer,
                                 std::string* why) {
  std::string why_btf, why_tp;
  if (prefer != AttachPreference::tp && cand.btf != nullptr) {
    const std::string tname = std::string("btf_trace_") + spec.event;
    if (ctx.vmlinux != nullptr &&
        btf__find_by_name_kind(ctx.vmlinux, tname.c_str(), BTF_KIND_TYPEDEF) >= 0) {
      return cand.btf;
    }
    why_btf = ctx.vmlinux == nullptr ? "kernel BTF unreadable"
                                     : "not in the kernel's BTF (no " + tname + ")";
  } else if (prefer == AttachPreference::tp) {
    why_btf = "tp_btf not requested";
  }
  if (prefer != AttachPreference::tp_btf && cand.tp != nullptr) {
    const std::string rel = std::string("kernel/tracing/events/") + spec.sys + "/" + spec.event;
    if (ctx.tracefs.ensure(&why_tp)) {  // otherwise why_tp says what the user can do
      if (ctx.fs.is_dir(core::Tree::sys, rel)) return cand.tp;
      why_tp = "not in tracefs (" + ctx.fs.logical(core::Tree::sys, rel) + " missing)";
    }
  } else if (prefer == AttachPreference::tp_btf) {
    why_tp = "classic tracepoints not requested";
  }
  *why = "tracepoint " + std::string(spec.sys) + ":" + spec.event + " unavailable: ";
  if (!why_btf.empty()) *why += "tp_btf: " + why_btf;
  if (!why_tp.empty()) *why += (why_btf.empty() ? "" : "; ") + std::string("tp: ") + why_tp;
  return nullptr;
}

/// Picks one program per event and switches every other program's autoload off, so a missing
/// optional tracepoint disables only its program. Sets status.mode, and status.reason when a
/// required event has no usable program (then returns false).
bool plan_programs(const GroupContext& ctx, AttachPreference prefer, struct bpf_object* obj,
                   std::span<const EventSpec> events, model::ProbeStatus& status,
                   std::vector<Planned>& planned) {
  auto programs = index_programs(obj);
  bool any_btf = false, any_tp = false;
  std::string missing_required;
  for (const auto& spec : events) {
    auto& cand = programs[spec.event];
    if (cand.btf != nullptr) bpf_program__set_autoload(cand.btf, false);
    if (cand.tp != nullptr) bpf_program__set_autoload(cand.tp, false);
    std::string why;
    struct bpf_program* pick = pick_program(ctx, spec, cand, prefer, &why);
    if (pick == nullptr) {
      if (!spec.required) {
        status.notes.push_back(why);
      } else if (missing_required.empty()) {
        missing_required = why;
      }
      continue;
    }
    if (pick == cand.btf) {
      any_btf = true;
    } else {
      any_tp = true;
    }
    bpf_program__set_autoload(pick, true);
    planned.push_back({pick, std::string(spec.sys) + ":" + spec.event, spec.required});
  }
  status.mode = any_btf && any_tp ? "tp_btf+tp" : any_btf ? "tp_btf" : any_tp ? "tp" : "";
  status.reason = missing_required;
  return missing_required.empty();
}

/// Attaches the loaded programs; a failing optional one becomes a note. False (status.reason
/// set) when a required one fails.
bool attach_programs(const std::vector<Planned>& planned, const BpfSupport& support,
                     model::ProbeStatus& status, std::vector<Link>& links) {
  for (const auto& c : planned) {
    errno = 0;
    struct bpf_link* link = bpf_program__attach(c.prog);
    const int lerr = libbpf_get_error(link);
    if (link == nullptr || lerr != 0) {
      const int e = lerr != 0 ? static_cast<int>(-lerr) : (errno != 0 ? errno : EINVAL);
      const auto why = attach_failure_reason(e, c.label, support);
      if (c.required) {
        status.reason = why;
        return false;
      }
      status.notes.push_back(why);
      continue;
    }
    links.emplace_back(link);
    status.events.push_back(c.label);
  }
  return true;
}

}  // namespace

void install_libbpf_logger() {
  static std::once_flag once;
  std::call_once(once, [] { libbpf_set_print(libbpf_log); });
}

std::string last_libbpf_message() {
  std::lock_guard<std::mutex> lock(g_log_mutex);
  return g_last_log;
}

// ---- TracefsAccess ----

TracefsAccess::~TracefsAccess() {
  if (mounted_) ::umount2(fs_.real(core::Tree::sys, "kernel/tracing").c_str(), MNT_DETACH);
}

bool TracefsAccess::ensure(std::string* why) {
  if (!tried_) {
    tried_ = true;
    const auto mount_hint =
        "mount it with: mount -t tracefs nodev " + fs_.logical(core::Tree::sys, "kernel/tracing");
    if (fs_.is_dir(core::Tree::sys, "kernel/tracing/events")) {
      ok_ = true;
    } else if (!support_.root) {
      why_ = "classic tracepoints need root (tracefs " +
             fs_.logical(core::Tree::sys, "kernel/tracing") +
             " is root-only); with only CAP_BPF+CAP_PERFMON vmtune uses tp_btf";
    } else if (!support_.live) {
      why_ = "tracefs is not available in a captured tree";
    } else {
      const auto target = fs_.real(core::Tree::sys, "kernel/tracing");
      if (::mount("nodev", target.c_str(), "tracefs", 0, nullptr) == 0) {
        mounted_ = true;
        ok_ = fs_.is_dir(core::Tree::sys, "kernel/tracing/events");
        if (!ok_) why_ = "tracefs mounted but has no events directory";
      } else {
        why_ = std::string("tracefs is not mounted and mounting it failed (") +
               std::strerror(errno) + "): " + mount_hint;
      }
    }
  }
  if (!ok_ && why != nullptr) *why = why_;
  return ok_;
}

// ---- CgroupNames ----

void CgroupNames::scan() const {
  if (scanned_) return;
  scanned_ = true;
  auto walk = [this](const char* rel, std::map<std::uint64_t, std::string>& out) {
    const auto base = fs_.real(core::Tree::sys, rel);
    std::error_code ec;
    struct stat st {};
    if (::stat(base.c_str(), &st) != 0) return;
    out[st.st_ino] = "/";
    std::filesystem::recursive_directory_iterator it(
        base, std::filesystem::directory_options::skip_permission_denied, ec);
    std::size_t seen = 0;
    for (; !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      if (++seen > 200000) break;  // a pathological tree: stop, names are best effort
      if (!it->is_directory(ec) || it->is_symlink(ec)) continue;
      if (::stat(it->path().c_str(), &st) != 0) continue;
      out[st.st_ino] = "/" + std::filesystem::relative(it->path(), base, ec).string();
    }
  };
  if (fs_.exists(core::Tree::sys, "fs/cgroup/cgroup.controllers")) {
    walk("fs/cgroup", v2_);
  } else if (fs_.exists(core::Tree::sys, "fs/cgroup/unified/cgroup.controllers")) {
    walk("fs/cgroup/unified", v2_);
  }
  if (fs_.exists(core::Tree::sys, "fs/cgroup/memory/memory.limit_in_bytes")) {
    memcg_is_v1_ = true;
    walk("fs/cgroup/memory", v1_memory_);
  }
}

std::string CgroupNames::v2(std::uint64_t id) const {
  if (id == 0) return {};
  scan();
  const auto it = v2_.find(id);
  return it == v2_.end() ? std::string() : it->second;
}

std::string CgroupNames::memcg(std::uint64_t id) const {
  if (id == 0) return {};
  scan();
  if (memcg_is_v1_) {
    const auto it = v1_memory_.find(id);
    return it == v1_memory_.end() ? std::string() : "memory:" + it->second;
  }
  return v2(id);
}

// ---- ProbeGroup ----

bool ProbeGroup::start(const GroupContext& ctx) {
  status_.attached = false;
  if (const auto block = ctx.support.blocking_reason(); !block.empty()) {
    status_.reason = block;
    return false;
  }
  bool load_failed = false;
  if (try_start(ctx, ctx.options.prefer, &load_failed)) return true;
  // A kernel that refuses a program type fails the whole load: retry with classic tracepoints
  // when the first attempt used tp_btf and nothing forced the mode.
  if (load_failed && ctx.options.prefer == AttachPreference::automatic &&
      status_.mode.find("tp_btf") != std::string::npos && ctx.support.privileged) {
    const auto first = status_.reason;
    if (try_start(ctx, AttachPreference::tp, &load_failed)) {
      status_.notes.push_back("tp_btf load failed (" + first + "); using classic tracepoints");
      return true;
    }
    status_.reason = first + "; classic tracepoints: " + status_.reason;
  }
  return false;
}

bool ProbeGroup::try_start(const GroupContext& ctx, AttachPreference prefer, bool* load_failed) {
  close_object();
  status_.events.clear();
  status_.notes.clear();
  status_.mode.clear();
  status_.reason.clear();
  *load_failed = false;

  auto obj = open_object();
  if (!obj) {
    status_.reason = obj.error().to_string();
    return false;
  }
  std::vector<Planned> planned;
  if (!plan_programs(ctx, prefer, *obj, events_, status_, planned)) {
    close_object();
    return false;
  }
  configure(ctx);
  const int err = load_object();
  if (err != 0) {
    *load_failed = true;
    status_.reason = load_failure_reason(-err, ctx.support, name());
    close_object();
    return false;
  }
  if (!attach_programs(planned, ctx.support, status_, links())) {
    close_object();
    return false;
  }
  status_.attached = true;
  return true;
}

}  // namespace vmtune::collect::bpf
