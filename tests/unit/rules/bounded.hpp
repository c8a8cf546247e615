// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// Runs a call that must not block on a FIFO, with a time bound: a hang fails the test instead of
// hanging ctest. When the bound passes, the FIFO is opened for writing and closed, which wakes a
// reader blocked in open() or read() (it then sees end of file), so the call returns and the
// test fails with "blocked" rather than leaving a thread behind.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <optional>
#include <utility>

namespace vmtune::test {

/// Makes a real FIFO at `path`; false (with a test failure) when mkfifo fails.
inline bool make_fifo(const std::filesystem::path& path) {
  if (::mkfifo(path.c_str(), 0600) == 0) return true;
  ADD_FAILURE() << "mkfifo " << path << " failed";
  return false;
}

/// Calls `fn()` on another thread and returns its result, or nullopt (with a test failure naming
/// the FIFO) when it is still running after `limit`.
template <typename Fn>
auto call_bounded(Fn fn, const std::filesystem::path& fifo,
                  std::chrono::seconds limit = std::chrono::seconds(10))
    -> std::optional<decltype(fn())> {
  auto fut = std::async(std::launch::async, std::move(fn));
  if (fut.wait_for(limit) == std::future_status::ready) return fut.get();
  ADD_FAILURE() << "blocked for more than " << limit.count() << " s on the FIFO " << fifo;
  while (fut.wait_for(std::chrono::milliseconds(100)) != std::future_status::ready) {
    const int fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd >= 0) ::close(fd);
  }
  static_cast<void>(fut.get());
  return std::nullopt;
}

}  // namespace vmtune::test
