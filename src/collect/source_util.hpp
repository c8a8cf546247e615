// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// Helpers every collector uses to turn core::Error into a Source state plus an Unavailable
// entry, so no reason is lost between the file and the report; and the read -> fail -> parse
// -> set sequence of a source that is one file (collect_file), or of a directory's optional
// files (read_optional, store_parsed), written once.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "core/root_fs.hpp"
#include "model/sample.hpp"

namespace vmtune::collect {

model::SourceState state_from(core::ErrorKind kind) noexcept;

/// Records one problem with a source in sample.unavailable, once: an entry equal to one
/// already listed (same source, path, line, field and reason) is not added again, so a file
/// read twice in one sample (a pool seen globally and per node, a retried read) shows once.
void note_unavailable(model::Sample& sample, const std::string& source, const core::Error& error);

/// Adds an entry to sample.unavailable unless an equal one is already there.
void add_unavailable(model::Sample& sample, model::Unavailable entry);

/// note_unavailable for each error, at most kMaxUnavailablePerSource of them; the rest are
/// counted in one entry (a damaged file must not cost more to report than to read).
inline constexpr std::size_t kMaxUnavailablePerSource = 50;
void note_unavailable_all(model::Sample& sample, const std::string& source,
                          const std::vector<core::Error>& errors);

/// Marks a source as not read, with the error kept on it, and records it. Problems found
/// on single lines before the whole file was given up (`bad`) are recorded too, so the report
/// names the damaged field and not only "no valid line".
template <typename T>
void fail_source(model::Sample& sample, model::Source<T>& src, const std::string& source,
                 const core::Error& error, const std::vector<core::Error>& bad = {}) {
  src.state = state_from(error.kind);
  src.value.reset();
  src.error = error;
  note_unavailable(sample, source, error);
  note_unavailable_all(sample, source, bad);
}

/// Stores a value; parse problems on single lines (`bad`) are recorded but keep the value, and
/// the first of them stays on the source as its error.
template <typename T>
void set_source(model::Sample& sample, model::Source<T>& src, const std::string& source, T value,
                const std::vector<core::Error>& bad) {
  src.value = std::move(value);
  src.state = model::SourceState::ok;
  src.error.reset();
  note_unavailable_all(sample, source, bad);
  if (!bad.empty()) src.error = bad.front();
}

/// A source that is one file: reads `rel` under `tree`, parses it with
/// `parse(text, logical_path, &bad)` (returning core::Result<T>) and stores the value with the
/// problems found on single lines. A failed read fails the source with the read error, passed
/// first through `explain` when given (to say which kernel option is missing); a failed parse
/// fails it with the parse error and the bad lines found before.
template <typename T, typename Parse>
void collect_file(model::Sample& sample, model::Source<T>& src, const std::string& source,
                  const core::RootFs& fs, core::Tree tree, const std::string& rel, Parse&& parse,
                  core::Error (*explain)(core::Error) = nullptr) {
  auto text = fs.read_text(tree, rel);
  if (!text) {
    auto err = std::move(text).error();
    return fail_source(sample, src, source, explain != nullptr ? explain(std::move(err)) : err);
  }
  std::vector<core::Error> bad;
  auto parsed = parse(*text, fs.logical(tree, rel), &bad);
  if (!parsed) return fail_source(sample, src, source, parsed.error(), bad);
  set_source(sample, src, source, std::move(*parsed), bad);
}

/// Reads a file that may be absent (older kernels lack some, per-node pools have no resv file,
/// the root cgroup no memory.current): nullopt, with nothing recorded, when it is missing. Any
/// other failure is recorded in `bad` (when not null), its field set to `field` when the error
/// names none.
std::optional<std::string> read_optional(const core::RootFs& fs, core::Tree tree,
                                         const std::string& rel, std::vector<core::Error>* bad,
                                         const std::string& field = {});

/// Moves a parsed value into `out`, or records the parse error in `bad` (when not null).
/// Returns whether a value was stored.
template <typename T, typename Out>
bool store_parsed(core::Result<T> parsed, Out& out, std::vector<core::Error>* bad) {
  if (!parsed) {
    if (bad != nullptr) bad->push_back(std::move(parsed).error());
    return false;
  }
  out = std::move(*parsed);
  return true;
}

/// The directory of a kernel feature is missing: the kernel lacks the feature. Turns a
/// `missing` error into `unsupported` with `lacks` before its message ("kernel without
/// hugetlbfs (CONFIG_HUGETLBFS off): …"); other errors are returned unchanged.
core::Error unsupported_if_missing(core::Error err, std::string_view lacks);

}  // namespace vmtune::collect
