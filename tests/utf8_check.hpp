// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// Well-formed UTF-8 (Unicode 15, table 3-7), written apart from src/core/escape.cpp on purpose:
// the tests and fuzzers that check the escape's output must not share its code. Header-only and
// free of GoogleTest, so the fuzzers include it too.

#include <cstddef>
#include <string_view>

namespace vmtune::test {

/// True when `str` is well-formed UTF-8; with `allow_controls` false, also free of C0 controls
/// and DEL.
inline bool valid_utf8(std::string_view str, bool allow_controls = true) {
  const auto* s = reinterpret_cast<const unsigned char*>(str.data());
  const std::size_t n = str.size();
  auto in = [](unsigned char c, unsigned lo, unsigned hi) { return c >= lo && c <= hi; };
  for (std::size_t i = 0; i < n;) {
    const unsigned char c = s[i];
    std::size_t len = 0;
    unsigned lo2 = 0x80, hi2 = 0xBF;
    if (!allow_controls && (c < 0x20 || c == 0x7f)) return false;
    if (c < 0x80) {
      len = 1;
    } else if (in(c, 0xC2, 0xDF)) {
      len = 2;
    } else if (in(c, 0xE0, 0xEF)) {
      len = 3;
      if (c == 0xE0) lo2 = 0xA0;
      if (c == 0xED) hi2 = 0x9F;
    } else if (in(c, 0xF0, 0xF4)) {
      len = 4;
      if (c == 0xF0) lo2 = 0x90;
      if (c == 0xF4) hi2 = 0x8F;
    } else {
      return false;
    }
    if (i + len > n) return false;
    if (len > 1 && !in(s[i + 1], lo2, hi2)) return false;
    for (std::size_t k = 2; k < len; ++k) {
      if (!in(s[i + k], 0x80, 0xBF)) return false;
    }
    i += len;
  }
  return true;
}

}  // namespace vmtune::test
