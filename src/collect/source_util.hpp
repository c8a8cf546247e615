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

/// Records one problem with a source in sample.unavailable.
void note_unavailable(model::Sample& sample, const std::string& source, const core::Error& error);

/// Marks a source as not read, with the error as its reason, and records it.
template <typename T>
void fail_source(model::Sample& sample, model::Source<T>& src, const std::string& source,
                 const core::Error& error) {
  src.state = state_from(error.kind);
  src.value.reset();
  src.reason = error.to_string();
  note_unavailable(sample, source, error);
}

/// Stores a value; parse problems on single lines (`bad`) are recorded but keep the value.
template <typename T>
void set_source(model::Sample& sample, model::Source<T>& src, const std::string& source, T value,
                const std::vector<core::Error>& bad) {
  src.value = std::move(value);
  src.state = model::SourceState::ok;
  src.reason.clear();
  for (const auto& e : bad) note_unavailable(sample, source, e);
  if (!bad.empty()) src.reason = bad.front().to_string();
}

}  // namespace vmtune::collect
