// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// `vmtune apply --plan FILE`: apply exactly the plan a reviewer saw (`vmtune sysctl -f json -o
// FILE`), not a fresh evaluation. The file is untrusted input: read without following a link,
// at most 1 MiB, a regular file; every change is checked (kind, key spelling, cgroup path,
// value printable and within what the running kernel accepts) and its live path is computed
// again from kind and key, never taken from the file.

#include <string>

#include "core/result.hpp"
#include "plan/plan.hpp"

namespace vmtune::apply {

/// Parses a plan document (ui::sysctl::plan_to_json) into a Plan. `kernel_release` is the
/// running kernel's, for the value limits. Errors name the file, the step and change index and
/// the field.
core::Result<plan::Plan> parse_plan(const std::string& text, const std::string& logical,
                                    const std::string& kernel_release);

/// Reads and parses a plan file (no-follow, regular file, at most 1 MiB).
core::Result<plan::Plan> read_plan(const std::string& path, const std::string& kernel_release);

}  // namespace vmtune::apply
