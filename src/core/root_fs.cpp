// SPDX-License-Identifier: GPL-2.0-or-later
#include "core/root_fs.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

namespace vmtune::core {
namespace {

// The only place in the code base where the live mount points are spelled out.
constexpr const char* kLiveProc = "/proc";
constexpr const char* kLiveSys = "/sys";
constexpr const char* kLiveEtc = "/etc";
constexpr const char* kLiveRoot = "/";

const char* logical_prefix(Tree tree) noexcept {
  switch (tree) {
    case Tree::proc: return kLiveProc;
    case Tree::sys: return kLiveSys;
    case Tree::etc: return kLiveEtc;
    case Tree::root: return "";  // logical("usr/lib/x") is "/usr/lib/x"
  }
  return "";
}

std::string_view strip_slash(std::string_view rel) {
  while (!rel.empty() && rel.front() == '/') rel.remove_prefix(1);
  return rel;
}

class Fd {
 public:
  explicit Fd(int fd) noexcept : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const noexcept { return fd_; }

 private:
  int fd_;
};

}  // namespace

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

RootFs::RootFs() : proc_(kLiveProc), sys_(kLiveSys), etc_(kLiveEtc), root_(kLiveRoot) {}

RootFs RootFs::under(const std::filesystem::path& dir) {
  RootFs fs;
  fs.proc_ = dir / "proc";
  fs.sys_ = dir / "sys";
  fs.etc_ = dir / "etc";
  fs.root_ = dir;
  return fs;
}

void RootFs::set_root(Tree tree, std::filesystem::path dir) {
  switch (tree) {
    case Tree::proc: proc_ = std::move(dir); break;
    case Tree::sys: sys_ = std::move(dir); break;
    case Tree::etc: etc_ = std::move(dir); break;
    case Tree::root: root_ = std::move(dir); break;
  }
}

const std::filesystem::path& RootFs::root(Tree tree) const noexcept {
  switch (tree) {
    case Tree::proc: return proc_;
    case Tree::sys: return sys_;
    case Tree::etc: break;
    case Tree::root: return root_;
  }
  return etc_;
}

bool RootFs::is_live() const noexcept {
  return proc_ == kLiveProc && sys_ == kLiveSys && etc_ == kLiveEtc && root_ == kLiveRoot;
}

std::string RootFs::logical(Tree tree, std::string_view rel) const {
  // Built with append() rather than operator+=: GCC 12 reports a false -Wrestrict on the
  // latter at -O2 (GCC PR 105329).
  const std::string_view prefix = logical_prefix(tree);
  rel = strip_slash(rel);
  if (rel.empty()) return prefix.empty() ? std::string("/") : std::string(prefix);
  std::string out;
  out.reserve(prefix.size() + 1 + rel.size());
  out.append(prefix.data(), prefix.size());
  out.push_back('/');
  out.append(rel.data(), rel.size());
  return out;
}

std::filesystem::path RootFs::real(Tree tree, std::string_view rel) const {
  rel = strip_slash(rel);
  if (rel.empty()) return root(tree);
  return root(tree) / std::filesystem::path(std::string(rel));
}

Result<std::string> RootFs::read_text(Tree tree, std::string_view rel,
                                      std::size_t max_bytes) const {
  if (replay_failures_) {
    const auto it = replay_failures_->find(logical(tree, rel));
    if (it != replay_failures_->end()) {
      return make_error(it->second.first, it->first, it->second.second);
    }
  }
  const auto path = real(tree, rel);
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    const int err = errno;
    const auto kind = error_kind_from_errno(err);
    if (record_ && kind != ErrorKind::missing) {
      record_->failed_reads[logical(tree, rel)] = {kind, std::strerror(err)};
    }
    return make_error(kind, logical(tree, rel), std::strerror(err));
  }
  std::string out;
  char buf[16384];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      const auto kind = error_kind_from_errno(err);
      if (record_ && kind != ErrorKind::missing) {
        record_->failed_reads[logical(tree, rel)] = {kind, std::strerror(err)};
      }
      return make_error(kind, logical(tree, rel), std::strerror(err));
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > max_bytes) {
      return make_error(ErrorKind::io_error, logical(tree, rel),
                        "file larger than " + std::to_string(max_bytes) + " bytes");
    }
  }
  if (record_) record_->files[logical(tree, rel)] = out;
  return out;
}

Result<std::vector<std::string>> RootFs::list_dir(Tree tree, std::string_view rel) const {
  std::error_code ec;
  std::vector<std::string> names;
  std::filesystem::directory_iterator it(real(tree, rel), ec);
  if (ec) {
    return make_error(error_kind_from_errno(ec.value()), logical(tree, rel), ec.message());
  }
  for (const auto& entry : it) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  if (record_) record_->dirs[logical(tree, rel)] = names;
  return names;
}

bool RootFs::exists(Tree tree, std::string_view rel) const {
  std::error_code ec;
  const auto st = std::filesystem::status(real(tree, rel), ec);
  const bool found = !ec && std::filesystem::exists(st);
  if (found && record_) {
    if (std::filesystem::is_directory(st)) {
      record_->existing_dirs.insert(logical(tree, rel));
    } else {
      record_->existing_files.insert(logical(tree, rel));
    }
  }
  return found;
}

bool RootFs::is_dir(Tree tree, std::string_view rel) const {
  std::error_code ec;
  const bool dir = std::filesystem::is_directory(real(tree, rel), ec);
  if (dir && record_) record_->existing_dirs.insert(logical(tree, rel));
  return dir;
}

Status RootFs::write_text(Tree tree, std::string_view rel, std::string_view content) const {
  const auto path = real(tree, rel);
  Fd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_TRUNC));
  if (fd.get() < 0) {
    const int err = errno;
    return make_error(error_kind_from_errno(err), logical(tree, rel), std::strerror(err));
  }
  const ssize_t n = ::write(fd.get(), content.data(), content.size());
  if (n < 0 || static_cast<std::size_t>(n) != content.size()) {
    const int err = n < 0 ? errno : EIO;
    return make_error(error_kind_from_errno(err), logical(tree, rel), std::strerror(err));
  }
  return ok_status();
}

}  // namespace vmtune::core
