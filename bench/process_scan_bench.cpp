// SPDX-License-Identifier: GPL-2.0-or-later
// Times a full live process scan three ways: reading smaps_rollup for every process (the cost
// the kernel pays walking page tables under each mmap lock), for the selected few
// (SmapsRollup::selected, the live default), and not at all (a dashboard refresh). Rounds are
// interleaved so all see the same machine state; each reports its median. The baseline is the
// scan without smaps_rollup measured in the same run, so the ratios compare across machines.
//
//   process_scan_bench [rounds]   (default 20)

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "collect/processes.hpp"
#include "core/root_fs.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using vmtune::collect::SmapsRollup;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const auto n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct Run {
  const char* name;
  SmapsRollup smaps;
  std::vector<double> ms;
  vmtune::collect::ProcessScanStats stats;
};

void time_one(const vmtune::core::RootFs& live, Run& run) {
  std::vector<vmtune::core::Error> bad;
  vmtune::collect::ProcessScanStats st;
  const auto t0 = Clock::now();
  auto r = vmtune::collect::scan_processes_rootfs(live, run.smaps, &bad, &st);
  run.ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  if (r.ok()) run.stats = st;
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = 20;
  if (argc > 1) rounds = std::max(1, std::atoi(argv[1]));
  const vmtune::core::RootFs live;
  std::array<Run, 3> runs = {Run{"no smaps_rollup (baseline)", SmapsRollup::none, {}, {}},
                             Run{"smaps_rollup, selected", SmapsRollup::selected, {}, {}},
                             Run{"smaps_rollup, every process", SmapsRollup::all, {}, {}}};
  for (auto& r : runs) time_one(live, r);  // warm the dentry cache
  for (auto& r : runs) r.ms.clear();
  for (int i = 0; i < rounds; ++i) {
    // Rotate which goes first so none always benefits from the others' cache warmth.
    for (std::size_t k = 0; k < runs.size(); ++k) time_one(live, runs[(k + i) % runs.size()]);
  }
  const double base = median(runs[0].ms);
  std::printf("process scan, %d interleaved rounds, %zu processes\n", rounds,
              runs[0].stats.scanned);
  for (const auto& r : runs) {
    const double m = median(r.ms);
    std::printf("  %-30s median %8.2f ms  smaps_rollup read for %5zu  ratio to baseline %.2f\n",
                r.name, m, r.stats.smaps_read, m / base);
  }
  return 0;
}
