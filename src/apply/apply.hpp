// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// `vmtune apply` and `vmtune rollback` as a library: it writes kernel values and returns what
// happened; it prints nothing (app/ does). Every write goes through one writer that journals the
// value it replaces first (bpftune's initial_values, see apply/journal.hpp), writes it with one
// write(2) as sysctl(8) does, reads it back and records what the kernel took. A failed write
// puts back everything written before it in the same run; rollback puts back everything a
// journal holds. PostgreSQL settings and kernel command-line parameters are never applied.

#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "apply/journal.hpp"
#include "core/result.hpp"
#include "core/root_fs.hpp"
#include "plan/plan.hpp"

namespace vmtune::apply {

/// One kernel value to write.
struct Write {
  std::string key;  ///< Change::key: "vm.swappiness", "enabled", "hugepages-2048kB", "memory.high"
  core::Tree tree = core::Tree::proc;
  std::string rel;      ///< relative to the tree: "sys/vm/swappiness"
  std::string logical;  ///< "/proc/sys/vm/swappiness"
  std::string value;
  std::vector<std::string> rules;  ///< the rule ids that propose it
};

/// The plan's changes that apply can write: kinds sysctl, thp, hugetlb and cgroup without a
/// `problem`, at a path under /proc or /sys; never PostgreSQL settings or boot parameters.
/// `only`, when not empty, keeps the changes whose Change::key it names.
std::vector<Write> writes_from(const plan::Plan& plan, const std::vector<std::string>& only);

/// A file `--persist` installs (the sysctl.d file, the tmpfiles file).
struct PersistFile {
  std::filesystem::path path;  ///< the real path on this machine
  std::string content;
};

inline const std::filesystem::path kDefaultJournalDir = "/var/lib/vmtune/journal";

struct ApplyOptions {
  std::filesystem::path journal_dir = kDefaultJournalDir;
  bool dry_run = false;  ///< read only: nothing is written, not even the journal
  std::vector<PersistFile> persist;
  /// Called before each value is written, after the journal is on disk (progress display).
  /// Tests use it to make a write fail, or to stop the process, halfway.
  std::function<void(const Write&)> before_write;
};

/// What happened to one key. Values are raw bytes as read or written: escape before display.
struct KeyOutcome {
  std::string key;
  std::string logical;
  std::string before;     ///< raw text read before this run changed it
  std::string requested;  ///< what was (dry run: would be) written; empty when not written
  std::string after;      ///< raw text read back after writing; empty when not written
  std::string granted;    ///< `after` normalised ("512", the bracketed word of a THP file)
  bool written = false;
  bool took = false;      ///< granted == requested (vm.nr_hugepages can come back smaller)
  bool restored = false;  ///< put back (apply: after a later write failed)
};

/// What happened to one persist file.
struct FileOutcome {
  std::filesystem::path path;
  bool existed = false;  ///< before this run
  std::string action;    ///< "install", "restore", "remove", "none"
};

struct Outcome {
  std::filesystem::path journal;  ///< the journal written or read; empty in a dry run
  bool dry_run = false;
  JournalState state = JournalState::open;  ///< the journal's state at the end
  std::vector<KeyOutcome> keys;             ///< in the order written
  std::vector<FileOutcome> files;
  std::vector<std::string> messages;  ///< notes for the user, already escaped for display
  /// The write that failed (field: the key; message: why, with a hint). Set: everything written
  /// before it was put back (state failed_restored), or the journal says what was not (failed).
  std::optional<core::Error> failure;
};

/// Applies `writes` (and opts.persist files) on `fs`: lock, journal every value it will touch
/// (and the ratio/bytes partner of a vm.dirty_* key), then write them one by one. An Error means
/// nothing was changed (no lock, journal directory refused, full disk, unreadable value, a
/// previous run's journal left "open" or "failed": roll that back first);
/// a failed write is Outcome::failure, with everything before it restored.
core::Result<Outcome> apply(const core::RootFs& fs, const std::vector<Write>& writes,
                            const ApplyOptions& opts);

/// Puts back every value and file a journal holds, in reverse order, and marks it rolled back.
/// A journal from another host or boot is refused (with the reason) unless `force`. A journal
/// already rolled back (or restored after a failed apply) changes nothing. A journal left "open"
/// by a killed apply is rolled back the same way.
core::Result<Outcome> rollback(const core::RootFs& fs, const std::filesystem::path& journal,
                               bool force);

/// What rollback writes to restore `raw`: the bracketed word of a THP-style file
/// ("always [madvise] never\n" -> "madvise"), else `raw` unchanged.
std::string restore_value(std::string_view raw);

}  // namespace vmtune::apply
