// SPDX-License-Identifier: GPL-2.0-or-later
#include "present/format.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstdio>

#include "core/escape.hpp"

namespace vmtune::present {

std::string fixed(double v, int decimals) { return fmt::format("{:.{}f}", v, decimals); }

std::string bytes(std::uint64_t n) {
  static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (n < 1024) return std::to_string(n) + " B";
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024 && u < 6) {
    v /= 1024;
    ++u;
  }
  return fixed(v, v < 10 ? 2 : (v < 100 ? 1 : 0)) + " " + kUnits[u];
}

std::string rate(double per_sec) {
  if (std::fabs(per_sec) >= 100) return fixed(per_sec, 0) + "/s";
  return fixed(per_sec, 2) + "/s";
}

std::string duration_us(double us) {
  if (us < 1000) return fixed(us, 0) + " µs";
  if (us < 1e6) return fixed(us / 1000, us < 1e4 ? 2 : 1) + " ms";
  return fixed(us / 1e6, 2) + " s";
}

std::string percent(double fraction) { return fixed(fraction * 100, 1) + "%"; }

std::string command_line(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& arg : argv) {
    if (!out.empty()) out += ' ';
    out += core::escape_text(arg);
  }
  return out;
}

std::string truncate_text(std::string_view text, std::size_t max_chars) {
  if (max_chars == 0) return {};
  std::size_t chars = 0;
  std::size_t cut = 0;  // byte offset after the (max_chars - 1)th character
  for (std::size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) continue;  // continuation byte
    if (chars == max_chars - 1) cut = i;
    if (++chars > max_chars) return std::string(text.substr(0, cut)) + "…";
  }
  return std::string(text);
}

}  // namespace vmtune::present
