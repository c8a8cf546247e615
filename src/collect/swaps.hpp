// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// /proc/swaps: a header line, then "Filename Type Size Used Priority" rows (Size/Used in
// KiB, stored as bytes). The kernel escapes space, tab, newline and backslash in the file
// name as \ooo octal; they are decoded here, and the name stays untrusted text. No rows (no
// swap) is a valid, empty list.

#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "core/root_fs.hpp"
#include "model/sample.hpp"

namespace vmtune::collect {

/// Decodes the kernel's \ooo escapes (seq_file mangle_path); other bytes are kept as they are.
std::string unescape_octal(std::string_view text);

/// Pure parser. Bad rows go to `bad` (file, line, field) and are skipped. An empty file, or a
/// file with neither the header nor a valid row, is an error.
core::Result<std::vector<model::SwapDevice>> parse_swaps(std::string_view text,
                                                         const std::string& logical_path,
                                                         std::vector<core::Error>* bad);
void read_swaps(const core::RootFs& fs, model::Sample& sample);

}  // namespace vmtune::collect
