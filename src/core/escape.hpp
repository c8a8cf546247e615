// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// Untrusted text (process names, command lines, paths, database strings) never reaches a
// terminal or report raw. escape_text() keeps printable ASCII and valid UTF-8 and turns
// everything else (control bytes, ESC, DEL, invalid UTF-8, bidi overrides) into \xNN or \u{..}.

#include <string>
#include <string_view>

namespace vmtune::core {

std::string escape_text(std::string_view raw);
/// Like escape_text, also escaping '|' and '`' so the result is safe inside a Markdown table cell.
std::string escape_markdown(std::string_view raw);

}  // namespace vmtune::core
