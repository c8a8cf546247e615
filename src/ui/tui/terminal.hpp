// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// The one place that talks to ncurses: paints a Frame (only the lines that changed since the
// last one) and reads keys. Opening it saves the terminal's state; closing it (the destructor,
// on every exit path) restores it, and a crash handler restores it too before the process dies.

#include <memory>
#include <optional>

#include "core/result.hpp"
#include "ui/tui/view.hpp"

namespace vmtune::ui::tui {

class Terminal {
 public:
  /// Takes over the terminal on stdin/stdout. `color`: use colours when the terminal has them
  /// (false for NO_COLOR). Fails (with the reason) when stdout is not a terminal.
  static core::Result<std::unique_ptr<Terminal>> open(bool color);
  ~Terminal();
  Terminal(const Terminal&) = delete;
  Terminal& operator=(const Terminal&) = delete;

  /// True when the locale's character set is not UTF-8: draw with ASCII only.
  bool needs_ascii() const noexcept;
  int width() const;
  int height() const;
  /// Paints `frame`, rewriting only lines that differ from the previous frame (all of them
  /// after a resize); with `ascii`, through to_ascii.
  void paint(const Frame& frame, bool ascii);
  /// Waits up to `timeout_ms` for a key; Kind::none when none came (or a signal interrupted),
  /// Kind::hangup when the terminal is gone.
  Key read_key(int timeout_ms);

 private:
  Terminal() = default;
  std::optional<Frame> last_;
  void* screen_ = nullptr;  ///< the ncurses SCREEN of newterm (kept opaque: no curses.h here)
  bool color_ = false;
  bool ascii_ = false;
};

/// Replaces what a non-UTF-8 terminal cannot show: the dashboard's own symbols by one-column
/// ASCII look-alikes, any other non-ASCII character by '?' (never wider than the original).
std::string to_ascii(const std::string& utf8);

}  // namespace vmtune::ui::tui
