// SPDX-License-Identifier: GPL-2.0-or-later
#include "collect/buddyinfo.hpp"

#include <limits>

#include "collect/source_util.hpp"
#include "core/parse.hpp"

namespace vmtune::collect {
namespace {

// Orders beyond this cannot be a 2^order page count in 64 bits; the kernel's MAX_PAGE_ORDER
// is at most 15 on every architecture, so anything longer is garbage.
constexpr std::size_t kMaxOrders = 32;

}  // namespace

core::Result<std::vector<model::BuddyZone>> parse_buddyinfo(std::string_view text,
                                                            const std::string& logical_path,
                                                            std::vector<core::Error>* bad) {
  std::vector<model::BuddyZone> out;
  std::vector<core::Error> local;
  auto& errs = bad != nullptr ? *bad : local;
  for (const auto& line : core::split_lines(text)) {
    if (core::trim(line.text).empty()) continue;
    // "Node 0, zone      DMA      1      0 ..."
    const auto parts = core::split_ws(line.text);
    if (parts.size() < 5 || parts[0] != "Node" || parts[1].empty() || parts[1].back() != ',' ||
        parts[2] != "zone") {
      errs.push_back(
          core::field_error(logical_path, line, "", "\"Node <n>, zone <name> <counts>\"",
                            parts.size() < 5 ? "too few words" : "malformed zone header"));
      continue;
    }
    core::NumberProblem why = core::NumberProblem::out_of_range;
    const auto node = core::parse_u64(parts[1].substr(0, parts[1].size() - 1), &why);
    if (!node || *node > static_cast<std::uint64_t>(std::numeric_limits<int>::max())) {
      errs.push_back(
          core::field_error(logical_path, line, "node", "a node number", core::to_string(why)));
      continue;
    }
    model::BuddyZone z;
    z.node = static_cast<int>(*node);
    z.zone = std::string(parts[3]);
    bool ok = true;
    for (std::size_t i = 4; i < parts.size(); ++i) {
      core::NumberProblem why{};
      const auto v = core::parse_u64(parts[i], &why);
      if (!v || z.free_blocks.size() >= kMaxOrders) {
        errs.push_back(
            core::field_error(logical_path, line, "order" + std::to_string(i - 4),
                              v ? "at most 32 orders" : "an unsigned block count",
                              v ? "more orders than any kernel prints" : core::to_string(why)));
        ok = false;
        break;
      }
      z.free_blocks.push_back(*v);
    }
    if (!ok) continue;
    // Every zone prints the same number of orders (MAX_PAGE_ORDER + 1): a shorter line is a
    // truncated read, whose missing high orders would wrongly read as "no free blocks".
    if (!out.empty() && z.free_blocks.size() != out.front().free_blocks.size()) {
      errs.push_back(core::field_error(
          logical_path, line, "order" + std::to_string(z.free_blocks.size()),
          std::to_string(out.front().free_blocks.size()) + " orders like the zones before it",
          "the line is cut short or too long"));
      continue;
    }
    out.push_back(std::move(z));
  }
  if (out.empty()) {
    return core::nothing_parsed(logical_path, text, "no \"Node <n>, zone <name>\" line found");
  }
  return out;
}

void read_buddyinfo(const core::RootFs& fs, model::Sample& sample) {
  collect_file(sample, sample.buddyinfo, "buddyinfo", fs, core::Tree::proc, "buddyinfo",
               parse_buddyinfo);
}

}  // namespace vmtune::collect
