// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// The one text policy (vmtune(8), "Untrusted text"). Untrusted bytes (process names, command
// lines, cgroup and file names, host names, database strings, keys read from files) never
// reach a terminal, a report or a JSON document raw: they pass through escape_text() first.
//
// escape_text() keeps printable ASCII and valid UTF-8 and turns everything else into an escape:
//   backslash                       -> \\          (doubled, so the escaping is reversible)
//   bytes 0x00-0x1f and 0x7f (DEL)   -> \xNN        (two lower-case hex digits: ESC is \x1b)
//   a byte that is not valid UTF-8   -> \xNN        (overlong, surrogate, truncated, > U+10FFFF)
//   C1 controls, bidi controls,
//   line/paragraph separators       -> \u{N}       (lower-case hex code point: \u{202e})
// Its output is valid UTF-8 without control bytes, and unescape_text() gives the input back.

#include <string>
#include <string_view>

namespace vmtune::core {

/// Escapes untrusted bytes as described above. Never throws except std::bad_alloc.
std::string escape_text(std::string_view raw);

/// The inverse of escape_text: unescape_text(escape_text(s)) == s for every byte string s.
/// Text that escape_text could not have produced (a lone backslash, "\q", "\x4", "\u{110000}")
/// is kept as it is, so reading an older document never fails.
std::string unescape_text(std::string_view escaped);

/// escape_text applied line by line: '\n' is kept, everything else escaped as above. For
/// multi-line prose (a rule's rationale) in JSON, where a line break is safe and wanted.
std::string escape_lines(std::string_view raw);

/// escape_text, then a backslash before every character Markdown (CommonMark/GFM) would
/// interpret inside a paragraph or a table cell: \ | ` * _ < > [ ] & ~. Rendered, the result
/// reads exactly as escape_text's output. Never put it inside a code span.
std::string escape_markdown(std::string_view raw);

}  // namespace vmtune::core
