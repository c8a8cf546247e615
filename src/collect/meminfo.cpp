// SPDX-License-Identifier: GPL-2.0-or-later
#include "collect/meminfo.hpp"

#include "collect/source_util.hpp"
#include "core/parse.hpp"

namespace vmtune::collect {

core::Result<model::MemInfo> parse_meminfo(std::string_view text, const std::string& logical_path,
                                           std::vector<core::Error>* bad) {
  model::MemInfo out;
  for (auto& kv : core::parse_kv_kb(text, logical_path, bad)) {
    out.fields.insert_or_assign(std::move(kv.key), kv.value);
  }
  if (out.fields.empty()) {
    return core::make_error(core::ErrorKind::parse_error, logical_path,
                            text.empty() ? "file is empty" : "no \"Key: value\" line found");
  }
  return out;
}

void read_meminfo(const core::RootFs& fs, model::Sample& sample) {
  auto text = fs.read_text(core::Tree::proc, "meminfo");
  if (!text) return fail_source(sample, sample.meminfo, "meminfo", text.error());
  std::vector<core::Error> bad;
  auto parsed = parse_meminfo(*text, fs.logical(core::Tree::proc, "meminfo"), &bad);
  if (!parsed) return fail_source(sample, sample.meminfo, "meminfo", parsed.error());
  set_source(sample, sample.meminfo, "meminfo", std::move(*parsed), bad);
}

}  // namespace vmtune::collect
