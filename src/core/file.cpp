// SPDX-License-Identifier: GPL-2.0-or-later
#include "core/file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace vmtune::core {
namespace {

const char* type_name(mode_t mode) noexcept {
  switch (mode & S_IFMT) {
    case S_IFDIR:
      return "a directory";
    case S_IFIFO:
      return "a FIFO";
    case S_IFCHR:
      return "a character device";
    case S_IFBLK:
      return "a block device";
    case S_IFSOCK:
      return "a socket";
    case S_IFLNK:
      return "a symbolic link";
    default:
      return "not a regular file";
  }
}

}  // namespace

Result<UniqueFd> check_regular(UniqueFd fd, const std::string& logical, const OpenPolicy& policy) {
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return errno_error(errno, logical, "fstat");
  if (!S_ISREG(st.st_mode)) {
    return make_error(ErrorKind::invalid_argument, logical,
                      std::string("refused: ") + type_name(st.st_mode) + ", not a regular file");
  }
  if (policy.owner && st.st_uid != *policy.owner) {
    return make_error(ErrorKind::permission_denied, logical,
                      "refused: owned by uid " + std::to_string(st.st_uid) + ", expected uid " +
                          std::to_string(*policy.owner));
  }
  if (st.st_size > 0 && static_cast<std::uint64_t>(st.st_size) > policy.max_bytes) {
    return make_error(ErrorKind::io_error, logical,
                      "file larger than " + std::to_string(policy.max_bytes) + " bytes");
  }
  return fd;
}

namespace {

int open_flags(const OpenPolicy& policy) noexcept {
  return O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY | (policy.follow_final_link ? 0 : O_NOFOLLOW);
}

}  // namespace

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.release();
  }
  return *this;
}

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) ::close(fd_);
}

ErrorKind error_kind_from_errno(int err) noexcept {
  switch (err) {
    case ENOENT:
    case ENOTDIR:
    case ESRCH:  // /proc/PID of a process that exited
      return ErrorKind::missing;
    case EACCES:
    case EPERM:
      return ErrorKind::permission_denied;
    case EOPNOTSUPP:
    case ENOSYS:
    case ENODEV:
      return ErrorKind::unsupported;
    case EINVAL:
      return ErrorKind::invalid_argument;
    default:
      return ErrorKind::io_error;
  }
}

Error errno_error(int err, std::string logical, const std::string& what) {
  std::string msg = err == ELOOP ? "refused: a symbolic link" : std::strerror(err);
  if (!what.empty() && err != ELOOP) msg = what + ": " + msg;
  return make_error(err == ELOOP ? ErrorKind::permission_denied : error_kind_from_errno(err),
                    std::move(logical), std::move(msg));
}

Result<UniqueFd> open_regular(const std::filesystem::path& path, const std::string& logical,
                              const OpenPolicy& policy) {
  UniqueFd fd(::open(path.c_str(), open_flags(policy)));
  if (!fd.valid()) return errno_error(errno, logical);
  return check_regular(std::move(fd), logical, policy);
}

Result<UniqueFd> open_regular_at(int dirfd, const std::string& name, const std::string& logical,
                                 const OpenPolicy& policy) {
  UniqueFd fd(::openat(dirfd, name.c_str(), open_flags(policy)));
  if (!fd.valid()) return errno_error(errno, logical);
  return check_regular(std::move(fd), logical, policy);
}

Result<std::string> read_all(int fd, const std::string& logical, std::size_t max_bytes) {
  std::string out;
  char buf[16384];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_error(errno, logical, "read");
    }
    if (n == 0) break;
    if (out.size() + static_cast<std::size_t>(n) > max_bytes) {
      return make_error(ErrorKind::io_error, logical,
                        "file larger than " + std::to_string(max_bytes) + " bytes");
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

Result<std::string> read_file(const std::filesystem::path& path, const std::string& logical,
                              const OpenPolicy& policy) {
  auto fd = open_regular(path, logical, policy);
  if (!fd) return std::move(fd).error();
  return read_all(fd->get(), logical, policy.max_bytes);
}

}  // namespace vmtune::core

namespace vmtune::core {

Status check_output_target(const std::filesystem::path& target) {
  if (target.empty()) {
    return make_error(ErrorKind::invalid_argument, "''", "empty output file name");
  }
  struct stat st {};
  if (::lstat(target.c_str(), &st) != 0) {
    if (errno == ENOENT) return ok_status();
    return errno_error(errno, target.string());
  }
  if (!S_ISREG(st.st_mode)) {
    return make_error(ErrorKind::invalid_argument, target.string(),
                      std::string("refused: ") + type_name(st.st_mode) +
                          " exists there; vmtune only replaces regular files");
  }
  return ok_status();
}

Result<AtomicFile> AtomicFile::create(const std::filesystem::path& target, unsigned mode) {
  if (auto ok = check_output_target(target); !ok) return std::move(ok).error();
  const auto dir = target.has_parent_path() ? target.parent_path() : std::filesystem::path(".");
  std::string tmpl = (dir / ("." + target.filename().string() + ".XXXXXX")).string();
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  UniqueFd fd(::mkostemp(buf.data(), O_CLOEXEC));
  if (!fd.valid()) {
    return errno_error(errno, target.string(), "cannot create a temporary file beside it");
  }
  return AtomicFile(target, std::filesystem::path(buf.data()), std::move(fd), mode);
}

AtomicFile::AtomicFile(AtomicFile&& other) noexcept
    : target_(std::move(other.target_)),
      temp_(std::move(other.temp_)),
      fd_(std::move(other.fd_)),
      mode_(other.mode_),
      done_(other.done_) {
  other.done_ = true;
}

AtomicFile::~AtomicFile() {
  if (!done_ && !temp_.empty()) ::unlink(temp_.c_str());
}

Status AtomicFile::write(std::string_view data) {
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd_.get(), data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_error(errno, target_.string(), "write");
    }
    done += static_cast<std::size_t>(n);
  }
  return ok_status();
}

Status AtomicFile::commit() {
  if (done_) return make_error(ErrorKind::io_error, target_.string(), "already committed");
  if (::fchmod(fd_.get(), mode_) != 0) return errno_error(errno, target_.string(), "fchmod");
  if (::fsync(fd_.get()) != 0) return errno_error(errno, target_.string(), "fsync");
  if (::close(fd_.release()) != 0) return errno_error(errno, target_.string(), "close");
  // Checked again just before the rename: the target may have changed since create().
  if (auto ok = check_output_target(target_); !ok) return ok;
  if (::rename(temp_.c_str(), target_.c_str()) != 0) {
    return errno_error(errno, target_.string(), "rename");
  }
  done_ = true;
  const auto dir = target_.has_parent_path() ? target_.parent_path() : std::filesystem::path(".");
  // The rename is durable only once the directory is: a journal must be on disk before the
  // first value it protects is changed.
  UniqueFd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dfd.valid()) return errno_error(errno, dir.string(), "open directory to fsync");
  if (::fsync(dfd.get()) != 0) return errno_error(errno, dir.string(), "fsync directory");
  return ok_status();
}

}  // namespace vmtune::core
