// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// Helpers every collector uses to turn core::Error into a Source state plus an Unavailable
// entry, so no reason is lost between the file and the report.

#include <string>
#include <vector>

#include "core/result.hpp"
#include "model/sample.hpp"

namespace vmtune::collect {

model::SourceState state_from(core::ErrorKind kind) noexcept;

/// Records one problem with a source in sample.unavailable, once: an entry equal to one
/// already listed (same source, path, line, field and reason) is not added again, so a file
/// read twice in one sample (a pool seen globally and per node, a retried read) shows once.
void note_unavailable(model::Sample& sample, const std::string& source, const core::Error& error);

/// Adds an entry to sample.unavailable unless an equal one is already there.
void add_unavailable(model::Sample& sample, model::Unavailable entry);

/// Marks a source as not read, with the error as its reason, and records it. Problems found
/// on single lines before the whole file was given up (`bad`) are recorded too, so the report
/// names the damaged field and not only "no valid line".
/// note_unavailable for each error, at most kMaxUnavailablePerSource of them; the rest are
/// counted in one entry (a damaged file must not cost more to report than to read).
inline constexpr std::size_t kMaxUnavailablePerSource = 50;
void note_unavailable_all(model::Sample& sample, const std::string& source,
                          const std::vector<core::Error>& errors);

template <typename T>
void fail_source(model::Sample& sample, model::Source<T>& src, const std::string& source,
                 const core::Error& error, const std::vector<core::Error>& bad = {}) {
  src.state = state_from(error.kind);
  src.value.reset();
  src.reason = error.to_string();
  note_unavailable(sample, source, error);
  note_unavailable_all(sample, source, bad);
}

/// Stores a value; parse problems on single lines (`bad`) are recorded but keep the value.
template <typename T>
void set_source(model::Sample& sample, model::Source<T>& src, const std::string& source, T value,
                const std::vector<core::Error>& bad) {
  src.value = std::move(value);
  src.state = model::SourceState::ok;
  src.reason.clear();
  note_unavailable_all(sample, source, bad);
  if (!bad.empty()) src.reason = bad.front().to_string();
}

}  // namespace vmtune::collect
