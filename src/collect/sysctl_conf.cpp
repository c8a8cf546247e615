// SPDX-License-Identifier: GPL-2.0-or-later
#include "collect/sysctl_conf.hpp"

#include <algorithm>
#include <map>

#include "collect/source_util.hpp"
#include "collect/sysctl.hpp"
#include "core/parse.hpp"

namespace vmtune::collect {
namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// systemd-sysctl's search path (CONF_PATHS("sysctl.d")), highest priority first. /etc goes
// through the etc tree so --etc works; the others live under the file-system root.
struct DirSpec {
  core::Tree tree;
  const char* rel;
};
constexpr DirSpec kDirs[] = {
    {core::Tree::etc, "sysctl.d"},
    {core::Tree::root, "run/sysctl.d"},
    {core::Tree::root, "usr/local/lib/sysctl.d"},
    {core::Tree::root, "usr/lib/sysctl.d"},
    {core::Tree::root, "lib/sysctl.d"},
};

std::string base_name(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

std::string normalize_sysctl_key(std::string_view key) {
  std::string s(core::trim(key));
  const auto first = s.find_first_of("./");
  if (first != std::string::npos && s[first] == '/') {
    for (char& c : s) {
      if (c == '/') {
        c = '.';
      } else if (c == '.') {
        c = '/';
      }
    }
  }
  // path_simplify() on the slash form: drop leading and repeated separators.
  std::string out;
  for (char c : s) {
    if (c == '.' && (out.empty() || out.back() == '.')) continue;
    out += c;
  }
  while (!out.empty() && out.back() == '.') out.pop_back();
  return out;
}

std::vector<model::SysctlAssignment> parse_sysctl_conf(std::string_view text,
                                                       const std::string& logical_path,
                                                       std::vector<core::Error>* bad) {
  std::vector<model::SysctlAssignment> out;
  for (const auto& line : core::split_lines(text)) {
    std::string_view p = core::trim(line.text);
    if (p.empty() || p.front() == '#' || p.front() == ';') continue;
    const auto eq = p.find('=');
    if (eq == std::string_view::npos) {
      if (p.front() == '!') continue;  // glob exclusion: nothing is assigned
      if (bad != nullptr) {
        bad->push_back(core::make_error(core::ErrorKind::parse_error, logical_path,
                                        "not a \"key = value\" assignment (systemd-sysctl "
                                        "ignores the line)",
                                        line.number));
      }
      continue;
    }
    model::SysctlAssignment a;
    a.file = logical_path;
    a.line = line.number;
    std::string_view key = core::trim(p.substr(0, eq));
    if (!key.empty() && key.front() == '-') {
      a.ignore_errors = true;
      key.remove_prefix(1);
    }
    a.key = normalize_sysctl_key(key);
    a.value = std::string(core::trim(p.substr(eq + 1)));
    if (a.key.empty()) {
      if (bad != nullptr) {
        bad->push_back(core::make_error(core::ErrorKind::parse_error, logical_path,
                                        "assignment without a key", line.number));
      }
      continue;
    }
    // A knob that takes numbers cannot be set to anything else: the kernel refuses the write,
    // so the line sets nothing at boot. It is reported and left out (never a "current
    // setting" of "abc"). Globs and keys vmtune does not know are not checked.
    if (a.key.find_first_of("*?[") == std::string::npos && sysctl_is_numeric(a.key)) {
      if (auto e = check_sysctl_numbers(a.value, logical_path, a.key, line.number)) {
        e->message += " (the kernel refuses the value: the line sets nothing)";
        if (bad != nullptr) bad->push_back(std::move(*e));
        continue;
      }
    }
    out.push_back(std::move(a));
  }
  return out;
}

SysctlFileOrder order_sysctl_files(const std::vector<SysctlDirListing>& dirs) {
  // file name -> logical path of the winning (highest-priority) file
  std::map<std::string, std::string> chosen;
  SysctlFileOrder order;
  for (const auto& d : dirs) {
    std::vector<std::string> names = d.names;
    std::sort(names.begin(), names.end());
    for (const auto& name : names) {
      if (!ends_with(name, ".conf") || name.size() == 5) continue;
      const std::string path = d.dir + "/" + name;
      auto [it, inserted] = chosen.emplace(name, path);
      if (!inserted) order.masked.emplace_back(path, it->second);
    }
  }
  // std::map iterates in strcmp order of the file name: systemd's sort.
  for (const auto& [name, path] : chosen) order.files.push_back(path);
  return order;
}

std::optional<bool> mount_is_read_only(std::string_view mountinfo, std::string_view mount_point) {
  std::optional<bool> ro;
  std::size_t best = 0;
  for (const auto& line : core::split_lines(mountinfo)) {
    const auto f = core::split_ws(line.text);
    if (f.size() < 6) continue;
    const std::string_view mp = f[4];
    const bool covers = mp == mount_point || mp == "/" ||
                        (mount_point.size() > mp.size() && mount_point.substr(0, mp.size()) == mp &&
                         mount_point[mp.size()] == '/');
    if (!covers || mp.size() < best) continue;
    best = mp.size();
    bool is_ro = false;
    std::string_view opts = f[5];
    while (!opts.empty()) {
      const auto comma = opts.find(',');
      if (opts.substr(0, comma) == "ro") is_ro = true;
      if (comma == std::string_view::npos) break;
      opts.remove_prefix(comma + 1);
    }
    ro = is_ro;  // a later line for the same mount point is stacked on top: it wins
  }
  return ro;
}

void read_sysctl_conf(const core::RootFs& fs, model::Sample& sample) {
  model::SysctlConf conf;
  std::vector<core::Error> bad;
  std::vector<SysctlDirListing> listings;
  // logical dir -> (tree, rel) to read the files back
  std::map<std::string, std::pair<core::Tree, std::string>> where;
  for (const auto& d : kDirs) {
    auto names = fs.list_dir(d.tree, d.rel);
    const std::string logical = fs.logical(d.tree, d.rel);
    if (!names) {
      if (names.error().kind != core::ErrorKind::missing) bad.push_back(names.error());
      continue;
    }
    where[logical] = {d.tree, d.rel};
    listings.push_back(SysctlDirListing{logical, std::move(*names)});
  }
  auto order = order_sysctl_files(listings);

  std::map<std::string, std::string> contents;  // logical path -> text
  auto read_one = [&](const std::string& logical) -> const std::string* {
    const auto slash = logical.rfind('/');
    const auto it = where.find(logical.substr(0, slash));
    if (it == where.end()) return nullptr;
    auto text = fs.read_text(it->second.first, it->second.second + "/" + logical.substr(slash + 1),
                             1u << 20);
    if (!text) {
      bad.push_back(text.error());
      return nullptr;
    }
    return &(contents[logical] = std::move(*text));
  };

  for (const auto& path : order.files) {
    const std::string* text = read_one(path);
    if (text == nullptr) continue;
    conf.files.push_back(path);
    for (auto& a : parse_sysctl_conf(*text, path, &bad)) conf.assignments.push_back(std::move(a));
  }
  // A masked file with the same content as the one masking it is the merged-/usr view of one
  // file (/lib -> /usr/lib), not a real mask: leave it out.
  for (const auto& [masked, by] : order.masked) {
    const std::string* text = read_one(masked);
    const auto winner = contents.find(by);
    if (text != nullptr && winner != contents.end() && winner->second == *text) continue;
    conf.masked.push_back(masked + " (masked by " + base_name(by) + " in " +
                          by.substr(0, by.rfind('/')) + ")");
  }

  if (auto text = fs.read_text(core::Tree::etc, "sysctl.conf", 1u << 20)) {
    const std::string path = fs.logical(core::Tree::etc, "sysctl.conf");
    conf.files.push_back(path);
    for (auto& a : parse_sysctl_conf(*text, path, &bad)) conf.assignments.push_back(std::move(a));
  } else if (text.error().kind != core::ErrorKind::missing) {
    bad.push_back(text.error());
  }

  if (auto mi = fs.read_text(core::Tree::proc, "self/mountinfo")) {
    conf.proc_sys_read_only = mount_is_read_only(*mi, fs.logical(core::Tree::proc, "sys"));
  }
  if (auto c = fs.read_text(core::Tree::root, "run/systemd/container", 4096)) {
    conf.container = std::string(core::trim(*c));
  } else if (fs.exists(core::Tree::root, "run/.containerenv")) {
    conf.container = "podman";
  }
  // tuned also sets sysctls; a generated profile includes the active one.
  if (auto t = fs.read_text(core::Tree::etc, "tuned/active_profile", 4096)) {
    const auto first = core::trim(std::string_view(*t).substr(0, t->find('\n')));
    conf.tuned_profile = std::string(first);
  }
  set_source(sample, sample.sysctl_conf, "sysctl_conf", std::move(conf), bad);
}

}  // namespace vmtune::collect
