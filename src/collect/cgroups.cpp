// SPDX-License-Identifier: GPL-2.0-or-later
#include "collect/cgroups.hpp"

#include <deque>
#include <limits>
#include <optional>

#include "collect/counters.hpp"
#include "collect/psi.hpp"
#include "collect/source_util.hpp"
#include "core/parse.hpp"

namespace vmtune::collect {
namespace {

constexpr const char* kCgroupRoot = "fs/cgroup";

// Controller directories a v1 (or hybrid) host mounts under /sys/fs/cgroup.
constexpr const char* kV1Dirs[] = {"memory",  "cpu",     "cpuacct", "cpuset",  "blkio",  "pids",
                                   "devices", "freezer", "systemd", "net_cls", "hugetlb"};

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape_mount_path(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '3' && s[i + 2] >= '0' &&
        s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
      out.push_back(
          static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0')));
      i += 3;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

struct Limit {
  const char* file;
  std::optional<std::uint64_t> model::Cgroup::*member;
};

}  // namespace

CgroupLayout parse_cgroup_mountinfo(std::string_view text, std::string_view sys_prefix) {
  bool v1 = false;
  std::string v2;
  const std::string prefix = std::string(sys_prefix) + "/";
  for (const auto& line : core::split_lines(text)) {
    const auto words = core::split_ws(line.text);
    // id parent maj:min root mountpoint options [optional...] - fstype source superoptions
    std::size_t sep = 0;
    for (std::size_t i = 6; i < words.size(); ++i) {
      if (words[i] == "-") {
        sep = i;
        break;
      }
    }
    if (sep == 0 || sep + 1 >= words.size()) continue;
    const auto fstype = words[sep + 1];
    if (fstype != "cgroup" && fstype != "cgroup2") continue;
    const std::string mount = unescape_mount_path(words[4]);
    if (mount.compare(0, prefix.size(), prefix) != 0) continue;  // not under the sys tree
    if (fstype == "cgroup") {
      v1 = true;
    } else if (v2.empty()) {
      v2 = mount.substr(prefix.size());
    }
  }
  if (v1 && !v2.empty()) return {"hybrid", v2};
  if (!v2.empty()) return {"v2", v2};
  if (v1) return {"v1", ""};
  return {"none", ""};
}

CgroupLayout detect_cgroup_layout_from_tree(const core::RootFs& fs) {
  const std::string root = kCgroupRoot;
  if (fs.exists(core::Tree::sys, root + "/cgroup.controllers")) return {"v2", root};
  bool v1 = false;
  for (const char* d : kV1Dirs) {
    if (fs.is_dir(core::Tree::sys, root + "/" + d)) {
      v1 = true;
      break;
    }
  }
  if (fs.exists(core::Tree::sys, root + "/unified/cgroup.controllers")) {
    return {v1 ? "hybrid" : "v2", root + "/unified"};
  }
  return {v1 ? "v1" : "none", ""};
}

core::Result<std::uint64_t> parse_cgroup_limit(std::string_view text,
                                               const std::string& logical_path,
                                               const std::string& field) {
  const auto t = core::trim(text);
  if (t == "max") return std::numeric_limits<std::uint64_t>::max();
  if (t.empty()) {
    return core::make_error(core::ErrorKind::parse_error, logical_path, "file is empty", 0, field);
  }
  core::NumberProblem why{};
  if (auto v = core::parse_u64(t, &why)) return *v;
  return core::field_error(logical_path, 1, field, "\"max\" or an unsigned byte count",
                           core::to_string(why));
}

std::string parse_cgroup_v2_path(std::string_view text) {
  for (const auto& line : core::split_lines(text)) {
    if (line.text.substr(0, 3) == "0::") return std::string(line.text.substr(3));
  }
  return {};
}

model::Cgroup read_cgroup_memory(const core::RootFs& fs, const std::string& rel_dir,
                                 const std::string& path, std::vector<core::Error>* bad,
                                 bool* any) {
  model::Cgroup g;
  g.path = path;
  bool read_any = false;
  const auto read = [&](const char* file) {
    // Absent files are normal: the root has no memory.current, older kernels no peak.
    auto text = read_optional(fs, core::Tree::sys, rel_dir + "/" + file, bad, file);
    read_any = read_any || text.has_value();
    return text;
  };
  const auto logical = [&](const char* file) {
    return fs.logical(core::Tree::sys, rel_dir + "/" + file);
  };
  static const Limit kLimits[] = {
      {"memory.current", &model::Cgroup::current},
      {"memory.peak", &model::Cgroup::peak},
      {"memory.max", &model::Cgroup::max},
      {"memory.high", &model::Cgroup::high},
      {"memory.low", &model::Cgroup::low},
      {"memory.min", &model::Cgroup::min},
      {"memory.swap.current", &model::Cgroup::swap_current},
      {"memory.swap.max", &model::Cgroup::swap_max},
  };
  for (const auto& lim : kLimits) {
    // memory.current/peak never print "max", but accepting it there costs nothing.
    if (auto text = read(lim.file)) {
      store_parsed(parse_cgroup_limit(*text, logical(lim.file), lim.file), g.*lim.member, bad);
    }
  }
  for (const auto& [file, out] :
       {std::pair{"memory.stat", &g.stat}, std::pair{"memory.events", &g.events}}) {
    if (auto text = read(file)) store_parsed(parse_counters(*text, logical(file), bad), *out, bad);
  }
  if (auto text = read("memory.pressure")) {
    store_parsed(parse_psi(*text, logical("memory.pressure"), bad), g.pressure, bad);
  }
  if (any != nullptr) *any = read_any;
  return g;
}

namespace {

// The layout the mount table shows; when it shows no cgroup mount under the sys tree, the one
// the directories present show.
CgroupLayout find_cgroup_layout(const core::RootFs& fs) {
  if (auto mi = fs.read_text(core::Tree::proc, "self/mountinfo")) {
    auto layout = parse_cgroup_mountinfo(*mi, fs.logical(core::Tree::sys, ""));
    if (layout.layout != "none") return layout;
  }
  return detect_cgroup_layout_from_tree(fs);
}

// Records why a layout yields less than the memory files of every cgroup.
void note_layout_limits(const core::RootFs& fs, const CgroupLayout& layout,
                        std::vector<core::Error>& bad) {
  if (layout.layout == "v1") {
    bad.push_back(core::make_error(
        core::ErrorKind::unsupported, fs.logical(core::Tree::sys, kCgroupRoot),
        "cgroup v1 only: vmtune reads per-cgroup memory from the v2 hierarchy, none is mounted"));
  }
  if (layout.layout != "hybrid" || layout.v2_mount.empty()) return;
  const std::string rel = layout.v2_mount + "/cgroup.controllers";
  auto ctl = fs.read_text(core::Tree::sys, rel);
  if (!ctl) return;
  bool memory = false;
  for (const auto w : core::split_ws(*ctl)) memory = memory || w == "memory";
  if (!memory) {
    bad.push_back(core::make_error(
        core::ErrorKind::unsupported, fs.logical(core::Tree::sys, rel),
        "hybrid layout with the memory controller on cgroup v1: the v2 tree has no "
        "memory.current/max/stat (only memory.pressure); v1 memory files are not read"));
  }
}

struct Pending {
  std::string rel;
  std::string path;
  int depth;
};

// Queues the subdirectories among `names`; false when there are some but `cur` is already
// kMaxCgroupDepth levels down.
bool queue_children(const core::RootFs& fs, const Pending& cur,
                    const std::vector<std::string>& names, std::deque<Pending>& queue) {
  for (const auto& name : names) {
    const std::string rel = cur.rel + "/" + name;
    if (!fs.is_dir(core::Tree::sys, rel)) continue;
    if (cur.depth >= kMaxCgroupDepth) return false;
    queue.push_back({rel, cur.path == "/" ? "/" + name : cur.path + "/" + name, cur.depth + 1});
  }
  return true;
}

core::Error truncated_walk(const core::RootFs& fs, const std::string& root, bool truncated_count,
                           bool truncated_depth) {
  std::string why;
  if (truncated_count) why = "stopped after " + std::to_string(kMaxCgroups) + " cgroups";
  if (truncated_depth) {
    if (!why.empty()) why += "; ";
    why += "cgroups deeper than " + std::to_string(kMaxCgroupDepth) + " levels not read";
  }
  return core::make_error(core::ErrorKind::unsupported, fs.logical(core::Tree::sys, root),
                          "cgroup walk truncated: " + why);
}

// Reads the memory files of the v2 tree at `root`, breadth first, within kMaxCgroups groups and
// kMaxCgroupDepth levels.
void walk_cgroups(const core::RootFs& fs, const std::string& root,
                  std::vector<model::Cgroup>& groups, std::vector<core::Error>& bad) {
  std::deque<Pending> queue;
  queue.push_back({root, "/", 0});
  bool truncated_depth = false;
  bool truncated_count = false;
  std::size_t visited = 0;
  while (!queue.empty()) {
    if (visited >= kMaxCgroups) {
      truncated_count = true;
      break;
    }
    Pending cur = std::move(queue.front());
    queue.pop_front();
    ++visited;
    bool any = false;
    auto g = read_cgroup_memory(fs, cur.rel, cur.path, &bad, &any);
    if (any) groups.push_back(std::move(g));
    auto names = fs.list_dir(core::Tree::sys, cur.rel);
    if (!names) {
      // A cgroup removed during the walk is not an error; anything else is recorded.
      if (names.error().kind != core::ErrorKind::missing || cur.depth == 0) {
        bad.push_back(names.error());
      }
      continue;
    }
    if (!queue_children(fs, cur, *names, queue)) truncated_depth = true;
  }
  if (truncated_depth || truncated_count) {
    bad.push_back(truncated_walk(fs, root, truncated_count, truncated_depth));
  }
}

}  // namespace

void read_cgroups(const core::RootFs& fs, model::Sample& sample) {
  std::vector<core::Error> bad;
  model::Cgroups out;
  const CgroupLayout layout = find_cgroup_layout(fs);
  out.layout = layout.layout;
  out.v2_mount = layout.v2_mount;
  if (auto self = read_optional(fs, core::Tree::proc, "self/cgroup", &bad)) {
    out.self_path = parse_cgroup_v2_path(*self);
  }
  note_layout_limits(fs, layout, bad);
  if (!layout.v2_mount.empty()) walk_cgroups(fs, layout.v2_mount, out.groups, bad);
  set_source(sample, sample.cgroups, "cgroups", std::move(out), bad);
}

}  // namespace vmtune::collect
