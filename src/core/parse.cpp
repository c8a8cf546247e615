// SPDX-License-Identifier: GPL-2.0-or-later
#include "core/parse.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <type_traits>
#include <unordered_set>

namespace vmtune::core {

std::vector<Line> split_lines(std::string_view text) {
  std::vector<Line> lines;
  int number = 0;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    const auto piece = text.substr(0, nl);
    lines.push_back(Line{++number, piece});
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return lines;
}

std::vector<std::string_view> split_ws(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r')) ++i;
    const std::size_t start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != '\t' && text[i] != '\r') ++i;
    if (i > start) out.push_back(text.substr(start, i - start));
  }
  return out;
}

std::string_view trim(std::string_view text) noexcept {
  const auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!text.empty() && ws(text.front())) text.remove_prefix(1);
  while (!text.empty() && ws(text.back())) text.remove_suffix(1);
  return text;
}

const char* to_string(NumberProblem problem) noexcept {
  switch (problem) {
    case NumberProblem::empty:
      return "empty";
    case NumberProblem::not_a_number:
      return "not a number";
    case NumberProblem::trailing_characters:
      return "trailing characters after the number";
    case NumberProblem::out_of_range:
      return "out of range";
    case NumberProblem::negative:
      return "negative";
    case NumberProblem::not_finite:
      return "not a finite number";
  }
  return "not a number";
}

namespace {

void set_why(NumberProblem* why, NumberProblem problem) noexcept {
  if (why != nullptr) *why = problem;
}

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

// from_chars over the whole (trimmed) text; classifies what went wrong.
template <typename T>
std::optional<T> parse_number(std::string_view text, NumberProblem* why) noexcept {
  text = trim(text);
  if (text.empty()) {
    set_why(why, NumberProblem::empty);
    return std::nullopt;
  }
  if constexpr (std::is_unsigned_v<T>) {
    if (text.size() > 1 && text[0] == '-' && is_digit(text[1])) {
      set_why(why, NumberProblem::negative);
      return std::nullopt;
    }
  }
  T v = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v);
  NumberProblem problem = NumberProblem::not_a_number;
  if (ec == std::errc::result_out_of_range) {
    problem = NumberProblem::out_of_range;
  } else if (ec == std::errc() && ptr != end) {
    problem = NumberProblem::trailing_characters;
  } else if (ec == std::errc()) {
    if constexpr (std::is_floating_point_v<T>) {
      if (!std::isfinite(v)) {
        set_why(why, NumberProblem::not_finite);
        return std::nullopt;
      }
    }
    return v;
  }
  set_why(why, problem);
  return std::nullopt;
}

}  // namespace

std::optional<std::uint64_t> parse_u64(std::string_view text, NumberProblem* why) noexcept {
  return parse_number<std::uint64_t>(text, why);
}

std::optional<std::int64_t> parse_i64(std::string_view text, NumberProblem* why) noexcept {
  return parse_number<std::int64_t>(text, why);
}

std::optional<double> parse_double(std::string_view text, NumberProblem* why) noexcept {
  return parse_number<double>(text, why);
}

Error field_error(const std::string& logical_path, int line, std::string field,
                  std::string_view expected, std::string_view problem) {
  std::string message = "expected ";
  message += expected;
  if (!problem.empty()) {
    message += ": ";
    message += problem;
  }
  return make_error(ErrorKind::parse_error, logical_path, std::move(message), line,
                    std::move(field));
}

Error nothing_parsed(const std::string& logical_path, std::string_view text,
                     std::string nothing_found) {
  return make_error(ErrorKind::parse_error, logical_path,
                    trim(text).empty() ? "file is empty" : std::move(nothing_found));
}

namespace {

KbUnit any_unit(std::string_view) noexcept { return KbUnit::optional; }

const char* unit_format(KbUnit unit) noexcept {
  switch (unit) {
    case KbUnit::required:
      return "\"<n> kB\"";
    case KbUnit::none:
      return "\"<n>\"";
    case KbUnit::optional:
      break;
  }
  return "\"<n>\" or \"<n> kB\"";
}

std::vector<KeyValue> parse_kv(std::string_view text, const std::string& logical_path,
                               std::vector<Error>* bad, bool quiet, KbUnitOf unit_of) {
  std::vector<KeyValue> out;
  std::unordered_set<std::string> damaged;  // keys with a bad line: left out at the end
  ErrorSink errors(bad, logical_path);
  const auto report = [&](Error e) {
    if (!quiet) errors.push(std::move(e));
  };
  for (const auto& line : split_lines(text)) {
    if (trim(line.text).empty()) continue;
    const auto colon = line.text.find(':');
    if (colon == std::string_view::npos || trim(line.text.substr(0, colon)).empty()) {
      report(field_error(logical_path, line.number, "", "\"Key: value\"", "no key"));
      continue;
    }
    std::string key(trim(line.text.substr(0, colon)));
    const KbUnit want = unit_of(key);
    const char* format = unit_format(want);
    const auto parts = split_ws(line.text.substr(colon + 1));
    const auto fail = [&](std::string_view problem) {
      report(field_error(logical_path, line.number, key, format, problem));
      damaged.insert(key);
    };
    if (parts.empty()) {
      fail("empty");
      continue;
    }
    NumberProblem why = NumberProblem::not_a_number;
    const auto value = parse_u64(parts[0], &why);
    if (!value) {
      fail(to_string(why));
      continue;
    }
    if (parts.size() > 2) {
      fail(to_string(NumberProblem::trailing_characters));
      continue;
    }
    const bool kb = parts.size() == 2 && parts[1] == "kB";
    if (parts.size() == 2 && !kb) {
      fail(want == KbUnit::none ? "unexpected unit" : "unknown unit");
      continue;
    }
    if (kb && want == KbUnit::none) {
      fail("unexpected unit");
      continue;
    }
    if (!kb && want == KbUnit::required) {
      fail("the unit is missing");
      continue;
    }
    std::uint64_t v = *value;
    if (kb) {
      if (v > std::numeric_limits<std::uint64_t>::max() / 1024) {
        // Reported even when quiet: an overflow is never a field of another type.
        errors.push(field_error(logical_path, line.number, key, format,
                                "out of range (overflows 64 bits in bytes)"));
        damaged.insert(key);
        continue;
      }
      v *= 1024;
    }
    out.push_back(KeyValue{std::move(key), v, kb, line.number});
  }
  if (!damaged.empty()) {
    std::erase_if(out, [&](const KeyValue& kv) { return damaged.count(kv.key) != 0; });
  }
  return out;
}

}  // namespace

std::vector<KeyValue> parse_kv_kb(std::string_view text, const std::string& logical_path,
                                  std::vector<Error>* bad, bool skip_non_numeric) {
  return parse_kv(text, logical_path, bad, skip_non_numeric, &any_unit);
}

std::vector<KeyValue> parse_kv_units(std::string_view text, const std::string& logical_path,
                                     std::vector<Error>* bad, KbUnitOf unit_of) {
  return parse_kv(text, logical_path, bad, false, unit_of != nullptr ? unit_of : &any_unit);
}

std::vector<std::pair<std::string, std::uint64_t>> parse_key_space_u64(
    std::string_view text, const std::string& logical_path, std::vector<Error>* bad) {
  std::vector<std::pair<std::string, std::uint64_t>> out;
  std::unordered_set<std::string> damaged;
  ErrorSink errors(bad, logical_path);
  for (const auto& line : split_lines(text)) {
    const auto parts = split_ws(line.text);
    if (parts.empty()) continue;
    std::string key(parts[0]);
    NumberProblem why = NumberProblem::empty;
    std::optional<std::uint64_t> v;
    if (parts.size() == 2) v = parse_u64(parts[1], &why);
    if (parts.size() > 2) why = NumberProblem::trailing_characters;
    if (!v) {
      errors.push(field_error(logical_path, line.number, key, "\"<name> <unsigned integer>\"",
                              parts.size() == 1 ? "the value is missing" : to_string(why)));
      damaged.insert(std::move(key));
      continue;
    }
    out.emplace_back(std::move(key), *v);
  }
  if (!damaged.empty()) {
    std::erase_if(out, [&](const auto& kv) { return damaged.count(kv.first) != 0; });
  }
  return out;
}

std::string bracketed_choice(std::string_view text) {
  const auto open = text.find('[');
  if (open == std::string_view::npos) return {};
  const auto close = text.find(']', open);
  if (close == std::string_view::npos) return {};
  return std::string(text.substr(open + 1, close - open - 1));
}

std::optional<std::vector<unsigned>> parse_id_list(std::string_view text, unsigned max_id) {
  text = trim(text);
  if (text.empty()) return std::nullopt;
  std::vector<unsigned> out;
  while (!text.empty()) {
    const auto comma = text.find(',');
    const auto item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    const auto dash = item.find('-');
    const auto lo = parse_u64(item.substr(0, dash));
    const auto hi = dash == std::string_view::npos ? lo : parse_u64(item.substr(dash + 1));
    if (!lo || !hi || *lo > *hi || *hi > max_id) return std::nullopt;
    for (auto id = *lo; id <= *hi; ++id) out.push_back(static_cast<unsigned>(id));
    if (comma != std::string_view::npos && text.empty()) return std::nullopt;  // "0,"
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace vmtune::core
