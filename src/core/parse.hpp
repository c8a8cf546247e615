// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// Small, allocation-light parse helpers shared by every collector. They never throw.
//
// Strictness: a number is the whole (trimmed) text or nothing. Empty text, trailing
// characters ("12x"), a value out of range, a minus sign where an unsigned number is expected,
// and (for doubles) NaN or infinity are all failures, and the helpers say which. Error
// messages built here describe the expected format and the problem, never the offending
// content: a damaged or hostile file must not end up quoted in a report.

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

/// Why a text is not the number that was expected.
enum class NumberProblem {
  empty,                ///< nothing (or only whitespace)
  not_a_number,         ///< does not start with a digit
  trailing_characters,  ///< a number followed by something else ("12x", "1 2")
  out_of_range,         ///< does not fit the type
  negative,             ///< a minus sign where an unsigned number is expected
  not_finite,           ///< NaN or infinity
};
/// "empty", "not a number", "trailing characters after the number", "out of range",
/// "negative", "not a finite number".
const char* to_string(NumberProblem problem) noexcept;

/// Strict number parsers: the whole text, leading/trailing whitespace aside. On failure
/// `why` (when given) receives the reason.
std::optional<std::uint64_t> parse_u64(std::string_view text,
                                       NumberProblem* why = nullptr) noexcept;
std::optional<std::int64_t> parse_i64(std::string_view text, NumberProblem* why = nullptr) noexcept;
/// Finite doubles only ("nan" and "inf" are refused).
std::optional<double> parse_double(std::string_view text, NumberProblem* why = nullptr) noexcept;

/// A parse error for one field: message `expected <format>: <problem>`, e.g.
/// `/proc/meminfo:1: field "MemTotal": expected "<n> kB": the unit is missing`.
/// `expected` is a short format description, never the content that failed.
Error field_error(const std::string& logical_path, int line, std::string field,
                  std::string_view expected, std::string_view problem);
/// The same for a line of split_lines: its number, never its content.
inline Error field_error(const std::string& logical_path, const Line& line, std::string field,
                         std::string_view expected, std::string_view problem) {
  return field_error(logical_path, line.number, std::move(field), expected, problem);
}

/// The parse error of a file in which nothing usable was found: "file is empty" when `text` is
/// blank, else `nothing_found` (e.g. `no "name value" line found`).
Error nothing_parsed(const std::string& logical_path, std::string_view text,
                     std::string nothing_found);

/// One "Key:  value [unit]" record as in /proc/meminfo, /proc/PID/status and smaps_rollup.
struct KeyValue {
  std::string key;
  std::uint64_t value = 0;  ///< already multiplied to bytes when the unit was "kB"
  bool had_kb_unit = false;
  int line = 0;
};

/// Which unit a "Key: value" field must carry.
enum class KbUnit {
  optional,  ///< "<n>" or "<n> kB" (files whose fields vary: /proc/PID/status)
  required,  ///< "<n> kB": a value without the unit is a cut line, not a count
  none,      ///< "<n>": a count (meminfo's HugePages_*)
};
/// Per-key unit policy for parse_kv_units.
using KbUnitOf = KbUnit (*)(std::string_view key) noexcept;

/// Parses "Key: <n> [kB]" lines with every unit optional. Lines whose value is not a number
/// are reported through `bad` (as errors naming file, line and field) and skipped; the rest
/// are returned. Lines that are not of the "Key:" form at all are reported too, unless
/// `skip_non_numeric` is set (status files have "Name:\tbash" and the like).
std::vector<KeyValue> parse_kv_kb(std::string_view text, const std::string& logical_path,
                                  std::vector<Error>* bad, bool skip_non_numeric = false);

/// Strict form for files whose format fixes each field's unit (/proc/meminfo, node meminfo):
/// `unit_of(key)` says which unit the field must carry, and a value without it (a line cut
/// short: "MemTotal:  2468"), with another unit, or not a number is an error for that field.
/// A key with any bad line is left out entirely, even if another line for it parsed: the
/// file is damaged there and no value of it can be trusted.
std::vector<KeyValue> parse_kv_units(std::string_view text, const std::string& logical_path,
                                     std::vector<Error>* bad, KbUnitOf unit_of);

/// Parses "key value" lines (as in /proc/vmstat, memory.stat, memory.events). Bad lines are
/// reported through `bad` and skipped; a key with any bad line is left out entirely.
std::vector<std::pair<std::string, std::uint64_t>> parse_key_space_u64(
    std::string_view text, const std::string& logical_path, std::vector<Error>* bad);

/// THP-style selection: "always [madvise] never" -> "madvise". Empty when no bracket.
std::string bracketed_choice(std::string_view text);

/// A kernel id list ("0-1,4", as in Mems_allowed_list and nodeN/cpulist) as sorted ids, each at
/// most `max_id`; nullopt for anything else (empty, reversed ranges, ids over the bound).
std::optional<std::vector<unsigned>> parse_id_list(std::string_view text, unsigned max_id);

// At most this many damaged lines of one file are reported one by one; the rest are counted
// in one entry. A damaged file can have millions of lines: its errors must not cost more than
// the file.
inline constexpr std::size_t kMaxErrorsPerFile = 20;

/// Collects the errors of one file into `out`, keeping the first kMaxErrorsPerFile and counting
/// the rest in one closing entry ("and N more damaged lines").
class ErrorSink {
 public:
  ErrorSink(std::vector<Error>* out, const std::string& path) : out_(out), path_(path) {}
  ErrorSink(const ErrorSink&) = delete;
  ErrorSink& operator=(const ErrorSink&) = delete;
  ~ErrorSink() {
    if (out_ != nullptr && dropped_ > 0) {
      out_->push_back(make_error(ErrorKind::parse_error, path_,
                                 "and " + std::to_string(dropped_) + " more damaged lines"));
    }
  }
  void push(Error e) {
    if (out_ == nullptr) return;
    if (kept_ < kMaxErrorsPerFile) {
      ++kept_;
      out_->push_back(std::move(e));
    } else {
      ++dropped_;
    }
  }

 private:
  std::vector<Error>* out_;
  const std::string& path_;
  std::size_t kept_ = 0;
  std::size_t dropped_ = 0;
};

}  // namespace vmtune::core
