// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// RootFs: the one place where /proc, /sys and /etc paths are built. Every collector asks for a
// path *relative* to one of the trees, so a captured snapshot (DIR/proc, DIR/sys, DIR/etc)
// replays through exactly the same code as the live machine. A fourth tree, `root`, is the
// file-system root itself ("/" live, DIR under --root) for the few files that live elsewhere
// (run/sysctl.d, usr/lib/sysctl.d); prefer proc/sys/etc whenever a file lives there. Errors
// carry the logical path ("/proc/meminfo"), never the directory a snapshot was unpacked into.

#include <cstddef>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace vmtune::core {

enum class Tree { proc, sys, etc, root };

/// What a RootFs was asked for, recorded so `vmtune snapshot` stores exactly what the
/// collectors read. Keys are logical paths ("/proc/meminfo").
struct ReadRecord {
  std::map<std::string, std::string> files;  ///< successfully read files and their content
  std::map<std::string, std::vector<std::string>> dirs;  ///< listed directories and entries
  std::set<std::string> existing_dirs;  ///< paths found to be directories by exists()/is_dir()
  std::set<std::string> existing_files; ///< paths found to exist (not directories)
  /// Reads that failed other than with "missing" (e.g. permission denied), so a replay gives
  /// the same answer instead of "missing". Value: the error's kind and message.
  std::map<std::string, std::pair<ErrorKind, std::string>> failed_reads;
};

class RootFs {
 public:
  /// The live machine: /proc, /sys, /etc (and / for Tree::root).
  RootFs();
  /// A captured tree: DIR/proc, DIR/sys, DIR/etc (and DIR for Tree::root).
  static RootFs under(const std::filesystem::path& dir);

  void set_root(Tree tree, std::filesystem::path dir);
  const std::filesystem::path& root(Tree tree) const noexcept;
  /// True when every tree points at the running kernel's own mounts.
  bool is_live() const noexcept;

  /// "/proc/<rel>": how the path reads on the machine the data came from.
  std::string logical(Tree tree, std::string_view rel) const;
  /// Where the file is on this machine.
  std::filesystem::path real(Tree tree, std::string_view rel) const;

  /// Reads a whole file (procfs files report size 0, so this reads until EOF).
  /// Files larger than max_bytes are an io_error naming the limit.
  Result<std::string> read_text(Tree tree, std::string_view rel,
                                std::size_t max_bytes = 64u << 20) const;
  /// Names of the entries of a directory, sorted.
  Result<std::vector<std::string>> list_dir(Tree tree, std::string_view rel) const;
  bool exists(Tree tree, std::string_view rel) const;
  bool is_dir(Tree tree, std::string_view rel) const;
  /// Writes a whole file with a single write(2) (as sysctl(8) does for /proc/sys).
  Status write_text(Tree tree, std::string_view rel, std::string_view content) const;

  /// Starts recording every successful read, listing and existence check into `record`.
  void record_into(std::shared_ptr<ReadRecord> record) { record_ = std::move(record); }
  const std::shared_ptr<ReadRecord>& record() const noexcept { return record_; }
  /// Replay: reads of these logical paths fail with the recorded error (see ReadRecord).
  void replay_failures(std::map<std::string, std::pair<ErrorKind, std::string>> failures) {
    replay_failures_ = std::make_shared<const decltype(failures)>(std::move(failures));
  }

 private:
  std::filesystem::path proc_;
  std::filesystem::path sys_;
  std::filesystem::path etc_;
  std::filesystem::path root_;
  std::shared_ptr<ReadRecord> record_;
  std::shared_ptr<const std::map<std::string, std::pair<ErrorKind, std::string>>> replay_failures_;
};

/// Maps an errno value to an ErrorKind.
ErrorKind error_kind_from_errno(int err) noexcept;

}  // namespace vmtune::core
