// SPDX-License-Identifier: GPL-2.0-or-later
#include "core/result.hpp"

namespace vmtune::core {

const char* to_string(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::missing: return "missing";
    case ErrorKind::permission_denied: return "permission_denied";
    case ErrorKind::parse_error: return "parse_error";
    case ErrorKind::unsupported: return "unsupported";
    case ErrorKind::io_error: return "io_error";
    case ErrorKind::invalid_argument: return "invalid_argument";
  }
  return "unknown";
}

std::string Error::to_string() const {
  std::string out = path;
  if (line > 0) {
    out += ':' + std::to_string(line);
    if (column > 0) out += ':' + std::to_string(column);
  }
  if (!out.empty()) out += ": ";
  if (!field.empty()) out += "field \"" + field + "\": ";
  out += message;
  return out;
}

}  // namespace vmtune::core
