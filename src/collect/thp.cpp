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

/// Reads one file under kThpDir; a missing file is not an error (older kernels lack some).
std::optional<std::string> read_optional(const core::RootFs& fs, const std::string& rel,
                                         std::vector<core::Error>& bad) {
  auto text = fs.read_text(core::Tree::sys, rel);
  if (!text) {
    if (text.error().kind != core::ErrorKind::missing) {
      auto err = std::move(text).error();
      // Name the file below the THP directory, as parse errors do.
      if (err.field.empty()) err.field = rel.substr(std::string_view(kThpDir).size() + 1);
      bad.push_back(std::move(err));
    }
    return std::nullopt;
  }
  return std::move(*text);
}

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
    auto err = std::move(names).error();
    if (err.kind == core::ErrorKind::missing) {
      err.kind = core::ErrorKind::unsupported;
      err.message =
          "kernel without transparent huge pages (CONFIG_TRANSPARENT_HUGEPAGE off): " + err.message;
    }
    return fail_source(sample, sample.thp, "thp", err);
  }

  std::vector<core::Error> bad;
  model::Thp thp;
  // The field an error names: the path below the THP directory ("defrag",
  // "khugepaged/pages_to_scan", "hugepages-64kB/enabled").
  const auto field_of = [&](const std::string& rel) { return rel.substr(dir.size() + 1); };
  const auto selection = [&](const std::string& rel, std::string& out) {
    auto text = read_optional(fs, rel, bad);
    if (!text) return;
    auto choice = parse_thp_selection(*text, fs.logical(core::Tree::sys, rel), field_of(rel));
    if (!choice) {
      bad.push_back(choice.error());
      return;
    }
    out = std::move(*choice);
  };
  const auto number = [&](const std::string& rel, std::optional<std::uint64_t>& out) {
    auto text = read_optional(fs, rel, bad);
    if (!text) return;
    auto v = parse_sysfs_u64(*text, fs.logical(core::Tree::sys, rel), field_of(rel));
    if (!v) {
      bad.push_back(v.error());
      return;
    }
    out = *v;
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
  selection(dir + "/defrag", thp.defrag);
  selection(dir + "/shmem_enabled", thp.shmem_enabled);
  number(dir + "/hpage_pmd_size", thp.hpage_pmd_size);
  number(dir + "/use_zero_page", thp.use_zero_page);

  if (auto kh = fs.list_dir(core::Tree::sys, dir + "/khugepaged")) {
    for (const auto& name : *kh) {
      const std::string rel = dir + "/khugepaged/" + name;
      if (auto text = read_optional(fs, rel, bad)) {
        // Every khugepaged file is a number (mm/khugepaged.c): anything else is damage.
        auto v = parse_khugepaged_value(*text, fs.logical(core::Tree::sys, rel), field_of(rel));
        if (v) {
          thp.khugepaged.emplace(name, std::move(*v));
        } else {
          bad.push_back(v.error());
        }
      }
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
      selection(sub + "/" + file, choice);
      if (!choice.empty()) files.emplace(file, std::move(choice));
    }
    if (!files.empty()) thp.per_size.emplace(name, std::move(files));
  }
  set_source(sample, sample.thp, "thp", std::move(thp), bad);
}

}  // namespace vmtune::collect
