// SPDX-License-Identifier: GPL-2.0-or-later
#include "core/escape.hpp"

#include <cstdint>

namespace vmtune::core {
namespace {

constexpr char kHex[] = "0123456789abcdef";

void hex_byte(std::string& out, unsigned char c) {
  out += "\\x";
  out += kHex[c >> 4];
  out += kHex[c & 0xF];
}

void hex_codepoint(std::string& out, std::uint32_t cp) {
  out += "\\u{";
  bool started = false;
  for (int shift = 20; shift >= 0; shift -= 4) {
    const auto nibble = (cp >> shift) & 0xF;
    if (nibble != 0 || started || shift == 0) {
      out += kHex[nibble];
      started = true;
    }
  }
  out += '}';
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
  // C1 controls, bidi embedding/override/isolate controls and marks, line/paragraph separators.
  return (cp >= 0x80 && cp <= 0x9F) || (cp >= 0x202A && cp <= 0x202E) ||
         (cp >= 0x2066 && cp <= 0x2069) || cp == 0x2028 || cp == 0x2029 || cp == 0x200E ||
         cp == 0x200F || cp == 0x061C;
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void escape_into(std::string& out, std::string_view raw) {
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
      } else {
        if (dangerous_codepoint(cp)) {
          hex_codepoint(out, cp);
        } else {
          out.append(raw.substr(i, n));
        }
        i += n;
      }
    }
  }
}

}  // namespace

std::string escape_text(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  escape_into(out, raw);
  return out;
}

std::string escape_lines(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (;;) {
    const auto nl = raw.find('\n');
    escape_into(out, raw.substr(0, nl));
    if (nl == std::string_view::npos) break;
    out += '\n';
    raw.remove_prefix(nl + 1);
  }
  return out;
}

std::string unescape_text(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    if (s[i] != '\\' || i + 1 >= s.size()) {
      out += s[i++];
      continue;
    }
    const char kind = s[i + 1];
    if (kind == '\\') {
      out += '\\';
      i += 2;
      continue;
    }
    if (kind == 'x' && i + 3 < s.size()) {
      const int hi = hex_value(s[i + 2]);
      const int lo = hex_value(s[i + 3]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>((hi << 4) | lo);
        i += 4;
        continue;
      }
    }
    if (kind == 'u' && i + 2 < s.size() && s[i + 2] == '{') {
      std::uint32_t cp = 0;
      std::size_t k = i + 3;
      std::size_t digits = 0;
      while (k < s.size() && digits <= 6 && hex_value(s[k]) >= 0) {
        cp = (cp << 4) | static_cast<std::uint32_t>(hex_value(s[k]));
        ++k;
        ++digits;
      }
      if (digits >= 1 && digits <= 6 && k < s.size() && s[k] == '}' && cp <= 0x10FFFF &&
          !(cp >= 0xD800 && cp <= 0xDFFF)) {
        append_utf8(out, cp);
        i = k + 1;
        continue;
      }
    }
    out += s[i++];  // not an escape escape_text writes: keep the backslash as it is
  }
  return out;
}

std::string escape_markdown(std::string_view raw) {
  const std::string text = escape_text(raw);
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (const char c : text) {
    switch (c) {
      case '\\':
      case '|':
      case '`':
      case '*':
      case '_':
      case '<':
      case '>':
      case '[':
      case ']':
      case '&':
      case '~':
        out += '\\';
        break;
      default:
        break;
    }
    out += c;
  }
  return out;
}

}  // namespace vmtune::core
