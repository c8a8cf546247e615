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

#include "core/file.hpp"

namespace vmtune::core {

Result<TempDir> TempDir::create(const std::string& prefix) {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl =
      std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/" + prefix + "XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) {
    const int err = errno;
    return make_error(error_kind_from_errno(err), tmpl,
                      std::string("mkdtemp: ") + std::strerror(err));
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
  auto file = AtomicFile::create(path, mode);
  if (!file) return std::move(file).error();
  if (auto ok = file->write(content); !ok) return ok;
  return file->commit();
}

}  // namespace vmtune::core
