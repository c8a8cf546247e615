// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// Tests that change kernel state restore it, whatever happens. ProcSysRestore saves /proc/sys
// values byte for byte and writes them back when it goes out of scope (after a failed
// assertion too), checking each reads back as saved; the ratio/bytes pairs of vm.dirty_* are
// restored through the member that was set. Integration tests only: ctest runs those one at a
// time, so no other test sees the values in between.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vmtune::test {

inline std::filesystem::path proc_sys_path(std::string_view key) {
  std::string rel(key);
  for (char& c : rel) {
    if (c == '.') c = '/';
  }
  return std::filesystem::path("/proc/sys") / rel;
}

inline std::optional<std::string> read_raw(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string out;
  char buf[256];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  if (n < 0) return std::nullopt;
  return out;
}

/// 0 when the kernel took `text`, else the errno of the write.
inline int write_raw(const std::filesystem::path& path, std::string_view text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  const ssize_t n = ::write(fd, text.data(), text.size());
  const int err = n < 0 ? errno : (static_cast<std::size_t>(n) == text.size() ? 0 : EIO);
  ::close(fd);
  return err;
}

/// The other half of a ratio/bytes pair: writing one zeroes the other, and the bytes file
/// refuses 0, so both are saved and restored together.
inline std::string_view partner_of(std::string_view key) {
  if (key == "vm.dirty_background_ratio") return "vm.dirty_background_bytes";
  if (key == "vm.dirty_background_bytes") return "vm.dirty_background_ratio";
  if (key == "vm.dirty_ratio") return "vm.dirty_bytes";
  if (key == "vm.dirty_bytes") return "vm.dirty_ratio";
  return {};
}

/// Saves /proc/sys values byte for byte and puts them back when it goes out of scope, however
/// the test ends (a failed ASSERT returns through it). A ratio/bytes pair is restored by writing
/// the member that was non-zero (which zeroes the other), since "0" is refused by the bytes file.
class ProcSysRestore {
 public:
  ProcSysRestore() = default;
  ProcSysRestore(const ProcSysRestore&) = delete;
  ProcSysRestore& operator=(const ProcSysRestore&) = delete;
  ~ProcSysRestore() { restore(); }

  /// Saves `key` (and its partner); false when it cannot be read.
  bool save(std::string_view key) {
    if (!save_one(key)) return false;
    if (const auto p = partner_of(key); !p.empty() && !save_one(p)) return false;
    return true;
  }

  /// Writes every saved value back (latest first) and checks each reads back as saved.
  void restore() {
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
      const auto& [key, original] = *it;
      const auto partner = partner_of(key);
      if (!partner.empty() && is_zero(original)) {
        // Written back through its non-zero partner; if both were zero, the ratio takes "0".
        const auto po = find(partner);
        const bool partner_nonzero = po != nullptr && !is_zero(*po);
        if (partner_nonzero || key.ends_with("_bytes")) continue;
      }
      if (const int err = write_raw(proc_sys_path(key), original); err != 0) {
        ADD_FAILURE() << "restoring " << key << " to " << original << ": " << std::strerror(err);
      }
    }
    for (const auto& [key, original] : saved_) {
      EXPECT_EQ(read_raw(proc_sys_path(key)), original) << key << " not restored byte for byte";
    }
    saved_.clear();
  }

 private:
  static bool is_zero(const std::string& raw) { return raw == "0\n"; }

  const std::string* find(std::string_view key) const {
    for (const auto& [k, v] : saved_) {
      if (k == key) return &v;
    }
    return nullptr;
  }

  bool save_one(std::string_view key) {
    if (find(key) != nullptr) return true;
    auto raw = read_raw(proc_sys_path(key));
    if (!raw) return false;
    saved_.emplace_back(std::string(key), std::move(*raw));
    return true;
  }

  std::vector<std::pair<std::string, std::string>> saved_;
};

}  // namespace vmtune::test
