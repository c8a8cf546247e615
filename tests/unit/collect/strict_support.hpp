// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// Helpers for the strict-parsing tests of every collector: errors as the strings a report shows,
// and the sample's unavailable entries as "source|path|line|field|reason".

#include <string>
#include <vector>

#include "core/result.hpp"
#include "model/sample.hpp"

namespace vmtune::test {

inline std::vector<std::string> error_strings(const std::vector<core::Error>& errors) {
  std::vector<std::string> out;
  for (const auto& e : errors) out.push_back(e.to_string());
  return out;
}

inline std::string entry_string(const model::Unavailable& u) {
  return u.source + "|" + u.path + "|" + std::to_string(u.line) + "|" + u.field + "|" + u.reason;
}

inline std::vector<std::string> unavailable_strings(const model::Sample& s) {
  std::vector<std::string> out;
  for (const auto& u : s.unavailable) out.push_back(entry_string(u));
  return out;
}

}  // namespace vmtune::test
