// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// How much of PostgreSQL's relation files sits in the page cache: mincore(2) over read-only
// MAP_SHARED mappings of the files (as pgfincore and util-linux fincore do). Mapping does not
// fault pages in, so measuring does not change the cache. Sampled largest files first, with a
// bound on wall time and on bytes; when cut short, the resident share of the sampled bytes is
// scaled to the total.

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "core/root_fs.hpp"
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
/// `name` is opened in `dirfd` without following links; it must be a regular file (owned by
/// `owner` when given).
core::Result<Residency> file_residency(int dirfd, const std::string& name, std::uint64_t max_bytes,
                                       const std::string& logical,
                                       std::optional<uid_t> owner = std::nullopt);

/// Samples the relation files under data_dir/{base,global,pg_tblspc/*/*}, opened through a
/// process (RootFs::open_process_dir): only files and directories of that process's user, never
/// through a link (tablespace links excepted). `logical_dir` names the data directory in errors.
core::Result<model::PgPageCache> sample_page_cache(const core::ProcessDir& data_dir,
                                                   const std::string& logical_dir,
                                                   const PageCacheLimits& limits);

}  // namespace vmtune::collect::postgres
