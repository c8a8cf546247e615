// SPDX-License-Identifier: GPL-2.0-or-later
#include "model/postgres.hpp"

namespace vmtune::model {
namespace {

std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b) { return a / b + (a % b != 0 ? 1 : 0); }

}  // namespace

std::string pg_instance_label(const PgInstance& instance) {
  std::string dir = instance.data_dir;
  if (dir.empty()) {
    if (const auto it = instance.settings.find("data_directory"); it != instance.settings.end()) {
      dir = it->second;
    }
  }
  std::string extra;
  const auto add = [&extra](const std::string& part) {
    extra += (extra.empty() ? "" : ", ") + part;
  };
  std::optional<int> port = instance.port;
  if (!port) {
    if (const auto it = instance.setting_values.find("port"); it != instance.setting_values.end()) {
      port = static_cast<int>(it->second);
    }
  }
  if (port) add("port " + std::to_string(*port));
  if (instance.postmaster_pid > 0) add("pid " + std::to_string(instance.postmaster_pid));
  if (dir.empty()) {
    if (!instance.connection.empty()) return "server at " + instance.connection;
    return extra.empty() ? std::string("PostgreSQL") : "PostgreSQL (" + extra + ")";
  }
  return extra.empty() ? dir : dir + " (" + extra + ")";
}

std::uint64_t pg_hugepages_needed(const PgInstance& instance, std::uint64_t page_size) {
  if (page_size == 0) return 0;
  const auto own = instance.setting_values.find("shared_memory_size_in_huge_pages");
  const auto size = instance.setting_values.find("huge_page_size");
  // huge_page_size is in bytes here (0: the default size); the server's count is for that size.
  const bool default_size = size == instance.setting_values.end() || size->second <= 0 ||
                            static_cast<std::uint64_t>(size->second) == page_size;
  if (own != instance.setting_values.end() && own->second > 0 && default_size) {
    return static_cast<std::uint64_t>(own->second);
  }
  if (instance.segment_size && *instance.segment_size > 0) {
    return ceil_div(*instance.segment_size, page_size);
  }
  return 0;
}

std::uint64_t pg_hugepages_held(const PgInstance& instance, std::uint64_t page_size) {
  if (page_size == 0 || instance.segment_backing != "hugetlb" || !instance.segment_size) return 0;
  if (instance.segment && instance.segment->kernel_page_size != 0 &&
      instance.segment->kernel_page_size != page_size) {
    return 0;  // a pool of another size
  }
  return ceil_div(*instance.segment_size, page_size);
}

}  // namespace vmtune::model
