// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// One way to open and read a file that vmtune did not write: without blocking on a FIFO or a
// device, with its type checked after open (fstat), and with a bound on its size. Reads of
// /proc, /sys and --root trees go through RootFs, which uses the same primitives; this header is
// for files a user names (--config, --rules) and for files reached through an untrusted
// process (postmaster.pid via /proc/PID/cwd).

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "core/result.hpp"

namespace vmtune::core {

/// Owns one file descriptor; closes it when it dies.
class UniqueFd {
 public:
  UniqueFd() noexcept = default;
  explicit UniqueFd(int fd) noexcept : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd();
  int get() const noexcept { return fd_; }
  bool valid() const noexcept { return fd_ >= 0; }
  int release() noexcept {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_ = -1;
};

/// How a file may be opened.
struct OpenPolicy {
  bool follow_final_link = true;      ///< false: O_NOFOLLOW on the last component
  std::optional<uid_t> owner;         ///< when set, the file must belong to this user
  std::size_t max_bytes = 16u << 20;  ///< larger files are refused (procfs files report size 0)
};

/// Opens `path` read-only with O_NONBLOCK|O_CLOEXEC (and O_NOFOLLOW unless the policy follows
/// links), then checks with fstat that it is a regular file within the policy. `logical` is the
/// name errors carry. A FIFO, device, socket, directory or symlink is refused, never read.
Result<UniqueFd> open_regular(const std::filesystem::path& path, const std::string& logical,
                              const OpenPolicy& policy = {});
/// The checks of open_regular on a file already opened: regular, owner, size.
Result<UniqueFd> check_regular(UniqueFd fd, const std::string& logical, const OpenPolicy& policy);
/// Same, relative to an open directory.
Result<UniqueFd> open_regular_at(int dirfd, const std::string& name, const std::string& logical,
                                 const OpenPolicy& policy = {});

/// Reads an opened file to EOF, refusing more than `max_bytes`. Errors name `logical`.
Result<std::string> read_all(int fd, const std::string& logical, std::size_t max_bytes);

/// open_regular + read_all: the one way to read a whole file named by a user.
Result<std::string> read_file(const std::filesystem::path& path, const std::string& logical,
                              const OpenPolicy& policy = {});
inline Result<std::string> read_file(const std::filesystem::path& path,
                                     const OpenPolicy& policy = {}) {
  return read_file(path, path.string(), policy);
}

/// Maps an errno value to an ErrorKind.
ErrorKind error_kind_from_errno(int err) noexcept;

/// An Error for a failed system call: kind from errno, message "<what>: <strerror>".
Error errno_error(int err, std::string logical, const std::string& what = {});

}  // namespace vmtune::core

namespace vmtune::core {

/// Checks that `target` may be written by replacing it: absent, or a regular file. A symlink,
/// directory, FIFO, device or socket is refused (it is not ours to replace).
Status check_output_target(const std::filesystem::path& target);

/// A file written beside its final name under a unique temporary name and renamed over the
/// target on commit(), after fsync of the file; the directory is fsynced after the rename.
/// Dropped without commit(), the temporary file is removed. Two writers to one target never
/// share a temporary file.
class AtomicFile {
 public:
  static Result<AtomicFile> create(const std::filesystem::path& target, unsigned mode = 0644);
  AtomicFile(AtomicFile&& other) noexcept;
  AtomicFile& operator=(AtomicFile&&) = delete;
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  ~AtomicFile();

  int fd() const noexcept { return fd_.get(); }
  const std::filesystem::path& temp_path() const noexcept { return temp_; }
  Status write(std::string_view data);
  /// fsync, rename over the target, fsync the directory. The object is spent afterwards.
  Status commit();

 private:
  AtomicFile(std::filesystem::path target, std::filesystem::path temp, UniqueFd fd,
             unsigned mode) noexcept
      : target_(std::move(target)), temp_(std::move(temp)), fd_(std::move(fd)), mode_(mode) {}
  std::filesystem::path target_;
  std::filesystem::path temp_;
  UniqueFd fd_;
  unsigned mode_ = 0644;
  bool done_ = false;
};

}  // namespace vmtune::core
