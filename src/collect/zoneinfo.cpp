// SPDX-License-Identifier: GPL-2.0-or-later
#include "collect/zoneinfo.hpp"

#include <limits>

#include "collect/source_util.hpp"
#include "core/parse.hpp"

namespace vmtune::collect {
namespace {

enum class Section { header, node_stats, zone, pagesets, tail };

// "Node 0, zone   Normal" -> node and zone name.
bool parse_header(std::string_view text, int* node, std::string* name) {
  const auto parts = core::split_ws(text);
  if (parts.size() != 4 || parts[0] != "Node" || parts[2] != "zone") return false;
  auto n = parts[1];
  if (n.empty() || n.back() != ',') return false;
  n.remove_suffix(1);
  const auto v = core::parse_u64(n);
  if (!v || *v > static_cast<std::uint64_t>(std::numeric_limits<int>::max())) return false;
  *node = static_cast<int>(*v);
  *name = std::string(parts[3]);
  return true;
}

// "protection: (0, 2877, 7826, 7826, 7826)"
bool parse_protection(std::string_view rest, std::vector<std::uint64_t>* out) {
  rest = core::trim(rest);
  if (rest.size() < 2 || rest.front() != '(' || rest.back() != ')') return false;
  rest = rest.substr(1, rest.size() - 2);
  out->clear();
  while (true) {
    const auto comma = rest.find(',');
    const auto v = core::parse_u64(rest.substr(0, comma));
    if (!v) return false;
    out->push_back(*v);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return true;
}

bool is_pageset_key(std::string_view key) {
  return key == "cpu" || key == "count" || key == "high" || key == "batch" ||
         key == "vm stats threshold" || key == "high_min" || key == "high_max";
}

std::optional<std::uint64_t>* watermark_slot(model::Zone& z, std::string_view key) {
  if (key == "boost") return &z.boost;
  if (key == "min") return &z.min;
  if (key == "low") return &z.low;
  if (key == "high") return &z.high;
  if (key == "spanned") return &z.spanned;
  if (key == "present") return &z.present;
  if (key == "managed") return &z.managed;
  if (key == "cma") return &z.cma;
  return nullptr;
}

// One pass over /proc/zoneinfo: the zones found so far, the zone the current line belongs to
// and the block of that zone the line is in.
struct ZoneinfoParser {
  const std::string& logical_path;
  std::vector<core::Error>& errs;
  std::vector<model::Zone> out{};
  model::Zone* zone = nullptr;  // null before the first header and after a malformed one
  bool skipping = false;        // inside a zone whose header was malformed
  Section section = Section::header;

  // One trimmed, non-empty line `t` (the text of `line`).
  void take(const core::Line& line, std::string_view t) {
    if (t.rfind("Node", 0) == 0) return start_zone(line, t);
    if (zone == nullptr) return orphan(line);
    if (t == "per-node stats") {
      section = Section::node_stats;
    } else if (t == "pagesets") {
      section = Section::pagesets;
    } else if (t.rfind("pages free", 0) == 0) {
      pages_free(line, t.substr(10));
    } else if (t.rfind("protection:", 0) == 0) {
      protection(line, t.substr(11));
    } else if (const auto colon = t.find(':'); colon != std::string_view::npos) {
      key_value(line, core::trim(t.substr(0, colon)), t.substr(colon + 1));
    } else {
      name_value(line, t);
    }
  }

  void error(const core::Line& line, std::string field, std::string_view expected,
             std::string_view problem) {
    errs.push_back(core::field_error(logical_path, line, std::move(field), expected, problem));
  }

  void start_zone(const core::Line& line, std::string_view t) {
    int node = 0;
    std::string name;
    if (!parse_header(t, &node, &name)) {
      error(line, "zone", "\"Node <n>, zone <name>\"", "malformed zone header");
      zone = nullptr;
      skipping = true;
      return;
    }
    out.emplace_back();
    zone = &out.back();
    zone->node = node;
    zone->name = std::move(name);
    skipping = false;
    section = Section::header;
  }

  void orphan(const core::Line& line) {
    if (skipping) return;
    error(line, "", "a \"Node <n>, zone <name>\" header first", "line before the first header");
    skipping = true;  // one report is enough for a run of orphan lines
  }

  void pages_free(const core::Line& line, std::string_view rest) {
    core::NumberProblem why{};
    const auto v = core::parse_u64(rest, &why);
    if (!v) {
      error(line, "pages free", "\"pages free <n>\"", core::to_string(why));
    } else {
      zone->free = *v;
    }
    section = Section::zone;
  }

  void protection(const core::Line& line, std::string_view rest) {
    std::vector<std::uint64_t> prot;
    if (!parse_protection(rest, &prot)) {
      error(line, "protection", "\"protection: (<n>, <n>, ...)\"",
            "not a list of unsigned numbers");
    } else {
      zone->protection = std::move(prot);
    }
  }

  // "key: value" lines: the per-CPU pagesets (skipped) and the zone's tail.
  void key_value(const core::Line& line, std::string_view key, std::string_view val) {
    if (is_pageset_key(key)) {
      if (section != Section::pagesets) {
        error(line, std::string(key), "per-CPU pageset lines inside a \"pagesets\" block",
              "outside one");
      }
      return;
    }
    section = Section::tail;
    core::NumberProblem why{};
    const auto v = core::parse_u64(val, &why);
    if (!v) return error(line, std::string(key), "\"<key>: <n>\"", core::to_string(why));
    if (key == "node_unreclaimable" || key == "all_unreclaimable") {
      zone->node_unreclaimable = *v != 0;
    } else {
      zone->stats.insert_or_assign(std::string(key), *v);
    }
  }

  // "name value" lines: the per-node stats, the zone's counters and its watermarks.
  void name_value(const core::Line& line, std::string_view t) {
    const auto parts = core::split_ws(t);
    if (parts.size() == 1 && core::parse_u64(parts[0]) &&
        (section == Section::node_stats || section == Section::zone)) {
      // Some 4.x/5.x kernels print a counter whose vmstat_text name is empty (PCP's
      // meminfo-root-006 capture: a bare number after nr_written, where later kernels print
      // nr_kernel_misc_reclaimable). It is real kernel output, not damage, and has no name
      // to keep it under.
      return;
    }
    const std::string key = parts.empty() ? std::string() : std::string(parts[0]);
    core::NumberProblem why = core::NumberProblem::trailing_characters;
    const auto v = parts.size() == 2 ? core::parse_u64(parts[1], &why) : std::nullopt;
    if (!v) {
      return error(line, key, "\"<name> <unsigned integer>\"",
                   parts.size() == 1 ? "the value is missing" : core::to_string(why));
    }
    if (section == Section::node_stats) {
      zone->node_stats.insert_or_assign(key, *v);
      return;
    }
    if (section == Section::zone) {
      if (auto* slot = watermark_slot(*zone, key)) {
        *slot = *v;
        return;
      }
    }
    zone->stats.insert_or_assign(key, *v);
  }
};

}  // namespace

core::Result<std::vector<model::Zone>> parse_zoneinfo(std::string_view text,
                                                      const std::string& logical_path,
                                                      std::vector<core::Error>* bad) {
  std::vector<core::Error> local;
  ZoneinfoParser parser{logical_path, bad != nullptr ? *bad : local};
  for (const auto& line : core::split_lines(text)) {
    const auto t = core::trim(line.text);
    if (!t.empty()) parser.take(line, t);
  }
  if (parser.out.empty()) {
    return core::nothing_parsed(logical_path, text, "no \"Node <n>, zone <name>\" header found");
  }
  return std::move(parser.out);
}

void read_zoneinfo(const core::RootFs& fs, model::Sample& sample) {
  collect_file(sample, sample.zones, "zoneinfo", fs, core::Tree::proc, "zoneinfo", parse_zoneinfo);
}

}  // namespace vmtune::collect
