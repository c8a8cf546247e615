// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// vmtune.toml: the workload profile, memory reserved for the database and rules to skip.
// Read from /etc/vmtune/vmtune.toml (through the RootFs etc tree, by app/) or --config.
//
//   profile = "database"        # auto | database | general | latency (default auto)
//   db_reserved = "16GiB"       # bytes as an integer, or "<n>KiB|MiB|GiB|TiB"
//   skip = ["R-VFS-1"]          # rule ids not to evaluate
//
// "auto" means database when a PostgreSQL instance was found, general otherwise.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace vmtune::rules {

struct Config {
  std::string profile = "auto";  ///< auto | database | general | latency
  std::optional<std::uint64_t> db_reserved_bytes;
  std::set<std::string> skip;
  std::string source;  ///< file it was read from; empty for built-in defaults
};

/// Largest configuration file read; larger is an error.
inline constexpr std::size_t kMaxConfigBytes = std::size_t{1} << 20;

/// Parses vmtune.toml text; errors name path:line:column and what was expected.
core::Result<Config> parse_config(std::string_view text, const std::string& path);
/// Reads a configuration file through core::read_file. `logical` is the path shown in errors
/// (e.g. /etc/vmtune/vmtune.toml while the file really sits under a snapshot root). A missing
/// file is ErrorKind::missing ("configuration file not found"); a directory, FIFO, device or
/// socket is ErrorKind::invalid_argument ("refused: a directory, not a regular file"), refused
/// without blocking; a file larger than kMaxConfigBytes is ErrorKind::io_error.
core::Result<Config> load_config(const std::filesystem::path& file, const std::string& logical);

}  // namespace vmtune::rules
