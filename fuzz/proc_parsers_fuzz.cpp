// SPDX-License-Identifier: GPL-2.0-or-later
// Every /proc, /sys and cgroup parser on arbitrary bytes: the first byte picks the parser. They
// must return a value or an error naming the file, never crash, hang or read out of bounds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "collect/buddyinfo.hpp"
#include "collect/cgroups.hpp"
#include "collect/counters.hpp"
#include "collect/meminfo.hpp"
#include "collect/postgres/discovery.hpp"
#include "collect/postgres/smaps.hpp"
#include "collect/processes.hpp"
#include "collect/psi.hpp"
#include "collect/swaps.hpp"
#include "collect/sysctl_conf.hpp"
#include "collect/vmstat.hpp"
#include "collect/zoneinfo.hpp"

using namespace vmtune;

namespace {

void check(const core::Error& e, const std::string& path) {
  // Errors keep the logical path they were given.
  if (e.path != path) std::abort();
}

template <typename R>
void check_result(const R& r, const std::string& path) {
  if (!r.ok()) check(r.error(), path);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::string path = "/proc/fuzz";
  std::vector<core::Error> bad;
  switch (data[0] % 13) {
    case 0:
      check_result(collect::parse_meminfo(text, path, &bad), path);
      break;
    case 1:
      check_result(collect::parse_vmstat(text, path, &bad), path);
      break;
    case 2:
      check_result(collect::parse_zoneinfo(text, path, &bad), path);
      break;
    case 3:
      check_result(collect::parse_buddyinfo(text, path, &bad), path);
      break;
    case 4:
      check_result(collect::parse_psi(text, path, &bad), path);
      break;
    case 5:
      check_result(collect::parse_swaps(text, path, &bad), path);
      break;
    case 6:
      check_result(collect::parse_counters(text, path, &bad), path);
      break;
    case 7:
      check_result(collect::parse_proc_stat(text, path), path);
      break;
    case 8: {
      model::Process p;
      collect::parse_proc_status(text, p);
      collect::parse_smaps_rollup(text, p);
      (void)collect::parse_cmdline(text);
      break;
    }
    case 9:
      (void)collect::parse_sysctl_conf(text, path, &bad);
      break;
    case 10:
      check_result(collect::postgres::parse_smaps(text, path, &bad), path);
      break;
    case 11:
      check_result(collect::postgres::parse_postmaster_pid(text, path), path);
      break;
    default:
      (void)collect::postgres::parse_postgres_cmdline(text);
      break;
  }
  for (const auto& e : bad) check(e, path);
  return 0;
}
