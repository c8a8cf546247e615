// SPDX-License-Identifier: GPL-2.0-or-later
#include "collect/hugepages.hpp"

#include <algorithm>
#include <limits>
#include <optional>

#include "collect/source_util.hpp"
#include "core/parse.hpp"

namespace vmtune::collect {
namespace {

constexpr const char* kHugepagesDir = "kernel/mm/hugepages";

}  // namespace

core::Result<std::uint64_t> parse_sysfs_u64(std::string_view text, const std::string& logical_path,
                                            const std::string& field) {
  const auto trimmed = core::trim(text);
  if (trimmed.empty()) {
    return core::make_error(core::ErrorKind::parse_error, logical_path, "file is empty", 0, field);
  }
  core::NumberProblem why{};
  if (auto v = core::parse_u64(trimmed, &why)) return *v;
  return core::field_error(logical_path, 1, field, "an unsigned integer", core::to_string(why));
}

core::Result<std::uint64_t> parse_hugepage_dir_size(std::string_view name,
                                                    const std::string& logical_path) {
  constexpr std::string_view prefix = "hugepages-";
  constexpr std::string_view suffix = "kB";
  const auto bad = [&] {
    return core::make_error(core::ErrorKind::parse_error, logical_path,
                            "expected a directory named \"hugepages-<n>kB\"");
  };
  if (name.size() <= prefix.size() + suffix.size() || name.substr(0, prefix.size()) != prefix ||
      name.substr(name.size() - suffix.size()) != suffix) {
    return bad();
  }
  const auto digits = name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
  const auto kb = core::parse_u64(digits);
  if (!kb || *kb == 0 || *kb > std::numeric_limits<std::uint64_t>::max() / 1024) return bad();
  return *kb * 1024;
}

core::Result<std::vector<model::HugePagePool>> read_hugepage_pools(const core::RootFs& fs,
                                                                   const std::string& rel_dir,
                                                                   std::vector<core::Error>* bad) {
  auto names = fs.list_dir(core::Tree::sys, rel_dir);
  if (!names) return std::move(names).error();
  std::vector<model::HugePagePool> pools;
  for (const auto& name : *names) {
    if (name.rfind("hugepages-", 0) != 0) continue;
    const std::string dir = rel_dir + "/" + name;
    auto size = parse_hugepage_dir_size(name, fs.logical(core::Tree::sys, dir));
    if (!size) {
      if (bad != nullptr) bad->push_back(size.error());
      continue;
    }
    model::HugePagePool pool;
    pool.page_size = *size;
    const auto read_count = [&](const char* file, std::optional<std::uint64_t>& out) {
      // Per-node pools have no resv/overcommit files; older kernels lack some: not an error.
      const std::string rel = dir + "/" + file;
      if (auto text = read_optional(fs, core::Tree::sys, rel, bad, file)) {
        store_parsed(parse_sysfs_u64(*text, fs.logical(core::Tree::sys, rel), file), out, bad);
      }
    };
    read_count("nr_hugepages", pool.nr);
    read_count("free_hugepages", pool.free);
    read_count("resv_hugepages", pool.resv);
    read_count("surplus_hugepages", pool.surplus);
    read_count("nr_overcommit_hugepages", pool.overcommit);
    pools.push_back(std::move(pool));
  }
  std::sort(pools.begin(), pools.end(),
            [](const auto& a, const auto& b) { return a.page_size < b.page_size; });
  return pools;
}

void read_hugepages(const core::RootFs& fs, model::Sample& sample) {
  std::vector<core::Error> bad;
  auto pools = read_hugepage_pools(fs, kHugepagesDir, &bad);
  if (!pools) {
    return fail_source(sample, sample.hugepages, "hugepages",
                       unsupported_if_missing(std::move(pools).error(),
                                              "kernel without hugetlbfs (CONFIG_HUGETLBFS off)"));
  }
  set_source(sample, sample.hugepages, "hugepages", std::move(*pools), bad);
}

}  // namespace vmtune::collect
