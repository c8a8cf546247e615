// SPDX-License-Identifier: GPL-2.0-or-later
#include "core/escape.hpp"

#include <cstdint>
#include <cstdio>

namespace vmtune::core {
namespace {

void hex_byte(std::string& out, unsigned char c) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "\\x%02x", c);
  out += buf;
}

// Length of a valid UTF-8 sequence starting at s[i], or 0.
std::size_t utf8_len(std::string_view s, std::size_t i, std::uint32_t* cp) {
  const auto c = static_cast<unsigned char>(s[i]);
  std::size_t n = 0;
  std::uint32_t v = 0;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
    v = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    v = c & 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    v = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    const auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return 0;
    v = (v << 6) | (cc & 0x3F);
  }
  if ((n == 3 && v < 0x800) || (n == 4 && (v < 0x10000 || v > 0x10FFFF)) ||
      (v >= 0xD800 && v <= 0xDFFF)) {
    return 0;
  }
  *cp = v;
  return n;
}

bool dangerous_codepoint(std::uint32_t cp) {
  // C1 controls, bidi embedding/override/isolate controls, line/paragraph separators.
  return (cp >= 0x80 && cp <= 0x9F) || (cp >= 0x202A && cp <= 0x202E) ||
         (cp >= 0x2066 && cp <= 0x2069) || cp == 0x2028 || cp == 0x2029 || cp == 0x200E ||
         cp == 0x200F || cp == 0x061C;
}

}  // namespace

std::string escape_text(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size();) {
    const auto c = static_cast<unsigned char>(raw[i]);
    if (c == '\\') {
      out += "\\\\";
      ++i;
    } else if (c >= 0x20 && c < 0x7F) {
      out += static_cast<char>(c);
      ++i;
    } else if (c < 0x80) {
      hex_byte(out, c);
      ++i;
    } else {
      std::uint32_t cp = 0;
      const std::size_t n = utf8_len(raw, i, &cp);
      if (n == 0) {
        hex_byte(out, c);
        ++i;
      } else if (dangerous_codepoint(cp)) {
        char buf[16];
        std::snprintf(buf, sizeof buf, "\\u{%x}", cp);
        out += buf;
        i += n;
      } else {
        out.append(raw.substr(i, n));
        i += n;
      }
    }
  }
  return out;
}

std::string escape_markdown(std::string_view raw) {
  std::string out;
  for (const char c : escape_text(raw)) {
    if (c == '|' || c == '`' || c == '*' || c == '_' || c == '<' || c == '>' || c == '[' ||
        c == ']') {
      out += '\\';
    }
    out += c;
  }
  return out;
}

}  // namespace vmtune::core
