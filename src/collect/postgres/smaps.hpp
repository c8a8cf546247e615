// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// /proc/PID/smaps: one record per mapping (header line "start-end perms offset dev inode path"
// followed by "Key: <n> kB" lines and "VmFlags: …"). Used to find PostgreSQL's main shared
// memory segment and how it is backed (hugetlb, THP or base pages).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "model/postgres.hpp"

namespace vmtune::collect::postgres {

struct Mapping {
  std::uint64_t start = 0;
  std::uint64_t end = 0;
  std::string perms;  ///< "rw-s"
  std::string path;   ///< may be empty (anonymous), "[heap]", "/dev/zero (deleted)", …
  int line = 0;       ///< header line number
  std::map<std::string, std::uint64_t> fields;  ///< kB fields in bytes, others as printed
  std::vector<std::string> vm_flags;            ///< "rd", "wr", "sh", "ht", …
  bool shared() const noexcept { return perms.size() >= 4 && perms[3] == 's'; }
  std::uint64_t field(const char* key) const {
    const auto it = fields.find(key);
    return it == fields.end() ? 0 : it->second;
  }
  bool has_flag(std::string_view flag) const;
};

/// Parses a whole smaps file. Lines that fit neither form are reported through `bad` (with
/// line and field) and skipped; a file without one mapping header is an error.
core::Result<std::vector<Mapping>> parse_smaps(std::string_view text,
                                               const std::string& logical_path,
                                               std::vector<core::Error>* bad);

/// True for the mapping names PostgreSQL's main segment has, per shared_memory_type:
/// mmap "/dev/zero (deleted)" or "/anon_hugepage (deleted)", sysv "/SYSV<key> (deleted)",
/// and "/memfd:…" (memfd-backed shared memory).
bool is_pg_segment_name(std::string_view path) noexcept;

/// The main shared segment: the largest shared mapping with a PostgreSQL segment name, else the
/// largest shared mapping that is not a regular file. nullopt when there is none.
std::optional<model::PgSegment> main_segment(const std::vector<Mapping>& maps,
                                             std::uint64_t base_page_size);

}  // namespace vmtune::collect::postgres
