// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// Small, allocation-light parse helpers shared by every collector. They never throw.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace vmtune::core {

/// A line of a file with its 1-based number.
struct Line {
  int number = 0;
  std::string_view text;
};

/// Splits text into lines (no trailing "\n"); a missing final newline is fine.
std::vector<Line> split_lines(std::string_view text);
/// Splits on runs of spaces and tabs.
std::vector<std::string_view> split_ws(std::string_view text);
std::string_view trim(std::string_view text) noexcept;

std::optional<std::uint64_t> parse_u64(std::string_view text) noexcept;
std::optional<std::int64_t> parse_i64(std::string_view text) noexcept;
std::optional<double> parse_double(std::string_view text) noexcept;

/// One "Key:  value [unit]" record as in /proc/meminfo, /proc/PID/status and smaps_rollup.
struct KeyValue {
  std::string key;
  std::uint64_t value = 0;  ///< already multiplied to bytes when the unit was "kB"
  bool had_kb_unit = false;
  int line = 0;
};

/// Parses "Key: <n> [kB]" lines. Lines whose value is not a number are reported through
/// `bad` (as errors naming file, line and field) and skipped; the rest are returned.
/// Lines that are not of the "Key:" form at all are reported too, unless `skip_non_kv` is set
/// (status files have "Name:\tbash" and the like).
std::vector<KeyValue> parse_kv_kb(std::string_view text, const std::string& logical_path,
                                  std::vector<Error>* bad, bool skip_non_numeric = false);

/// Parses "key value" lines (as in /proc/vmstat, memory.stat, memory.events). Bad lines are
/// reported through `bad` and skipped.
std::vector<std::pair<std::string, std::uint64_t>> parse_key_space_u64(
    std::string_view text, const std::string& logical_path, std::vector<Error>* bad);

/// THP-style selection: "always [madvise] never" -> "madvise". Empty when no bracket.
std::string bracketed_choice(std::string_view text);

}  // namespace vmtune::core
