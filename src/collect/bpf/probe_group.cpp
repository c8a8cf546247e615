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
  auto programs = index_programs(*obj);
  struct Chosen {
    struct bpf_program* prog;
    std::string label;
    bool required;
  };
  std::vector<Chosen> chosen;
  bool any_btf = false, any_tp = false;
  std::string missing_required;
  for (const auto& spec : events()) {
    const std::string label = std::string(spec.sys) + ":" + spec.event;
    auto& cand = programs[spec.event];
    if (cand.btf != nullptr) bpf_program__set_autoload(cand.btf, false);
    if (cand.tp != nullptr) bpf_program__set_autoload(cand.tp, false);
    std::string why_btf, why_tp;
    struct bpf_program* pick = nullptr;
    if (prefer != AttachPreference::tp && cand.btf != nullptr) {
      const std::string tname = std::string("btf_trace_") + spec.event;
      if (ctx.vmlinux != nullptr &&
          btf__find_by_name_kind(ctx.vmlinux, tname.c_str(), BTF_KIND_TYPEDEF) >= 0) {
        pick = cand.btf;
        any_btf = true;
      } else {
        why_btf = ctx.vmlinux == nullptr ? "kernel BTF unreadable"
                                         : "not in the kernel's BTF (no " + tname + ")";
      }
    } else if (prefer == AttachPreference::tp) {
      why_btf = "tp_btf not requested";
    }
    if (pick == nullptr && prefer != AttachPreference::tp_btf && cand.tp != nullptr) {
      std::string why;
      const std::string rel = std::string("kernel/tracing/events/") + spec.sys + "/" + spec.event;
      if (!ctx.tracefs.ensure(&why)) {
        why_tp = why;
      } else if (!ctx.fs.is_dir(core::Tree::sys, rel)) {
        why_tp = "not in tracefs (" + ctx.fs.logical(core::Tree::sys, rel) + " missing)";
      } else {
        pick = cand.tp;
        any_tp = true;
      }
    } else if (pick == nullptr && prefer == AttachPreference::tp_btf) {
      why_tp = "classic tracepoints not requested";
    }
    if (pick == nullptr) {
      std::string why = "tracepoint " + label + " unavailable: ";
      if (!why_btf.empty()) why += "tp_btf: " + why_btf;
      if (!why_tp.empty()) why += (why_btf.empty() ? "" : "; ") + std::string("tp: ") + why_tp;
      if (spec.required) {
        if (missing_required.empty()) missing_required = why;
      } else {
        status_.notes.push_back(why);
      }
      continue;
    }
    bpf_program__set_autoload(pick, true);
    chosen.push_back({pick, label, spec.required});
  }
  status_.mode = any_btf && any_tp ? "tp_btf+tp" : any_btf ? "tp_btf" : any_tp ? "tp" : "";
  if (!missing_required.empty()) {
    status_.reason = missing_required;
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
  auto& kept = links();
  for (const auto& c : chosen) {
    errno = 0;
    struct bpf_link* link = bpf_program__attach(c.prog);
    const int lerr = libbpf_get_error(link);
    if (link == nullptr || lerr != 0) {
      const int e = lerr != 0 ? static_cast<int>(-lerr) : (errno != 0 ? errno : EINVAL);
      const auto why = attach_failure_reason(e, c.label, ctx.support);
      if (c.required) {
        status_.reason = why;
        close_object();
        return false;
      }
      status_.notes.push_back(why);
      continue;
    }
    kept.emplace_back(link);
    status_.events.push_back(c.label);
  }
  status_.attached = true;
  return true;
}

// ---- helpers ----

int possible_cpus() {
  static const int n = [] {
    const int c = libbpf_num_possible_cpus();
    return c > 0 ? c : 1;
  }();
  return n;
}

std::vector<std::uint8_t> read_percpu_raw(int fd, std::uint32_t key, std::size_t value_size) {
  const std::size_t stride = (value_size + 7) / 8 * 8;
  std::vector<std::uint8_t> buf(stride * static_cast<std::size_t>(possible_cpus()));
  if (bpf_map_lookup_elem(fd, &key, buf.data()) != 0) return {};
  return buf;
}

std::vector<std::uint64_t> read_percpu_counters(int fd, std::uint32_t n) {
  std::vector<std::uint64_t> out(n, 0);
  for (std::uint32_t k = 0; k < n; ++k) {
    const auto raw = read_percpu_raw(fd, k, sizeof(std::uint64_t));
    for (std::size_t off = 0; off + 8 <= raw.size(); off += 8) {
      std::uint64_t v = 0;
      std::memcpy(&v, raw.data() + off, 8);
      out[k] += v;
    }
  }
  return out;
}

std::vector<std::pair<std::vector<std::uint8_t>, std::vector<std::uint8_t>>> dump_hash(
    int fd, std::size_t key_size, std::size_t value_size) {
  std::vector<std::pair<std::vector<std::uint8_t>, std::vector<std::uint8_t>>> out;
  std::vector<std::uint8_t> key(key_size), next(key_size), value(value_size);
  void* prev = nullptr;
  for (std::size_t guard = 0; guard < (1u << 22); ++guard) {
    if (bpf_map_get_next_key(fd, prev, next.data()) != 0) break;
    if (bpf_map_lookup_elem(fd, next.data(), value.data()) == 0) out.emplace_back(next, value);
    key = next;
    prev = key.data();
  }
  return out;
}

std::string fixed_string(const char* data, std::size_t size) {
  std::size_t n = 0;
  while (n < size && data[n] != '\0') ++n;
  return std::string(data, n);
}

std::string btf_enum_name(const struct btf* vmlinux, const char* enum_type, std::int64_t value,
                          const char* prefix) {
  const std::string fallback = std::string(enum_type) + "_" + std::to_string(value);
  if (vmlinux == nullptr) return fallback;
  const int id = btf__find_by_name_kind(vmlinux, enum_type, BTF_KIND_ENUM);
  if (id < 0) return fallback;
  const struct btf_type* t = btf__type_by_id(vmlinux, static_cast<__u32>(id));
  if (t == nullptr) return fallback;
  const struct btf_enum* e = btf_enum(t);
  for (unsigned i = 0; i < btf_vlen(t); ++i) {
    if (e[i].val != value) continue;
    std::string name = btf__name_by_offset(vmlinux, e[i].name_off);
    const std::string p = prefix;
    if (name.rfind(p, 0) == 0) name = name.substr(p.size());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return name;
  }
  return fallback;
}

void keep_top(std::vector<model::ProcessStall>& v, std::size_t n) {
  std::sort(v.begin(), v.end(), [](const model::ProcessStall& a, const model::ProcessStall& b) {
    if (a.total_us != b.total_us) return a.total_us > b.total_us;
    if (a.count != b.count) return a.count > b.count;
    return a.pid < b.pid;
  });
  if (v.size() > n) v.resize(n);
}

std::int64_t now_unix_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace vmtune::collect::bpf
