// SPDX-License-Identifier: GPL-2.0-or-later
#include "collect/meminfo.hpp"

#include "collect/source_util.hpp"

namespace vmtune::collect {

core::KbUnit meminfo_unit(std::string_view key) noexcept {
  return key.substr(0, 10) == "HugePages_" ? core::KbUnit::none : core::KbUnit::required;
}

core::Result<model::MemInfo> parse_meminfo(std::string_view text, const std::string& logical_path,
                                           std::vector<core::Error>* bad) {
  model::MemInfo out;
  for (auto& kv : core::parse_kv_units(text, logical_path, bad, &meminfo_unit)) {
    out.fields.insert_or_assign(std::move(kv.key), kv.value);
  }
  if (out.fields.empty()) {
    return core::nothing_parsed(logical_path, text, "no valid \"Key: <n> kB\" line found");
  }
  return out;
}

void read_meminfo(const core::RootFs& fs, model::Sample& sample) {
  collect_file(sample, sample.meminfo, "meminfo", fs, core::Tree::proc, "meminfo", parse_meminfo);
}

}  // namespace vmtune::collect
