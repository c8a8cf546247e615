// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// Values that rule expressions compute with: a number, a boolean or a string, or "missing"
// (a metric the sample does not have, with the reason). Missing is not a value a rule can
// compare: it makes the rule *not evaluated*, never a false finding.

#include <optional>
#include <string>
#include <variant>

namespace vmtune::rules {

/// Static type of an expression, checked when a rule file is loaded. `any` is a metric whose
/// type is known only at run time (a sysctl is a number when numeric, a string otherwise).
enum class Type { number, boolean, string, any };
const char* to_string(Type t) noexcept;

/// A computed value.
using Value = std::variant<double, bool, std::string>;

/// The result of evaluating an expression: a value, or the reason it could not be computed
/// (a missing metric, a metric of the wrong run-time type, a division by zero).
struct Eval {
  std::optional<Value> value;
  std::string missing;  ///< set when value is empty: "needs /proc/pressure/memory: missing"

  static Eval of(Value v) { return Eval{std::move(v), {}}; }
  static Eval absent(std::string reason) { return Eval{std::nullopt, std::move(reason)}; }
  bool ok() const noexcept { return value.has_value(); }
};

/// Numbers print as integers when integral, else with up to 4 decimals ("0.0345", "12.5").
std::string format_number(double x);
/// Text form of a value: numbers via format_number, booleans "true"/"false", strings as is.
std::string to_text(const Value& v);
/// Parses a whole string as a number ("60", "0.5", " 12 "); nullopt otherwise.
std::optional<double> parse_number(const std::string& text) noexcept;

}  // namespace vmtune::rules
