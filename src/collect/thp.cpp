// SPDX-License-Identifier: GPL-2.0-or-later
#include "collect/thp.hpp"

#include <optional>
#include <vector>

#include "collect/hugepages.hpp"
#include "collect/source_util.hpp"
#include "core/parse.hpp"

namespace vmtune::collect {
namespace {

constexpr const char* kThpDir = "kernel/mm/transparent_hugepage";

}  // namespace

core::Result<std::string> parse_thp_selection(std::string_view text,
                                              const std::string& logical_path,
                                              const std::string& field) {
  auto choice = core::bracketed_choice(text);
  if (choice.empty()) {
    if (core::trim(text).empty()) {
      return core::make_error(core::ErrorKind::parse_error, logical_path, "file is empty", 0,
                              field);
    }
    return core::field_error(logical_path, 1, field,
                             "a bracketed selection such as \"always [madvise] never\"",
                             "no bracketed word");
  }
  return choice;
}

core::Result<std::string> parse_khugepaged_value(std::string_view text,
                                                 const std::string& logical_path,
                                                 const std::string& field) {
  const auto trimmed = core::trim(text);
  if (trimmed.empty()) {
    return core::make_error(core::ErrorKind::parse_error, logical_path, "file is empty", 0, field);
  }
  core::NumberProblem why{};
  if (!core::parse_u64(trimmed, &why)) {
    return core::field_error(logical_path, 1, field, "an unsigned integer", core::to_string(why));
  }
  return std::string(trimmed);
}

void read_thp(const core::RootFs& fs, model::Sample& sample) {
  const std::string dir = kThpDir;
  auto names = fs.list_dir(core::Tree::sys, dir);
  if (!names) {
    return fail_source(
        sample, sample.thp, "thp",
        unsupported_if_missing(
            std::move(names).error(),
            "kernel without transparent huge pages (CONFIG_TRANSPARENT_HUGEPAGE off)"));
  }

  std::vector<core::Error> bad;
  model::Thp thp;
  // Reads and parses one optional file (older kernels lack some) into `out`. Its errors name,
  // as their field, the path below the THP directory ("defrag", "khugepaged/pages_to_scan",
  // "hugepages-64kB/enabled").
  const auto parse_into = [&](const std::string& rel, auto parse, auto& out) {
    const std::string field = rel.substr(dir.size() + 1);
    if (auto text = read_optional(fs, core::Tree::sys, rel, &bad, field)) {
      store_parsed(parse(*text, fs.logical(core::Tree::sys, rel), field), out, &bad);
    }
  };

  // `enabled` is the one file every THP kernel has: without it the section means nothing.
  {
    const std::string rel = dir + "/enabled";
    auto text = fs.read_text(core::Tree::sys, rel);
    if (!text) return fail_source(sample, sample.thp, "thp", text.error());
    auto choice = parse_thp_selection(*text, fs.logical(core::Tree::sys, rel), "enabled");
    if (!choice) return fail_source(sample, sample.thp, "thp", choice.error());
    thp.enabled = std::move(*choice);
  }
  parse_into(dir + "/defrag", parse_thp_selection, thp.defrag);
  parse_into(dir + "/shmem_enabled", parse_thp_selection, thp.shmem_enabled);
  parse_into(dir + "/hpage_pmd_size", parse_sysfs_u64, thp.hpage_pmd_size);
  parse_into(dir + "/use_zero_page", parse_sysfs_u64, thp.use_zero_page);

  if (auto kh = fs.list_dir(core::Tree::sys, dir + "/khugepaged")) {
    for (const auto& name : *kh) {
      // Every khugepaged file is a number (mm/khugepaged.c): anything else is damage. A value
      // read is never empty.
      std::string value;
      parse_into(dir + "/khugepaged/" + name, parse_khugepaged_value, value);
      if (!value.empty()) thp.khugepaged.emplace(name, std::move(value));
    }
  } else if (kh.error().kind != core::ErrorKind::missing) {
    bad.push_back(kh.error());
  }

  // mTHP: the per-size files print a bracketed choice too ("always inherit [madvise] never").
  // Sizes below the anonymous minimum have only shmem_enabled.
  for (const auto& name : *names) {
    if (name.rfind("hugepages-", 0) != 0) continue;
    const std::string sub = dir + "/" + name;
    std::map<std::string, std::string> files;
    for (const char* file : {"enabled", "shmem_enabled"}) {
      std::string choice;
      parse_into(sub + "/" + file, parse_thp_selection, choice);
      if (!choice.empty()) files.emplace(file, std::move(choice));
    }
    if (!files.empty()) thp.per_size.emplace(name, std::move(files));
  }
  set_source(sample, sample.thp, "thp", std::move(thp), bad);
}

}  // namespace vmtune::collect
