// SPDX-License-Identifier: GPL-2.0-or-later
// The files `vmtune apply` and `vmtune rollback` read: a plan file (--plan, written by anyone
// who can hand the administrator a file) and an apply journal. Any bytes parse or fail with the
// file named, never crash; a plan that parses names only keys vmtune writes, with printable
// values and live paths under /proc/sys, /sys/kernel/mm or the cgroup tree.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "apply/journal.hpp"
#include "apply/plan_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] % 2 == 0) {
    auto plan = vmtune::apply::parse_plan(text, "plan.json", {"6.1.0", 8ull << 30, 2u << 20});
    if (!plan.ok()) {
      if (plan.error().path != "plan.json") std::abort();
      return 0;
    }
    for (const auto* c : plan->changes()) {
      for (const unsigned char ch : c->proposed) {
        if (ch < 0x20 || ch >= 0x7f) std::abort();
      }
      if (c->path.find("..") != std::string::npos) std::abort();
      if (!c->path.empty() && c->path.rfind("/proc/sys/", 0) != 0 &&
          c->path.rfind("/sys/kernel/mm/", 0) != 0 && c->path.rfind("/sys/fs/cgroup/", 0) != 0) {
        std::abort();
      }
    }
  } else {
    auto j = vmtune::apply::parse_journal(text, "journal.json");
    if (!j.ok() && j.error().path != "journal.json") std::abort();
  }
  return 0;
}
