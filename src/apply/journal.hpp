// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// The apply journal (bpftune's initial_values, kept on disk): one JSON file per `vmtune apply`
// run, written before anything is changed and rewritten after every write, so `vmtune rollback`
// can put back every value byte for byte, even after a kill -9 in the middle of a run.
//
// Format (version 1; every string through core::escape_text, so any bytes survive as valid
// UTF-8, and core::unescape_text gives them back):
//   { "format": "vmtune-apply-journal", "version": 1, "host": "...", "boot_id": "...",
//     "time": "2025-01-31T12:00:00.123456789Z", "vmtune_version": "0.1.0",
//     "state": "open" | "applied" | "failed" | "failed-restored" | "rolled-back",
//     "entries": [ { "key": "vm.swappiness", "tree": "proc" | "sys", "rel": "sys/vm/swappiness",
//                    "logical": "/proc/sys/vm/swappiness", "before": "60\x0a",
//                    "restore": "60\x0a", "requested": "10" | null, "after": "10\x0a" | null,
//                    "state": "saved" | "written" | "failed" | "restored" | "restore-failed" } ],
//     "files": [ { "path": "/etc/sysctl.d/99-vmtune.conf", "existed": false, "before": null,
//                  "mode": 420, "state": "pending" | "installed" | "restored" } ] }
// An entry whose "requested" is null was saved only: the partner of a vm.dirty_* ratio/bytes key,
// which the kernel zeroes when the other is written.
//
// The journal directory is root's own: created 0700 when missing, refused when it is a symbolic
// link, not a directory, writable by group or others, or (as root) not owned by root. Journal
// files are read without following a link, as regular files of at most 1 MiB owned by the
// caller, and validated field by field: a damaged, truncated or foreign file is an Error naming
// the file and the field.

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/file.hpp"
#include "core/result.hpp"
#include "core/root_fs.hpp"

namespace vmtune::apply {

inline constexpr int kJournalVersion = 1;
inline constexpr std::size_t kMaxJournalBytes = 1u << 20;

enum class JournalState {
  open,             ///< apply is writing (or was killed while writing): rollback completes it
  applied,          ///< every value written
  failed,           ///< a write failed and not everything could be restored: rollback needed
  failed_restored,  ///< a write failed and everything written was put back
  rolled_back,      ///< rollback put every value back
};

enum class EntryState {
  saved,           ///< journaled, not (yet) written
  written,         ///< written by apply (or zeroed by the kernel through its ratio/bytes partner)
  failed,          ///< the write failed; the kernel kept the value it had
  restored,        ///< put back (apply's failure path or rollback)
  restore_failed,  ///< putting it back failed
};

enum class FileState { pending, installed, restored };

const char* to_string(JournalState s) noexcept;
const char* to_string(EntryState s) noexcept;
const char* to_string(FileState s) noexcept;

/// One kernel value apply touches.
struct JournalEntry {
  std::string key;  ///< "vm.swappiness", "enabled", "memory.high"
  core::Tree tree = core::Tree::proc;
  std::string rel;      ///< relative to the tree: "sys/vm/swappiness"
  std::string logical;  ///< "/proc/sys/vm/swappiness", for people
  std::string before;   ///< raw text read before anything was changed
  std::string restore;  ///< what rollback writes (the bracketed word of "always [madvise] never")
  std::optional<std::string> requested;  ///< the value apply writes; none: saved only
  std::optional<std::string> after;      ///< raw text read back after writing
  EntryState state = EntryState::saved;
};

/// A file apply installs (the sysctl.d file, the tmpfiles line), with what it replaced.
struct JournalFile {
  std::filesystem::path path;         ///< absolute, on this machine
  std::optional<std::string> before;  ///< previous content; none: the file did not exist
  unsigned mode = 0644;               ///< previous permission bits (0644 for a new file)
  FileState state = FileState::pending;
};

struct Journal {
  int version = kJournalVersion;
  std::string host;
  std::string boot_id;
  std::string time;  ///< UTC, ISO 8601 with nanoseconds
  std::string vmtune_version;
  JournalState state = JournalState::open;
  std::vector<JournalEntry> entries;
  std::vector<JournalFile> files;
};

/// The journal as a JSON document (format above).
std::string to_json(const Journal& journal);
/// Parses and validates a journal document; errors name `logical` and the field
/// ("entries[2].before").
core::Result<Journal> parse_journal(std::string_view text, const std::string& logical);

/// Writes `journal` to `path` with core::AtomicFile (0600, fsync, rename, directory fsync).
core::Status write_journal(const std::filesystem::path& path, const Journal& journal);
/// Reads and validates a journal file (no-follow, regular, owned by the caller, <= 1 MiB).
core::Result<Journal> read_journal(const std::filesystem::path& path);

/// Creates the journal directory (0700, with missing parents), then check_journal_dir.
core::Status prepare_journal_dir(const std::filesystem::path& dir);
/// Refuses a journal directory that is a symbolic link, not a directory, writable by group or
/// others, or (as root) not owned by root.
core::Status check_journal_dir(const std::filesystem::path& dir);
/// Takes the lock "<dir>/.lock" (flock LOCK_EX|LOCK_NB); it is held until the fd is closed.
/// Held by another run: "another vmtune apply or rollback is running".
core::Result<core::UniqueFd> lock_journal_dir(const std::filesystem::path& dir);
/// A new journal's name in `dir`: "apply-<UTC time with ns>.json" (names sort by time).
std::filesystem::path new_journal_path(const std::filesystem::path& dir, std::string_view time);
/// The newest journal in `dir`, if any.
std::optional<std::filesystem::path> latest_journal(const std::filesystem::path& dir);
/// Every journal in `dir`, oldest first (by name: the UTC time, then the collision number).
std::vector<std::filesystem::path> journals(const std::filesystem::path& dir);

/// The current UTC time, ISO 8601 with nanoseconds ("2025-01-31T12:00:00.123456789Z").
std::string utc_now();

}  // namespace vmtune::apply
