// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// Errors are values inside vmtune: every parser, collector and loader returns Result<T>.
// An Error names the logical path (as the user sees it: "/proc/meminfo", not a temp dir),
// the 1-based line and column where known, and the field.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace vmtune::core {

/// Kind of failure; maps to model::SourceState for collectors and to exit codes in app/.
enum class ErrorKind {
  missing,            ///< file or directory does not exist (ENOENT)
  permission_denied,  ///< EACCES/EPERM
  parse_error,        ///< content does not match the expected format
  unsupported,        ///< kernel or build lacks the feature
  io_error,           ///< other read/write failure
  invalid_argument,   ///< bad user input (option, rule file, config)
};

const char* to_string(ErrorKind kind) noexcept;

struct Error {
  ErrorKind kind = ErrorKind::io_error;
  std::string path;     ///< logical path, e.g. "/proc/meminfo" or "rules/swap.toml"
  int line = 0;         ///< 1-based; 0 when not applicable
  int column = 0;       ///< 1-based; 0 when not applicable
  std::string field;    ///< field or key name, empty when not applicable
  std::string message;  ///< what was expected / what went wrong

  /// "path:line:column: field "x": message" with empty parts omitted.
  std::string to_string() const;
};

/// Minimal expected-like type (std::expected arrives with C++23).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

/// Result for operations with no value.
struct Unit {};
using Status = Result<Unit>;
inline Status ok_status() { return Unit{}; }

inline Error make_error(ErrorKind kind, std::string path, std::string message, int line = 0,
                        std::string field = {}, int column = 0) {
  return Error{kind, std::move(path), line, column, std::move(field), std::move(message)};
}

}  // namespace vmtune::core
