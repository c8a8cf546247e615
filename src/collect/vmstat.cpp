// SPDX-License-Identifier: GPL-2.0-or-later
#include "collect/vmstat.hpp"

#include "collect/source_util.hpp"
#include "core/parse.hpp"

namespace vmtune::collect {

core::Result<model::VmStat> parse_vmstat(std::string_view text, const std::string& logical_path,
                                         std::vector<core::Error>* bad) {
  model::VmStat out;
  for (auto& [name, value] : core::parse_key_space_u64(text, logical_path, bad)) {
    out.counters.insert_or_assign(std::move(name), value);
  }
  if (out.counters.empty()) {
    return core::make_error(
        core::ErrorKind::parse_error, logical_path,
        core::trim(text).empty() ? "file is empty" : "no \"<name> <value>\" line found");
  }
  return out;
}

void read_vmstat(const core::RootFs& fs, model::Sample& sample) {
  auto text = fs.read_text(core::Tree::proc, "vmstat");
  if (!text) return fail_source(sample, sample.vmstat, "vmstat", text.error());
  std::vector<core::Error> bad;
  auto parsed = parse_vmstat(*text, fs.logical(core::Tree::proc, "vmstat"), &bad);
  if (!parsed) return fail_source(sample, sample.vmstat, "vmstat", parsed.error(), bad);
  set_source(sample, sample.vmstat, "vmstat", std::move(*parsed), bad);
}

}  // namespace vmtune::collect
