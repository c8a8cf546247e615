// SPDX-License-Identifier: GPL-2.0-or-later
#include "collect/collector.hpp"

#include <sys/utsname.h>
#include <unistd.h>

#include <chrono>
#include <ctime>

#include "collect/buddyinfo.hpp"
#include "collect/cgroups.hpp"
#include "collect/hugepages.hpp"
#include "collect/meminfo.hpp"
#include "collect/numa.hpp"
#include "collect/processes.hpp"
#include "collect/psi.hpp"
#include "collect/swaps.hpp"
#include "collect/sysctl.hpp"
#include "collect/sysctl_conf.hpp"
#include "collect/thp.hpp"
#include "collect/vmstat.hpp"
#include "collect/zoneinfo.hpp"
#include "core/parse.hpp"
#include "core/version.hpp"

namespace vmtune::collect {
namespace {

double monotonic_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

std::int64_t unix_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace

model::HostInfo live_host_info() {
  model::HostInfo h;
  utsname u{};
  if (uname(&u) == 0) {
    h.hostname = u.nodename;
    h.kernel_release = u.release;
    h.arch = u.machine;
  }
  const long ps = sysconf(_SC_PAGESIZE);
  if (ps > 0) h.page_size = static_cast<std::uint64_t>(ps);
  const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  if (cpus > 0) h.cpus = static_cast<std::uint32_t>(cpus);
  const long tck = sysconf(_SC_CLK_TCK);
  if (tck > 0) h.clk_tck = static_cast<std::uint32_t>(tck);
  h.time_unix_ms = unix_ms();
  h.vmtune_version = core::kVersion;
  return h;
}

model::HostInfo tree_host_info(const core::RootFs& fs) {
  model::HostInfo h;
  if (auto rel = fs.read_text(core::Tree::proc, "sys/kernel/osrelease")) {
    h.kernel_release = std::string(core::trim(*rel));
  }
  if (auto host = fs.read_text(core::Tree::proc, "sys/kernel/hostname")) {
    h.hostname = std::string(core::trim(*host));
  }
  h.vmtune_version = core::kVersion;
  return h;
}

model::Sample collect_sample(const core::RootFs& fs, const CollectOptions& options) {
  model::Sample s;
  s.host = options.host ? *options.host : (fs.is_live() ? live_host_info() : tree_host_info(fs));
  s.host.time_unix_ms = options.time_unix_ms ? *options.time_unix_ms
                                             : (fs.is_live() ? unix_ms() : s.host.time_unix_ms);
  s.monotonic_s = options.monotonic_s ? *options.monotonic_s : monotonic_seconds();
  // One call per source; each fills its section and appends to s.unavailable.
  read_meminfo(fs, s);
  read_vmstat(fs, s);
  read_zoneinfo(fs, s);
  read_buddyinfo(fs, s);
  read_psi(fs, s);
  read_sysctl(fs, s);
  read_sysctl_conf(fs, s);
  read_swaps(fs, s);
  read_thp(fs, s);
  read_hugepages(fs, s);
  read_numa(fs, s);
  if (options.cgroups) read_cgroups(fs, s);
  if (options.processes) {
    // A captured tree holds smaps_rollup only where the live scan read it: read all there are.
    const auto smaps =
        fs.is_live() || options.smaps == SmapsRollup::none ? options.smaps : SmapsRollup::all;
    read_processes(fs, s, smaps);
  }
  return s;
}

}  // namespace vmtune::collect
