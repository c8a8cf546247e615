// SPDX-License-Identifier: GPL-2.0-or-later
#include "collect/vmstat.hpp"

#include "collect/counters.hpp"
#include "collect/source_util.hpp"

namespace vmtune::collect {

core::Result<model::VmStat> parse_vmstat(std::string_view text, const std::string& logical_path,
                                         std::vector<core::Error>* bad) {
  auto counters = parse_counters(text, logical_path, bad, "\"<name> <value>\"");
  if (!counters) return std::move(counters).error();
  return model::VmStat{std::move(*counters)};
}

void read_vmstat(const core::RootFs& fs, model::Sample& sample) {
  collect_file(sample, sample.vmstat, "vmstat", fs, core::Tree::proc, "vmstat", parse_vmstat);
}

}  // namespace vmtune::collect
