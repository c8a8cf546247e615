// SPDX-License-Identifier: GPL-2.0-or-later
// Rule files are user input: any bytes must load or fail with file:line:column, never crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "rules/loader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto r = vmtune::rules::parse_rule_file(text, "rules/fuzz.toml");
  if (!r.ok() && r.error().path != "rules/fuzz.toml") std::abort();
  return 0;
}
