// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// RAII temporary directory, removed with its contents when the object dies.

#include <filesystem>
#include <string>

#include "core/result.hpp"

namespace vmtune::core {

class TempDir {
 public:
  /// Creates a fresh directory under $TMPDIR (or /tmp) named <prefix>XXXXXX.
  static Result<TempDir> create(const std::string& prefix);
  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&& other) noexcept;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();
  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  explicit TempDir(std::filesystem::path p) : path_(std::move(p)) {}
  void remove() noexcept;
  std::filesystem::path path_;
};

/// Writes `content` to `path` atomically: a temp file in the same directory, fsync, rename.
Status write_file_atomic(const std::filesystem::path& path, std::string_view content,
                         unsigned mode = 0644);

}  // namespace vmtune::core
