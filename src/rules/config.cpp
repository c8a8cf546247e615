// SPDX-License-Identifier: GPL-2.0-or-later
#include "rules/config.hpp"

#include <toml++/toml.h>

#include <cmath>
#include <utility>

#include "core/file.hpp"
#include "rules/value.hpp"

namespace vmtune::rules {
namespace {

using core::ErrorKind;

core::Error at(const std::string& path, const toml::source_position& p, std::string field,
               std::string message) {
  return core::make_error(ErrorKind::invalid_argument, path, std::move(message),
                          static_cast<int>(p.line), std::move(field), static_cast<int>(p.column));
}

/// "16GiB", "512MiB", "1073741824" -> bytes.
std::optional<std::uint64_t> parse_size(const std::string& text) {
  static const std::pair<const char*, double> kUnits[] = {
      {"KiB", 1024.0}, {"MiB", 1048576.0}, {"GiB", 1073741824.0}, {"TiB", 1099511627776.0}};
  for (const auto& [suffix, mult] : kUnits) {
    const std::string s = suffix;
    if (text.size() > s.size() && text.compare(text.size() - s.size(), s.size(), s) == 0) {
      auto n = parse_number(text.substr(0, text.size() - s.size()));
      if (!n || *n < 0) return std::nullopt;
      return static_cast<std::uint64_t>(std::llround(*n * mult));
    }
  }
  auto n = parse_number(text);
  if (!n || *n < 0 || *n != std::floor(*n)) return std::nullopt;
  return static_cast<std::uint64_t>(*n);
}

}  // namespace

core::Result<Config> parse_config(std::string_view text, const std::string& path) {
  toml::table doc;
  try {
    doc = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    return at(path, e.source().begin, {}, "TOML syntax error: " + std::string(e.description()));
  }
  Config c;
  c.source = path;
  for (auto&& [k, v] : doc) {
    const std::string key(k.str());
    const auto pos = v.source().begin;
    if (key == "profile") {
      if (!v.is_string()) return at(path, pos, key, "expected a string");
      c.profile = std::string(v.as_string()->get());
      if (c.profile != "auto" && c.profile != "database" && c.profile != "general" &&
          c.profile != "latency") {
        return at(path, pos, key,
                  "expected auto, database, general or latency, got '" + c.profile + "'");
      }
    } else if (key == "db_reserved") {
      if (const auto* i = v.as_integer()) {
        if (i->get() < 0) return at(path, pos, key, "expected a size >= 0");
        c.db_reserved_bytes = static_cast<std::uint64_t>(i->get());
      } else if (const auto* s = v.as_string()) {
        auto b = parse_size(std::string(s->get()));
        if (!b)
          return at(path, pos, key,
                    "expected bytes or <n>KiB|MiB|GiB|TiB, got '" + std::string(s->get()) + "'");
        c.db_reserved_bytes = *b;
      } else {
        return at(path, pos, key, "expected bytes (integer) or a size string such as \"16GiB\"");
      }
    } else if (key == "skip") {
      const auto* a = v.as_array();
      if (a == nullptr) return at(path, pos, key, "expected an array of rule ids");
      for (const auto& e : *a) {
        if (!e.is_string()) return at(path, e.source().begin, key, "expected a rule id string");
        c.skip.insert(std::string(e.as_string()->get()));
      }
    } else {
      return at(path, k.source().begin, key, "unknown key: expected profile, db_reserved or skip");
    }
  }
  return c;
}

core::Result<Config> load_config(const std::filesystem::path& file, const std::string& logical) {
  core::OpenPolicy policy;
  policy.max_bytes = kMaxConfigBytes;
  auto text = core::read_file(file, logical, policy);
  if (!text) {
    core::Error e = std::move(text).error();
    if (e.kind == ErrorKind::missing) e.message = "configuration file not found";
    return e;
  }
  return parse_config(*text, logical);
}

}  // namespace vmtune::rules
