// SPDX-License-Identifier: GPL-2.0-or-later
#include "collect/postgres/smaps.hpp"

#include <algorithm>

#include "core/parse.hpp"

namespace vmtune::collect::postgres {
namespace {

bool is_hex(std::string_view s) noexcept {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  });
}

std::optional<std::uint64_t> parse_hex(std::string_view s) noexcept {
  if (!is_hex(s) || s.size() > 16) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    const int d = c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
    v = v * 16 + static_cast<std::uint64_t>(d);
  }
  return v;
}

/// "7fa8a1951000-7fa8aa7e9000 rw-s 00000000 00:01 1025    /dev/zero (deleted)"
std::optional<Mapping> parse_header(std::string_view text) {
  const auto ws = core::split_ws(text);
  if (ws.size() < 5) return std::nullopt;
  const auto dash = ws[0].find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  const auto start = parse_hex(ws[0].substr(0, dash));
  const auto end = parse_hex(ws[0].substr(dash + 1));
  if (!start || !end || *end < *start || ws[1].size() != 4 || !is_hex(ws[2])) return std::nullopt;
  Mapping m;
  m.start = *start;
  m.end = *end;
  m.perms = std::string(ws[1]);
  if (ws.size() > 5) {
    // The path is the rest of the line after the inode (it may contain spaces).
    const auto pos = static_cast<std::size_t>(ws[5].data() - text.data());
    m.path = std::string(core::trim(text.substr(pos)));
  }
  return m;
}

}  // namespace

bool Mapping::has_flag(std::string_view flag) const {
  return std::find(vm_flags.begin(), vm_flags.end(), flag) != vm_flags.end();
}

core::Result<std::vector<Mapping>> parse_smaps(std::string_view text,
                                               const std::string& logical_path,
                                               std::vector<core::Error>* bad) {
  std::vector<Mapping> out;
  core::ErrorSink errors(bad, logical_path);
  auto report = [&](int line, std::string field, std::string msg) {
    errors.push(core::make_error(core::ErrorKind::parse_error, logical_path, std::move(msg), line,
                                 std::move(field)));
  };
  for (const auto& line : core::split_lines(text)) {
    const auto t = core::trim(line.text);
    if (t.empty()) continue;
    const auto colon = t.find(':');
    // Header lines start with a hex range; key lines are "Key:" with no '-' before the colon.
    const auto first_ws = t.find_first_of(" \t");
    const bool looks_header = first_ws != std::string_view::npos &&
                              t.substr(0, first_ws).find('-') != std::string_view::npos;
    if (looks_header) {
      if (auto m = parse_header(t)) {
        m->line = line.number;
        out.push_back(std::move(*m));
      } else {
        report(line.number, "",
               "expected a mapping header \"start-end perms offset dev inode [path]\"");
      }
      continue;
    }
    if (colon == std::string_view::npos || colon == 0) {
      report(line.number, "", "expected \"Key: value\" or a mapping header");
      continue;
    }
    const std::string key(core::trim(t.substr(0, colon)));
    if (out.empty()) {
      report(line.number, key, "field before the first mapping header");
      continue;
    }
    const auto rest = core::trim(t.substr(colon + 1));
    if (key == "VmFlags") {
      for (auto f : core::split_ws(rest)) out.back().vm_flags.emplace_back(f);
      continue;
    }
    const auto parts = core::split_ws(rest);
    std::optional<std::uint64_t> v;
    if (parts.size() == 1) {
      v = core::parse_u64(parts[0]);
    } else if (parts.size() == 2 && parts[1] == "kB") {
      v = core::parse_u64(parts[0]);
      if (v) {
        if (*v > UINT64_MAX / 1024)
          v.reset();
        else
          *v *= 1024;
      }
    }
    if (!v) {
      report(line.number, key, "expected \"<n>\" or \"<n> kB\"");
      continue;
    }
    out.back().fields[key] = *v;
  }
  if (out.empty()) {
    return core::make_error(core::ErrorKind::parse_error, logical_path,
                            text.empty() ? "file is empty" : "no mapping header found");
  }
  return out;
}

bool is_pg_segment_name(std::string_view path) noexcept {
  return path.rfind("/dev/zero", 0) == 0 || path.rfind("/anon_hugepage", 0) == 0 ||
         path.rfind("/SYSV", 0) == 0 || path.rfind("/memfd:", 0) == 0;
}

std::optional<model::PgSegment> main_segment(const std::vector<Mapping>& maps,
                                             std::uint64_t base_page_size) {
  const Mapping* best = nullptr;
  auto size_of = [](const Mapping& m) { return m.end - m.start; };
  for (const auto& m : maps) {
    if (!m.shared() || !is_pg_segment_name(m.path)) continue;
    if (best == nullptr || size_of(m) > size_of(*best)) best = &m;
  }
  if (best == nullptr) {
    for (const auto& m : maps) {
      // Anything shared that is not a named file: a plain path starting with '/' that is not
      // deleted is a file mapping (PostgreSQL does not mmap relation files).
      const bool file =
          !m.path.empty() && m.path.front() == '/' && m.path.find("(deleted)") == std::string::npos;
      if (!m.shared() || file) continue;
      if (best == nullptr || size_of(m) > size_of(*best)) best = &m;
    }
  }
  if (best == nullptr) return std::nullopt;
  model::PgSegment s;
  s.mapping = best->path;
  s.size = best->fields.count("Size") ? best->field("Size") : size_of(*best);
  s.kernel_page_size = best->field("KernelPageSize");
  s.rss = best->field("Rss");
  s.hugetlb = best->field("Shared_Hugetlb") + best->field("Private_Hugetlb");
  s.pmd_mapped = best->field("ShmemPmdMapped") + best->field("AnonHugePages");
  if (best->has_flag("ht") || s.hugetlb > 0 ||
      (s.kernel_page_size > 0 && s.kernel_page_size > base_page_size)) {
    s.backing = "hugetlb";
  } else if (s.pmd_mapped > 0) {
    s.backing = "thp";
  } else {
    s.backing = "4k";
  }
  return s;
}

}  // namespace vmtune::collect::postgres
