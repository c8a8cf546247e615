// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// Formatting shared by every front end: sizes, rates, durations, percentages.

#include <cstdint>
#include <string>

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

}  // namespace vmtune::present
