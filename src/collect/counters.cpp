// SPDX-License-Identifier: GPL-2.0-or-later
#include "collect/counters.hpp"

#include "core/parse.hpp"

namespace vmtune::collect {

core::Result<model::Counters> parse_counters(std::string_view text, const std::string& logical_path,
                                             std::vector<core::Error>* bad,
                                             std::string_view format) {
  model::Counters out;
  for (auto& [name, value] : core::parse_key_space_u64(text, logical_path, bad)) {
    out.insert_or_assign(std::move(name), value);
  }
  if (out.empty()) {
    return core::nothing_parsed(logical_path, text, "no " + std::string(format) + " line found");
  }
  return out;
}

}  // namespace vmtune::collect
