// SPDX-License-Identifier: GPL-2.0-or-later
#include "collect/numa.hpp"

#include <algorithm>
#include <limits>
#include <optional>

#include "collect/counters.hpp"
#include "collect/hugepages.hpp"
#include "collect/meminfo.hpp"
#include "collect/source_util.hpp"
#include "core/parse.hpp"

namespace vmtune::collect {
namespace {

constexpr const char* kNodeDir = "devices/system/node";
constexpr int kMaxIds = 65536;

std::optional<int> parse_node_id(std::string_view text) {
  const auto v = core::parse_u64(text);
  if (!v || *v >= static_cast<std::uint64_t>(kMaxIds)) return std::nullopt;
  return static_cast<int>(*v);
}

}  // namespace

core::Result<std::vector<int>> parse_id_list(std::string_view text,
                                             const std::string& logical_path) {
  std::vector<int> ids;
  text = core::trim(text);
  const auto bad = [&](std::string_view) {
    return core::field_error(logical_path, 1, "", "a list such as \"0-3,5\"",
                             "not a list of node numbers");
  };
  while (!text.empty()) {
    const auto comma = text.find(',');
    const auto piece = core::trim(text.substr(0, comma));
    const auto dash = piece.find('-');
    const auto first = parse_node_id(piece.substr(0, dash));
    const auto last =
        dash == std::string_view::npos ? first : parse_node_id(piece.substr(dash + 1));
    if (!first || !last || *last < *first ||
        ids.size() + static_cast<std::size_t>(*last - *first) > static_cast<std::size_t>(kMaxIds)) {
      return bad(piece);
    }
    for (int id = *first; id <= *last; ++id) ids.push_back(id);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
    if (text.empty()) return bad(",");
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

core::Result<model::Counters> parse_node_meminfo(std::string_view text, int node,
                                                 const std::string& logical_path,
                                                 std::vector<core::Error>* bad) {
  // Strip the prefix line by line, keeping line numbers, then reuse the meminfo parser.
  const std::string prefix = "Node " + std::to_string(node) + " ";
  std::string stripped;
  stripped.reserve(text.size());
  for (const auto& line : core::split_lines(text)) {
    std::string_view body = line.text;
    if (body.substr(0, prefix.size()) == prefix) {
      body.remove_prefix(prefix.size());
    } else if (!core::trim(body).empty()) {
      if (bad != nullptr) {
        bad->push_back(core::field_error(logical_path, line.number, "",
                                         "a line starting with \"" + prefix + "\"",
                                         "another prefix"));
      }
      body = {};
    }
    stripped.append(body);
    stripped.push_back('\n');
  }
  model::Counters out;
  for (auto& kv : core::parse_kv_units(stripped, logical_path, bad, &meminfo_unit)) {
    out.insert_or_assign(std::move(kv.key), kv.value);
  }
  if (out.empty()) {
    return core::nothing_parsed(logical_path, text, "no \"Node N Key: value\" line found");
  }
  return out;
}

core::Result<std::vector<std::uint32_t>> parse_node_distance(std::string_view text,
                                                             const std::string& logical_path) {
  std::vector<std::uint32_t> out;
  for (const auto word : core::split_ws(core::trim(text))) {
    core::NumberProblem why = core::NumberProblem::out_of_range;
    const auto v = core::parse_u64(word, &why);
    if (!v || *v > std::numeric_limits<std::uint32_t>::max()) {
      return core::field_error(logical_path, 1, "distance", "unsigned distances",
                               core::to_string(why));
    }
    out.push_back(static_cast<std::uint32_t>(*v));
  }
  if (out.empty()) {
    return core::make_error(core::ErrorKind::parse_error, logical_path, "file is empty");
  }
  return out;
}

namespace {

// The ids `online` lists, setting numa.online to its text; empty when it is absent or damaged.
std::vector<int> read_online_ids(const core::RootFs& fs, model::Numa& numa,
                                 std::vector<core::Error>& bad) {
  const std::string rel = std::string(kNodeDir) + "/online";
  auto online = read_optional(fs, core::Tree::sys, rel, &bad);
  if (!online) return {};
  numa.online = std::string(core::trim(*online));
  const auto logical = fs.logical(core::Tree::sys, rel);
  auto parsed = parse_id_list(*online, logical);
  if (!parsed) {
    bad.push_back(parsed.error());
    return {};
  }
  if (parsed->empty()) {
    // Node 0 is always online: an empty read is damage. Fall back to the directories.
    bad.push_back(core::make_error(core::ErrorKind::parse_error, logical, "file is empty"));
  }
  return std::move(*parsed);
}

// The ids of the nodeN directories present, sorted.
core::Result<std::vector<int>> list_node_dirs(const core::RootFs& fs) {
  auto names = fs.list_dir(core::Tree::sys, kNodeDir);
  if (!names) {
    return unsupported_if_missing(std::move(names).error(),
                                  "kernel without NUMA support (CONFIG_NUMA off)");
  }
  std::vector<int> ids;
  for (const auto& name : *names) {
    if (name.size() > 4 && name.rfind("node", 0) == 0) {
      if (auto id = parse_node_id(std::string_view(name).substr(4))) ids.push_back(*id);
    }
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

// The node's huge page pools; whether it has any.
bool read_node_hugepages(const core::RootFs& fs, const std::string& ndir, model::NumaNode& node,
                         std::vector<core::Error>& bad) {
  std::vector<core::Error> hp_bad;
  auto pools = read_hugepage_pools(fs, ndir + "/hugepages", &hp_bad);
  bool any = false;
  if (pools) {
    node.hugepages = std::move(*pools);
    any = !node.hugepages.empty();
  } else if (pools.error().kind != core::ErrorKind::missing) {
    bad.push_back(pools.error());
  }
  bad.insert(bad.end(), hp_bad.begin(), hp_bad.end());
  return any;
}

model::NumaNode read_node(const core::RootFs& fs, int id, std::vector<core::Error>& bad) {
  model::NumaNode node;
  node.id = id;
  const std::string ndir = std::string(kNodeDir) + "/node" + std::to_string(id);
  const auto read = [&](const char* file) {
    return read_optional(fs, core::Tree::sys, ndir + "/" + file, &bad);
  };
  const auto logical = [&](const char* file) {
    return fs.logical(core::Tree::sys, ndir + "/" + file);
  };
  bool any = false;
  if (auto text = read("meminfo")) {
    any |=
        store_parsed(parse_node_meminfo(*text, id, logical("meminfo"), &bad), node.meminfo, &bad);
  }
  if (auto text = read("numastat")) {
    any |= store_parsed(parse_counters(*text, logical("numastat"), &bad), node.numastat, &bad);
  }
  if (auto text = read("distance")) {
    any |= store_parsed(parse_node_distance(*text, logical("distance")), node.distance, &bad);
  }
  if (auto text = read("vmstat")) {
    any |= store_parsed(parse_counters(*text, logical("vmstat"), &bad), node.vmstat, &bad);
  }
  if (auto text = read("cpulist")) {
    node.cpulist = std::string(core::trim(*text));
    any = true;
  }
  if (read_node_hugepages(fs, ndir, node, bad)) any = true;
  if (!any) {
    bad.push_back(core::make_error(core::ErrorKind::missing, fs.logical(core::Tree::sys, ndir),
                                   "node listed as online but none of its files could be read"));
  }
  return node;
}

}  // namespace

void read_numa(const core::RootFs& fs, model::Sample& sample) {
  std::vector<core::Error> bad;
  model::Numa numa;
  std::vector<int> ids = read_online_ids(fs, numa, bad);
  if (ids.empty()) {
    // Captured trees often lack `online`: fall back to the nodeN directories present.
    auto listed = list_node_dirs(fs);
    if (!listed) return fail_source(sample, sample.numa, "numa", listed.error());
    ids = std::move(*listed);
  }
  for (const int id : ids) numa.nodes.push_back(read_node(fs, id, bad));
  if (numa.nodes.empty()) {
    return fail_source(
        sample, sample.numa, "numa",
        core::make_error(core::ErrorKind::missing, fs.logical(core::Tree::sys, kNodeDir),
                         "no nodeN directory found"));
  }
  set_source(sample, sample.numa, "numa", std::move(numa), bad);
}

}  // namespace vmtune::collect
