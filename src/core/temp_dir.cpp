// SPDX-License-Identifier: GPL-2.0-or-later
#include "core/temp_dir.hpp"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "core/root_fs.hpp"

namespace vmtune::core {

Result<TempDir> TempDir::create(const std::string& prefix) {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/" + prefix +
                     "XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) {
    const int err = errno;
    return make_error(error_kind_from_errno(err), tmpl, std::string("mkdtemp: ") + std::strerror(err));
  }
  return TempDir(std::filesystem::path(buf.data()));
}

TempDir::TempDir(TempDir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }

TempDir& TempDir::operator=(TempDir&& other) noexcept {
  if (this != &other) {
    remove();
    path_ = std::move(other.path_);
    other.path_.clear();
  }
  return *this;
}

TempDir::~TempDir() { remove(); }

void TempDir::remove() noexcept {
  if (path_.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
  path_.clear();
}

Status write_file_atomic(const std::filesystem::path& path, std::string_view content,
                         unsigned mode) {
  const auto dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  std::string tmpl = (dir / ("." + path.filename().string() + ".tmpXXXXXX")).string();
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  const int fd = ::mkstemp(buf.data());
  if (fd < 0) {
    const int err = errno;
    return make_error(error_kind_from_errno(err), path.string(),
                      std::string("cannot create temporary file: ") + std::strerror(err));
  }
  auto fail = [&](const char* what) -> Status {
    const int err = errno;
    ::close(fd);
    ::unlink(buf.data());
    return make_error(error_kind_from_errno(err), path.string(),
                      std::string(what) + ": " + std::strerror(err));
  };
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("write");
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fchmod(fd, mode) != 0) return fail("fchmod");
  if (::fsync(fd) != 0) return fail("fsync");
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(buf.data());
    return make_error(error_kind_from_errno(err), path.string(),
                      std::string("close: ") + std::strerror(err));
  }
  if (::rename(buf.data(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(buf.data());
    return make_error(error_kind_from_errno(err), path.string(),
                      std::string("rename: ") + std::strerror(err));
  }
  return ok_status();
}

}  // namespace vmtune::core
