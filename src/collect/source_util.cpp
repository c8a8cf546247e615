// SPDX-License-Identifier: GPL-2.0-or-later
#include "collect/source_util.hpp"

namespace vmtune::collect {

model::SourceState state_from(core::ErrorKind kind) noexcept {
  switch (kind) {
    case core::ErrorKind::missing: return model::SourceState::missing;
    case core::ErrorKind::permission_denied: return model::SourceState::permission_denied;
    case core::ErrorKind::parse_error: return model::SourceState::parse_error;
    case core::ErrorKind::unsupported: return model::SourceState::unsupported;
    case core::ErrorKind::io_error:
    case core::ErrorKind::invalid_argument: break;
  }
  return model::SourceState::missing;
}

void note_unavailable(model::Sample& sample, const std::string& source, const core::Error& error) {
  std::string reason = error.message;
  if (error.kind == core::ErrorKind::missing) {
    reason = "not present (" + error.message + ")";
  } else if (error.kind == core::ErrorKind::permission_denied) {
    // Not "run as root": root is refused some files too (another user namespace, lockdown).
    reason = "permission denied (" + error.message + "); reading it needs root or the owner's "
             "privileges";
  }
  sample.unavailable.push_back(
      model::Unavailable{source, error.path, error.line, error.field, std::move(reason)});
}

}  // namespace vmtune::collect
