// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// Loads rule files (TOML, format in man 5 vmtune-rules) into validated Rules. Every problem —
// TOML syntax, an unknown field, a missing field, an unknown metric section, an expression
// syntax or type error, a duplicate id — is a core::Error naming the file, the line and the
// column (inside the file, also for positions inside expression strings) and what was expected.

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "rules/rule.hpp"

namespace vmtune::rules {

/// Largest rule file read (the largest in the catalogue is 12 KiB); larger is an error.
inline constexpr std::size_t kMaxRuleFileBytes = std::size_t{1} << 20;

/// Parses one rule file's text. `path` is used in errors and in Rule::file.
core::Result<std::vector<Rule>> parse_rule_file(std::string_view text, const std::string& path);
/// Reads and parses one file, through core::read_file: a FIFO, device, socket or directory is
/// refused without blocking ("refused: a FIFO, not a regular file"), and so is a file larger
/// than kMaxRuleFileBytes. `follow_links` false also refuses a symbolic link.
core::Result<std::vector<Rule>> load_rule_file(const std::filesystem::path& path,
                                               bool follow_links = true);

/// A directory of rule files. Every "*.toml" in it is loaded, in name order.
struct RuleDir {
  std::filesystem::path path;
  bool optional = false;  ///< a missing optional directory is skipped (e.g. /etc/vmtune/rules.d)
  /// False for a directory inside a tree vmtune does not trust (a --root snapshot): a symbolic
  /// link in it is skipped, never followed.
  bool follow_links = true;
};

/// Loads every directory in order; rule ids must be unique across all of them. An entry named
/// *.toml that is not a regular file (a FIFO, a socket, a device, a directory, a dangling link,
/// or a link when links are not followed) is skipped without being opened, and `notes`, when
/// given, gets "<path>: skipped: a FIFO, not a regular file". A path that exists but is not a
/// directory is an error.
core::Result<std::vector<Rule>> load_rule_dirs(const std::vector<RuleDir>& dirs,
                                               std::vector<std::string>* notes = nullptr);

}  // namespace vmtune::rules
