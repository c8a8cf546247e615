// SPDX-License-Identifier: GPL-2.0-or-later
// Times a full live process scan (every field of model::Process, smaps_rollup included) with
// libproc2's pids API against vmtune's RootFs-based direct reads. Rounds are interleaved so both
// see the same machine state; each reports its median. The baseline is the direct-read scan
// measured in the same run, so the ratio is comparable across machines and loads.
//
//   process_scan_bench [rounds]   (default 20)

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "collect/processes.hpp"
#include "core/root_fs.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const auto n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

template <typename F>
double time_ms(F&& f, std::size_t& count) {
  const auto t0 = Clock::now();
  count = f();
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = 20;
  if (argc > 1) rounds = std::max(1, std::atoi(argv[1]));
  const vmtune::core::RootFs live;
  std::vector<double> direct;
  std::vector<double> proc2;
  std::size_t n_direct = 0;
  std::size_t n_proc2 = 0;
  const auto run_direct = [&] {
    std::vector<vmtune::core::Error> bad;
    auto r = vmtune::collect::scan_processes_rootfs(live, true, &bad);
    return r.ok() ? r->size() : 0;
  };
  const auto run_proc2 = [&] {
    std::vector<vmtune::core::Error> bad;
    auto r = vmtune::collect::scan_processes_libproc2(true, &bad);
    return r.ok() ? r->size() : 0;
  };
  run_direct();  // warm the dentry cache for both
  run_proc2();
  for (int i = 0; i < rounds; ++i) {
    // Alternate which goes first so neither always benefits from the other's cache warmth.
    if (i % 2 == 0) {
      direct.push_back(time_ms(run_direct, n_direct));
      proc2.push_back(time_ms(run_proc2, n_proc2));
    } else {
      proc2.push_back(time_ms(run_proc2, n_proc2));
      direct.push_back(time_ms(run_direct, n_direct));
    }
  }
  const double d = median(direct);
  const double p = median(proc2);
  std::printf("process scan, %d interleaved rounds, full field set incl. smaps_rollup\n", rounds);
  std::printf("  direct reads (RootFs, baseline): median %8.2f ms  (%zu processes)\n", d, n_direct);
  std::printf("  libproc2 pids API + status:      median %8.2f ms  (%zu processes)\n", p, n_proc2);
  std::printf("  ratio libproc2 / baseline:       %.2f\n", p / d);
  std::printf("  faster: %s; live path uses: %s\n", p < d ? "libproc2" : "direct reads",
              vmtune::collect::kLiveScanUsesLibproc2 ? "libproc2" : "direct reads");
  return 0;
}
