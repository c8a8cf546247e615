// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// RootFs: the one place where /proc, /sys and /etc paths are built. Every collector asks for a
// path *relative* to one of the trees, so a captured snapshot (DIR/proc, DIR/sys, DIR/etc)
// replays through exactly the same code as the live machine. A fourth tree, `root`, is the
// file-system root itself ("/" live, DIR under --root) for the few files that live elsewhere
// (run/sysctl.d, usr/lib/sysctl.d); prefer proc/sys/etc whenever a file lives there. Errors
// carry the logical path ("/proc/meminfo"), never the directory a snapshot was unpacked into.
//
// Every read is safe against what a local user can put in the way (see core/file.hpp): files are
// opened with O_NONBLOCK and checked to be regular files of bounded size after opening. A tree
// that is not the live machine (--root DIR, --proc DIR) is opened with
// openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS), so no symlink in it resolves outside it
// (kernels without openat2: a component-wise walk that refuses symlinks). A snapshot archive is
// read into memory (MemTree) and never extracted to disk.

#include <sys/types.h>

#include <cstddef>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/file.hpp"
#include "core/result.hpp"

namespace vmtune::core {

enum class Tree { proc, sys, etc, root };

/// What a RootFs was asked for, recorded so `vmtune snapshot` stores exactly what the
/// collectors read. Keys are logical paths ("/proc/meminfo").
struct ReadRecord {
  std::map<std::string, std::string> files;  ///< successfully read files and their content
  std::map<std::string, std::vector<std::string>> dirs;  ///< listed directories and entries
  std::set<std::string> existing_dirs;    ///< paths found to be directories by exists()/is_dir()
  std::set<std::string> existing_files;   ///< paths found to exist (not directories)
  std::map<std::string, unsigned> modes;  ///< permission bits of files stat() was asked about
  /// Reads that failed other than with "missing" (e.g. permission denied), so a replay gives
  /// the same answer instead of "missing". Value: the error's kind and message.
  std::map<std::string, std::pair<ErrorKind, std::string>> failed_reads;
};

/// One captured reading held in memory: every file and directory by logical path
/// ("/proc/meminfo", "/etc/sysctl.d"). Directories list their entries' names, sorted.
struct MemTree {
  std::map<std::string, std::string, std::less<>> files;
  std::map<std::string, std::set<std::string>, std::less<>> dirs;
  std::map<std::string, unsigned, std::less<>> modes;  ///< files whose mode is not 0644
  /// Adds a file or directory and registers it (and its parents) in their parents' listings.
  void add(const std::string& logical, bool is_dir, std::string content = {});
};

enum class FileType { regular, directory, other };

/// What stat() tells about a path in a tree (links inside a captured tree are followed within
/// it, as reads follow them).
struct FileInfo {
  FileType type = FileType::other;
  unsigned mode = 0;  ///< permission bits (07777)
};

/// A directory reached through a process (its cwd), and whose it is.
struct ProcessDir {
  UniqueFd fd;          ///< O_RDONLY | O_DIRECTORY
  uid_t uid = 0;        ///< the process's real uid (/proc/PID/status "Uid:")
  std::string logical;  ///< "/proc/1234/cwd"
};

class RootFs {
 public:
  /// The live machine: /proc, /sys, /etc (and / for Tree::root).
  RootFs();
  /// A captured tree: DIR/proc, DIR/sys, DIR/etc (and DIR for Tree::root).
  static RootFs under(const std::filesystem::path& dir);
  /// A captured tree in a subdirectory of this one's DIR (an unpacked snapshot's "s0"), opened
  /// inside DIR: a link there ("s0 -> /") resolves inside DIR, never to the host.
  Result<RootFs> subtree(std::string_view sub) const;
  /// A reading held in memory (from a snapshot archive); every tree reads from `tree`.
  static RootFs in_memory(std::shared_ptr<const MemTree> tree);

  /// Points one tree at a directory (--proc DIR etc.), leaving the others as they are.
  void set_root(Tree tree, std::filesystem::path dir);
  const std::filesystem::path& root(Tree tree) const noexcept;
  /// True when every tree points at the running kernel's own mounts.
  bool is_live() const noexcept;
  /// True when this tree is the running machine's own (/proc, /sys, /etc, /).
  bool is_live(Tree tree) const noexcept;

  /// "/proc/<rel>": how the path reads on the machine the data came from.
  std::string logical(Tree tree, std::string_view rel) const;

  /// Reads a whole regular file (procfs files report size 0, so this reads until EOF). A FIFO,
  /// device, socket or directory is refused without blocking; files larger than max_bytes are
  /// an io_error naming the limit.
  Result<std::string> read_text(Tree tree, std::string_view rel,
                                std::size_t max_bytes = 16u << 20) const;
  /// Reads `name` inside the directory a process's magic link points at (pid 1234, link "cwd":
  /// postmaster.pid). On the live machine the link is followed (it is the process's own
  /// directory) but `name` is opened without following links, without blocking, and must be a
  /// regular file owned by the process's real user, so a user cannot make root read another
  /// user's file through it. In a captured tree it is an ordinary read of "<pid>/<link>/<name>".
  Result<std::string> read_in_process_dir(int pid, std::string_view link, std::string_view name,
                                          std::size_t max_bytes = 1u << 20) const;
  /// The live directory behind /proc/<pid>/<link>, opened for reading, with the process's real
  /// uid. Only on the live machine (unsupported otherwise).
  Result<ProcessDir> open_process_dir(int pid, std::string_view link) const;
  /// Names of the entries of a directory, sorted.
  Result<std::vector<std::string>> list_dir(Tree tree, std::string_view rel) const;
  /// Type and mode of a path; a missing path is an Error of kind `missing`.
  Result<FileInfo> stat(Tree tree, std::string_view rel) const;
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

  /// Where the file is on this machine, for the few APIs that need a path of their own (libbpf's
  /// BTF path, mount(2), the rules/config loaders under --root DIR). Empty for a tree held in
  /// memory. Reading through it bypasses every check of read_text: prefer read_text.
  std::filesystem::path real(Tree tree, std::string_view rel) const;

 private:
  Result<UniqueFd> open_path(Tree tree, std::string_view rel, int flags) const;
  Result<UniqueFd> open_regular_file(Tree tree, std::string_view rel,
                                     const OpenPolicy& policy) const;
  void record_failure(const std::string& logical, const Error& e) const;

  std::filesystem::path proc_;
  std::filesystem::path sys_;
  std::filesystem::path etc_;
  std::filesystem::path root_;
  /// Under --root DIR every tree resolves inside DIR itself (so a link to /etc/x in DIR/proc is
  /// DIR/etc/x); a tree pointed elsewhere by set_root resolves inside its own directory.
  std::filesystem::path anchor_;
  /// DIR opened once, so a component of DIR's path swapped for a link later changes nothing.
  std::shared_ptr<const UniqueFd> anchor_fd_;
  std::set<Tree> own_anchor_;           ///< trees set by set_root after under()
  std::shared_ptr<const MemTree> mem_;  ///< set: every tree without a directory reads from it
  std::set<Tree> dir_trees_;            ///< trees pointed at a directory despite mem_
  std::shared_ptr<ReadRecord> record_;
  std::shared_ptr<const std::map<std::string, std::pair<ErrorKind, std::string>>> replay_failures_;
};

/// Opens `rel` below the directory `root_fd` so that nothing resolves outside it:
/// openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS), or, where the kernel lacks openat2 or
/// `force_walk` is set, a walk one component at a time that refuses symlinks and "..".
/// `flags` are open(2) flags (O_CLOEXEC is added).
Result<UniqueFd> open_beneath(int root_fd, std::string_view rel, int flags,
                              const std::string& logical, bool force_walk = false);

}  // namespace vmtune::core
