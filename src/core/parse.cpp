// SPDX-License-Identifier: GPL-2.0-or-later
#include "core/parse.hpp"

#include <charconv>
#include <cstdlib>
#include <limits>

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

std::optional<std::uint64_t> parse_u64(std::string_view text) noexcept {
  text = trim(text);
  if (text.empty()) return std::nullopt;
  std::uint64_t v = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return v;
}

std::optional<std::int64_t> parse_i64(std::string_view text) noexcept {
  text = trim(text);
  if (text.empty()) return std::nullopt;
  std::int64_t v = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return v;
}

std::optional<double> parse_double(std::string_view text) noexcept {
  text = trim(text);
  if (text.empty()) return std::nullopt;
  double v = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return v;
}

std::vector<KeyValue> parse_kv_kb(std::string_view text, const std::string& logical_path,
                                  std::vector<Error>* bad, bool skip_non_numeric) {
  std::vector<KeyValue> out;
  for (const auto& line : split_lines(text)) {
    if (trim(line.text).empty()) continue;
    const auto colon = line.text.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      if (bad != nullptr && !skip_non_numeric) {
        bad->push_back(make_error(ErrorKind::parse_error, logical_path,
                                  "expected \"Key: value\", got \"" +
                                      std::string(line.text.substr(0, 80)) + "\"",
                                  line.number));
      }
      continue;
    }
    const std::string key(trim(line.text.substr(0, colon)));
    const auto parts = split_ws(line.text.substr(colon + 1));
    std::optional<std::uint64_t> value;
    bool kb = false;
    bool unit_ok = true;
    if (!parts.empty()) value = parse_u64(parts[0]);
    if (parts.size() == 2) {
      if (parts[1] == "kB") {
        kb = true;
      } else {
        unit_ok = false;
      }
    } else if (parts.size() > 2) {
      unit_ok = false;
    }
    if (!value || !unit_ok) {
      if (bad != nullptr && !skip_non_numeric) {
        const std::string rest(trim(line.text.substr(colon + 1)));
        bad->push_back(make_error(ErrorKind::parse_error, logical_path,
                                  "expected \"<n>\" or \"<n> kB\", got \"" + rest.substr(0, 80) +
                                      "\"",
                                  line.number, key));
      }
      continue;
    }
    std::uint64_t v = *value;
    if (kb) {
      if (v > std::numeric_limits<std::uint64_t>::max() / 1024) {
        if (bad != nullptr) {
          bad->push_back(make_error(ErrorKind::parse_error, logical_path,
                                    "value overflows 64 bits when converted to bytes",
                                    line.number, key));
        }
        continue;
      }
      v *= 1024;
    }
    out.push_back(KeyValue{key, v, kb, line.number});
  }
  return out;
}

std::vector<std::pair<std::string, std::uint64_t>> parse_key_space_u64(
    std::string_view text, const std::string& logical_path, std::vector<Error>* bad) {
  std::vector<std::pair<std::string, std::uint64_t>> out;
  for (const auto& line : split_lines(text)) {
    const auto parts = split_ws(line.text);
    if (parts.empty()) continue;
    std::optional<std::uint64_t> v;
    if (parts.size() == 2) v = parse_u64(parts[1]);
    if (!v) {
      if (bad != nullptr) {
        bad->push_back(make_error(ErrorKind::parse_error, logical_path,
                                  "expected \"<name> <unsigned integer>\", got \"" +
                                      std::string(line.text.substr(0, 80)) + "\"",
                                  line.number, std::string(parts[0])));
      }
      continue;
    }
    out.emplace_back(std::string(parts[0]), *v);
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

}  // namespace vmtune::core
