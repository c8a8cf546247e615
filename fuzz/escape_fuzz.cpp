// SPDX-License-Identifier: GPL-2.0-or-later
// escape_text() output must never contain a control byte, whatever the input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/escape.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const auto out = vmtune::core::escape_text(in);
  for (const char c : out) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) std::abort();
  }
  (void)vmtune::core::escape_markdown(in);
  return 0;
}
