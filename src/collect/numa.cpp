// SPDX-License-Identifier: GPL-2.0-or-later
#include "collect/numa.hpp"

#include <algorithm>
#include <limits>
#include <optional>

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
    return core::make_error(
        core::ErrorKind::parse_error, logical_path,
        core::trim(text).empty() ? "file is empty" : "no \"Node N Key: value\" line found");
  }
  return out;
}

core::Result<model::Counters> parse_numastat(std::string_view text, const std::string& logical_path,
                                             std::vector<core::Error>* bad) {
  model::Counters out;
  for (auto& [k, v] : core::parse_key_space_u64(text, logical_path, bad)) {
    out.insert_or_assign(std::move(k), v);
  }
  if (out.empty()) {
    return core::make_error(
        core::ErrorKind::parse_error, logical_path,
        core::trim(text).empty() ? "file is empty" : "no \"name value\" line found");
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

void read_numa(const core::RootFs& fs, model::Sample& sample) {
  const std::string dir = kNodeDir;
  std::vector<core::Error> bad;
  model::Numa numa;
  std::vector<int> ids;

  auto online = fs.read_text(core::Tree::sys, dir + "/online");
  if (online) {
    numa.online = std::string(core::trim(*online));
    const auto logical = fs.logical(core::Tree::sys, dir + "/online");
    auto parsed = parse_id_list(*online, logical);
    if (!parsed) {
      bad.push_back(parsed.error());
    } else if (parsed->empty()) {
      // Node 0 is always online: an empty read is damage. Fall back to the directories.
      bad.push_back(core::make_error(core::ErrorKind::parse_error, logical, "file is empty"));
    } else {
      ids = std::move(*parsed);
    }
  } else if (online.error().kind != core::ErrorKind::missing) {
    bad.push_back(online.error());
  }
  if (!online || ids.empty()) {
    // Captured trees often lack `online`: fall back to the nodeN directories present.
    auto names = fs.list_dir(core::Tree::sys, dir);
    if (!names) {
      auto err = std::move(names).error();
      if (err.kind == core::ErrorKind::missing) {
        err.kind = core::ErrorKind::unsupported;
        err.message = "kernel without NUMA support (CONFIG_NUMA off): " + err.message;
      }
      return fail_source(sample, sample.numa, "numa", err);
    }
    for (const auto& name : *names) {
      if (name.size() > 4 && name.rfind("node", 0) == 0) {
        if (auto id = parse_node_id(std::string_view(name).substr(4))) ids.push_back(*id);
      }
    }
    std::sort(ids.begin(), ids.end());
  }

  for (const int id : ids) {
    model::NumaNode node;
    node.id = id;
    const std::string ndir = dir + "/node" + std::to_string(id);
    const auto read = [&](const char* file) -> std::optional<std::string> {
      auto text = fs.read_text(core::Tree::sys, ndir + "/" + file);
      if (!text) {
        if (text.error().kind != core::ErrorKind::missing) bad.push_back(text.error());
        return std::nullopt;
      }
      return std::move(*text);
    };
    const auto logical = [&](const char* file) {
      return fs.logical(core::Tree::sys, ndir + "/" + file);
    };
    bool any = false;
    if (auto text = read("meminfo")) {
      auto m = parse_node_meminfo(*text, id, logical("meminfo"), &bad);
      if (m) {
        node.meminfo = std::move(*m);
        any = true;
      } else {
        bad.push_back(m.error());
      }
    }
    if (auto text = read("numastat")) {
      auto m = parse_numastat(*text, logical("numastat"), &bad);
      if (m) {
        node.numastat = std::move(*m);
        any = true;
      } else {
        bad.push_back(m.error());
      }
    }
    if (auto text = read("distance")) {
      auto d = parse_node_distance(*text, logical("distance"));
      if (d) {
        node.distance = std::move(*d);
        any = true;
      } else {
        bad.push_back(d.error());
      }
    }
    if (auto text = read("cpulist")) {
      node.cpulist = std::string(core::trim(*text));
      any = true;
    }
    std::vector<core::Error> hp_bad;
    auto pools = read_hugepage_pools(fs, ndir + "/hugepages", &hp_bad);
    if (pools) {
      node.hugepages = std::move(*pools);
      any = any || !node.hugepages.empty();
    } else if (pools.error().kind != core::ErrorKind::missing) {
      bad.push_back(pools.error());
    }
    bad.insert(bad.end(), hp_bad.begin(), hp_bad.end());
    if (!any) {
      bad.push_back(core::make_error(core::ErrorKind::missing, fs.logical(core::Tree::sys, ndir),
                                     "node listed as online but none of its files could be read"));
    }
    numa.nodes.push_back(std::move(node));
  }
  if (numa.nodes.empty()) {
    return fail_source(sample, sample.numa, "numa",
                       core::make_error(core::ErrorKind::missing, fs.logical(core::Tree::sys, dir),
                                        "no nodeN directory found"));
  }
  set_source(sample, sample.numa, "numa", std::move(numa), bad);
}

}  // namespace vmtune::collect
