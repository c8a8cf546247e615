// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// `vmtune apply --plan FILE`: apply exactly the plan a reviewer saw (`vmtune sysctl -f json -o
// FILE`), not a fresh evaluation. The file is untrusted input: read without following a link,
// at most 1 MiB, a regular file; every change is checked (kind, key spelling, cgroup path,
// value printable and within what the running kernel accepts) and its live path is computed
// again from kind and key, never taken from the file.

#include <cstdint>
#include <string>

#include "core/result.hpp"
#include "plan/plan.hpp"

namespace vmtune::apply {

/// What the plan is checked against: the running machine.
struct Machine {
  std::string kernel_release;        ///< for the value limits
  std::uint64_t mem_total = 0;       ///< bytes; 0 = unknown
  std::uint64_t huge_page_size = 0;  ///< default huge page size, bytes; 0 = unknown
};

/// Parses a plan document (ui::sysctl::plan_to_json) into a Plan. Only keys vmtune proposes
/// (sysctls with known bounds, THP files, huge-page pools, cgroup memory.* files), rule ids,
/// printable values within the kernel's bounds, and huge-page pools of at most 90 % of memory.
/// Errors name the file, the step and change index and the field.
core::Result<plan::Plan> parse_plan(const std::string& text, const std::string& logical,
                                    const Machine& machine);

/// Reads and parses a plan file: no-follow, regular, at most 1 MiB, owned by this user and
/// writable by nobody else.
core::Result<plan::Plan> read_plan(const std::string& path, const Machine& machine);

}  // namespace vmtune::apply
