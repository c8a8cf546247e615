// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// Loads rule files (TOML, format in man 5 vmtune-rules) into validated Rules. Every problem —
// TOML syntax, an unknown field, a missing field, an unknown metric section, an expression
// syntax or type error, a duplicate id — is a core::Error naming the file, the line and the
// column (inside the file, also for positions inside expression strings) and what was expected.

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "rules/rule.hpp"

namespace vmtune::rules {

/// Parses one rule file's text. `path` is used in errors and in Rule::file.
core::Result<std::vector<Rule>> parse_rule_file(std::string_view text, const std::string& path);
/// Reads and parses one file.
core::Result<std::vector<Rule>> load_rule_file(const std::filesystem::path& path);

/// A directory of rule files. Every "*.toml" in it is loaded, in name order.
struct RuleDir {
  std::filesystem::path path;
  bool optional = false;  ///< a missing optional directory is skipped (e.g. /etc/vmtune/rules.d)
};

/// Loads every directory in order; rule ids must be unique across all of them.
core::Result<std::vector<Rule>> load_rule_dirs(const std::vector<RuleDir>& dirs);

}  // namespace vmtune::rules
