// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// How much of PostgreSQL's relation files sits in the page cache: mincore(2) over read-only
// MAP_SHARED mappings of the files (as pgfincore and util-linux fincore do). Mapping does not
// fault pages in, so measuring does not change the cache. Sampled largest files first, with a
// bound on wall time and on bytes; when cut short, the resident share of the sampled bytes is
// scaled to the total.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "model/postgres.hpp"

namespace vmtune::collect::postgres {

struct PageCacheLimits {
  double max_seconds = 2.0;
  std::uint64_t max_bytes = 8ull << 30;
};

/// Relation segment file names: "<relfilenode>[_fsm|_vm|_init][.<segment>]".
bool is_relation_file_name(std::string_view name) noexcept;

struct Residency {
  std::uint64_t bytes_measured = 0;  ///< min(file size, max_bytes)
  std::uint64_t bytes_resident = 0;
};
/// mincore over the first `max_bytes` of one file. `logical` names it in errors.
core::Result<Residency> file_residency(const std::filesystem::path& file, std::uint64_t max_bytes,
                                       const std::string& logical);

/// Samples the relation files under data_dir/{base,global,pg_tblspc/*/*}. `logical_dir` names
/// the data directory in errors (as the user knows it).
core::Result<model::PgPageCache> sample_page_cache(const std::filesystem::path& data_dir,
                                                   const std::string& logical_dir,
                                                   const PageCacheLimits& limits);

}  // namespace vmtune::collect::postgres
