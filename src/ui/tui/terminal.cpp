// SPDX-License-Identifier: GPL-2.0-or-later
#include "ui/tui/terminal.hpp"

// ncursesw: wide-character input (wget_wch) and UTF-8 output.
#include <curses.h>
#include <langinfo.h>
#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include <clocale>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <string>
#include <utility>

namespace vmtune::ui::tui {
namespace {

// The terminal as found, for the crash handler (which cannot call endwin safely).
struct termios g_saved {};
bool g_have_saved = false;
constexpr int kCrashSignals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
struct sigaction g_previous[std::size(kCrashSignals)];

extern "C" void on_crash(int sig) {
  // Leave the alternate screen, show the cursor, reset attributes: async-signal-safe calls only.
  // Leave keypad-transmit mode too; then give the signal back to whoever had it before (ASan's
  // reporter, or the default action): returning re-executes the faulting instruction, and
  // abort() raises SIGABRT again, so they see the original fault.
  static const char kReset[] = "\033[0m\033[?25h\033[?1l\033>\033[?1049l\r\n";
  if (g_have_saved) ::tcsetattr(STDIN_FILENO, TCSANOW, &g_saved);
  [[maybe_unused]] const auto n = ::write(STDOUT_FILENO, kReset, sizeof kReset - 1);
  for (std::size_t i = 0; i < std::size(kCrashSignals); ++i) {
    if (kCrashSignals[i] == sig) ::sigaction(sig, &g_previous[i], nullptr);
  }
}

void install_crash_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_crash;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESETHAND;
  for (std::size_t i = 0; i < std::size(kCrashSignals); ++i) {
    ::sigaction(kCrashSignals[i], &sa, &g_previous[i]);
  }
}

void remove_crash_handlers() {
  for (std::size_t i = 0; i < std::size(kCrashSignals); ++i) {
    ::sigaction(kCrashSignals[i], &g_previous[i], nullptr);
  }
}

enum Pair : short {
  kTitle = 1,
  kDim,
  kSelected,
  kGood,
  kWarning,
  kCritical,
  kAnon,
  kCache,
  kShmem,
  kSlab,
  kPageTables,
  kHugetlb,
  kFree
};

attr_t attribute(Role r, bool color) {
  if (!color) {
    switch (r) {
      case Role::title:
      case Role::header:
      case Role::critical:
        return A_BOLD;
      case Role::selected:
        return A_REVERSE;
      case Role::dim:
        return A_DIM;
      case Role::warning:
        return A_UNDERLINE;
      default:
        return A_NORMAL;
    }
  }
  switch (r) {
    case Role::normal:
      return A_NORMAL;
    case Role::dim:
      return COLOR_PAIR(kDim);
    case Role::title:
      return COLOR_PAIR(kTitle) | A_BOLD;
    case Role::header:
      return A_BOLD;
    case Role::selected:
      return A_REVERSE;
    case Role::good:
      return COLOR_PAIR(kGood);
    case Role::warning:
      return COLOR_PAIR(kWarning) | A_BOLD;
    case Role::critical:
      return COLOR_PAIR(kCritical) | A_BOLD;
    case Role::anon:
      return COLOR_PAIR(kAnon);
    case Role::cache:
      return COLOR_PAIR(kCache);
    case Role::shmem:
      return COLOR_PAIR(kShmem);
    case Role::slab:
      return COLOR_PAIR(kSlab);
    case Role::page_tables:
      return COLOR_PAIR(kPageTables);
    case Role::hugetlb:
      return COLOR_PAIR(kHugetlb);
    case Role::free:
      return COLOR_PAIR(kFree);
  }
  return A_NORMAL;
}

void init_colors() {
  start_color();
  use_default_colors();
  init_pair(kTitle, COLOR_CYAN, -1);
  init_pair(kDim, COLOR_BLUE, -1);
  init_pair(kSelected, COLOR_BLACK, COLOR_CYAN);
  init_pair(kGood, COLOR_GREEN, -1);
  init_pair(kWarning, COLOR_YELLOW, -1);
  init_pair(kCritical, COLOR_RED, -1);
  init_pair(kAnon, COLOR_MAGENTA, -1);
  init_pair(kCache, COLOR_CYAN, -1);
  init_pair(kShmem, COLOR_BLUE, -1);
  init_pair(kSlab, COLOR_YELLOW, -1);
  init_pair(kPageTables, COLOR_RED, -1);
  init_pair(kHugetlb, COLOR_GREEN, -1);
  init_pair(kFree, COLOR_WHITE, -1);
}

}  // namespace

std::string to_ascii(const std::string& utf8) {
  static const std::pair<const char*, const char*> kMap[] = {
      {"·", "-"}, {"×", "x"}, {"↑", "^"}, {"↓", "v"}, {"…", "~"},
      {"µ", "u"}, {"─", "-"}, {"│", "|"}, {"±", "~"}, {"→", ">"}};
  std::string out;
  for (std::size_t i = 0; i < utf8.size();) {
    const auto c = static_cast<unsigned char>(utf8[i]);
    if (c < 0x80) {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    std::size_t len = (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 1;
    const std::string ch = utf8.substr(i, len);
    i += len;
    if (display_width(ch) == 0) continue;  // a combining mark: it took no column, it takes none
    const char* sub = "?";
    for (const auto& [from, to] : kMap) {
      if (ch == from) sub = to;
    }
    out += sub;
  }
  return out;
}

core::Result<std::unique_ptr<Terminal>> Terminal::open(bool color) {
  if (!::isatty(STDOUT_FILENO) || !::isatty(STDIN_FILENO)) {
    return core::make_error(core::ErrorKind::unsupported, "",
                            "vmtune top needs a terminal (use vmtune collect or audit in scripts)");
  }
  std::unique_ptr<Terminal> t(new Terminal());
  // The user's character set for drawing and input; only LC_CTYPE, so numbers keep parsing
  // with '.' (strtod in the rules) whatever the user's LC_NUMERIC.
  std::setlocale(LC_CTYPE, "");
  const char* codeset = ::nl_langinfo(CODESET);
  t->ascii_ = codeset == nullptr || std::strcmp(codeset, "UTF-8") != 0;
  g_have_saved = ::tcgetattr(STDIN_FILENO, &g_saved) == 0;
  install_crash_handlers();
  if (::getenv("ESCDELAY") == nullptr) set_escdelay(25);  // Esc answers at once
  // newterm, not initscr: an unknown TERM is an error we report, not ncurses' exit(1).
  SCREEN* screen = newterm(nullptr, stdout, stdin);
  t->screen_ = screen;
  if (screen == nullptr) {
    remove_crash_handlers();
    const char* term = ::getenv("TERM");
    return core::make_error(core::ErrorKind::unsupported, "",
                            std::string("cannot drive this terminal (TERM=") +
                                (term ? term : "unset") + "): its terminfo entry is missing");
  }
  cbreak();
  noecho();
  nonl();
  keypad(stdscr, TRUE);
  curs_set(0);
  t->color_ = color && has_colors();
  if (t->color_) init_colors();
  return t;
}

Terminal::~Terminal() {
  endwin();
  if (screen_ != nullptr) delscreen(static_cast<SCREEN*>(screen_));
  remove_crash_handlers();
  if (g_have_saved) ::tcsetattr(STDIN_FILENO, TCSANOW, &g_saved);
}

bool Terminal::needs_ascii() const noexcept { return ascii_; }
int Terminal::width() const { return COLS; }
int Terminal::height() const { return LINES; }

void Terminal::paint(const Frame& frame, bool ascii) {
  const bool all = !last_ || last_->width != frame.width || last_->height != frame.height;
  if (all) clearok(stdscr, TRUE);
  for (int y = 0; y < frame.height && y < LINES; ++y) {
    const auto& line = frame.lines[static_cast<std::size_t>(y)];
    if (!all && y < static_cast<int>(last_->lines.size()) &&
        last_->lines[static_cast<std::size_t>(y)].spans.size() == line.spans.size()) {
      bool same = true;
      for (std::size_t i = 0; i < line.spans.size() && same; ++i) {
        same = line.spans[i].text == last_->lines[static_cast<std::size_t>(y)].spans[i].text &&
               line.spans[i].role == last_->lines[static_cast<std::size_t>(y)].spans[i].role;
      }
      if (same) continue;
    }
    move(y, 0);
    clrtoeol();
    for (const auto& s : line.spans) {
      attrset(attribute(s.role, color_));
      const std::string text = ascii || ascii_ ? to_ascii(s.text) : s.text;
      addnstr(text.c_str(), static_cast<int>(text.size()));
    }
    attrset(A_NORMAL);
  }
  refresh();
  last_ = frame;
}

Key Terminal::read_key(int timeout_ms) {
  timeout(timeout_ms);
  wint_t ch = 0;
  const int r = get_wch(&ch);
  using K = Key::Kind;
  if (r == ERR) {
    // No key in time, or the terminal is gone (a hangup without SIGHUP): do not spin on it.
    pollfd p{STDIN_FILENO, 0, 0};
    if (::poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR | POLLNVAL)) != 0) {
      return Key{K::hangup, 0};
    }
    return Key{};
  }
  if (r == KEY_CODE_YES) {
    switch (ch) {
      case KEY_UP:
        return Key{K::up, 0};
      case KEY_DOWN:
        return Key{K::down, 0};
      case KEY_PPAGE:
        return Key{K::page_up, 0};
      case KEY_NPAGE:
        return Key{K::page_down, 0};
      case KEY_HOME:
        return Key{K::home, 0};
      case KEY_END:
        return Key{K::end, 0};
      case KEY_ENTER:
        return Key{K::enter, 0};
      case KEY_BACKSPACE:
        return Key{K::backspace, 0};
      case KEY_RESIZE:
        last_.reset();
        return Key{K::resize, 0};
      default:
        return Key{};
    }
  }
  switch (ch) {
    case '\t':
      return Key{K::tab, 0};
    case '\r':
    case '\n':
      return Key{K::enter, 0};
    case 27:
      return Key{K::escape, 0};
    case 127:
    case 8:
      return Key{K::backspace, 0};
    default:
      return Key{K::character, static_cast<char32_t>(ch)};
  }
}

}  // namespace vmtune::ui::tui
