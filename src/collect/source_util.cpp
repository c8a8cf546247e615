// SPDX-License-Identifier: GPL-2.0-or-later
#include "collect/source_util.hpp"

#include <algorithm>

namespace vmtune::collect {

model::SourceState state_from(core::ErrorKind kind) noexcept {
  switch (kind) {
    case core::ErrorKind::missing:
      return model::SourceState::missing;
    case core::ErrorKind::permission_denied:
      return model::SourceState::permission_denied;
    case core::ErrorKind::parse_error:
      return model::SourceState::parse_error;
    case core::ErrorKind::unsupported:
      return model::SourceState::unsupported;
    case core::ErrorKind::io_error:
    case core::ErrorKind::invalid_argument:
      break;
  }
  return model::SourceState::missing;
}

void note_unavailable(model::Sample& sample, const std::string& source, const core::Error& error) {
  std::string reason = error.message;
  if (error.kind == core::ErrorKind::missing) {
    reason = "not present (" + error.message + ")";
  } else if (error.kind == core::ErrorKind::permission_denied) {
    // vmtune's own refusals ("refused: a symbolic link", a file of another user) and what root
    // itself is refused ("…, even to root") are not cured by more privileges: say only what
    // happened. Otherwise, not "run as root": root is refused some files too.
    const bool privileges_help = error.message.rfind("refused", 0) != 0 &&
                                 error.message.find("even to root") == std::string::npos;
    reason = privileges_help ? "permission denied (" + error.message +
                                   "); reading it needs root or the owner's privileges"
                             : error.message;
  }
  add_unavailable(
      sample, model::Unavailable{source, error.path, error.line, error.field, std::move(reason)});
}

void note_unavailable_all(model::Sample& sample, const std::string& source,
                          const std::vector<core::Error>& errors) {
  const std::size_t shown = std::min(errors.size(), kMaxUnavailablePerSource);
  for (std::size_t i = 0; i < shown; ++i) note_unavailable(sample, source, errors[i]);
  if (errors.size() > shown) {
    add_unavailable(sample, model::Unavailable{source, errors[shown].path, 0, "",
                                               "and " + std::to_string(errors.size() - shown) +
                                                   " more problems like the above"});
  }
}

void add_unavailable(model::Sample& sample, model::Unavailable entry) {
  // Newest first, and only the last few: duplicates come from the same collector, close
  // together, and a sample may hold thousands of entries (one per unreadable process file).
  constexpr std::size_t kWindow = 64;
  std::size_t looked = 0;
  for (auto it = sample.unavailable.rbegin(); it != sample.unavailable.rend() && looked < kWindow;
       ++it, ++looked) {
    if (it->line == entry.line && it->path == entry.path && it->field == entry.field &&
        it->source == entry.source && it->reason == entry.reason) {
      return;
    }
  }
  sample.unavailable.push_back(std::move(entry));
}

std::optional<std::string> read_optional(const core::RootFs& fs, core::Tree tree,
                                         const std::string& rel, std::vector<core::Error>* bad,
                                         const std::string& field) {
  auto text = fs.read_text(tree, rel);
  if (text) return std::move(*text);
  if (text.error().kind != core::ErrorKind::missing && bad != nullptr) {
    auto err = std::move(text).error();
    if (err.field.empty()) err.field = field;
    bad->push_back(std::move(err));
  }
  return std::nullopt;
}

core::Error unsupported_if_missing(core::Error err, std::string_view lacks) {
  if (err.kind == core::ErrorKind::missing) {
    err.kind = core::ErrorKind::unsupported;
    err.message = std::string(lacks) + ": " + err.message;
  }
  return err;
}

}  // namespace vmtune::collect
