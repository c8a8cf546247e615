// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// Human-readable rendering of a sample for `vmtune collect --format text`.

#include <string>

#include "model/derive.hpp"

namespace vmtune::ui::report {

std::string render_collect_text(const model::Snapshot& snap);

}  // namespace vmtune::ui::report
