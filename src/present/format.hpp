// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// Formatting shared by every front end: sizes, rates, durations, percentages.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vmtune::present {

/// 1536 -> "1.5 KiB"; exact below 1 KiB ("512 B").
std::string bytes(std::uint64_t n);
/// Fixed-point with `decimals` digits, trailing zeros kept ("3.50").
std::string fixed(double v, int decimals);
/// 12.3456 -> "12.35/s"
std::string rate(double per_sec);
/// Microseconds -> "850 µs", "12.5 ms", "3.20 s".
std::string duration_us(double us);
/// 0.1234 -> "12.3%"
std::string percent(double fraction);

/// A command line for people: every argument through core::escape_text (vmtune(8), "Untrusted
/// text"), joined by single spaces: {"sleep", "60"} -> "sleep 60"; a byte 0xff -> \xff.
std::string command_line(const std::vector<std::string>& argv);
/// At most `max_chars` characters of `text` (valid UTF-8, e.g. escape_text output), cut at a
/// character boundary; "…" replaces the last kept character when text was cut.
std::string truncate_text(std::string_view text, std::size_t max_chars);

}  // namespace vmtune::present
