// SPDX-License-Identifier: GPL-2.0-or-later
// A snapshot file is untrusted input (attached to a ticket): opening arbitrary bytes must fail
// cleanly or succeed within the archive limits, never crash and never write anything; what it
// holds is then read by every collector, as `vmtune --root FILE collect` would.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <fstream>

#include "collect/collector.hpp"
#include "core/temp_dir.hpp"
#include "snapshot/snapshot.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static auto dir = vmtune::core::TempDir::create("vmtune-fuzz-snap-");
  if (!dir.ok()) return 0;
  const auto file = dir->path() / "input.tar.gz";
  {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  vmtune::snapshot::ArchiveLimits limits;  // small bounds: the same code paths, faster runs
  limits.max_total_bytes = 8u << 20;
  limits.max_file_bytes = 1u << 20;
  limits.max_entries = 4096;
  auto opened = vmtune::snapshot::open_root(file, limits);
  if (opened.ok()) {
    for (std::size_t i = 0; i < opened->trees.size(); ++i) {
      vmtune::collect::CollectOptions opt;
      opt.host = opened->host;
      if (i < opened->monotonic_s.size()) opt.monotonic_s = opened->monotonic_s[i];
      (void)vmtune::collect::collect_sample(opened->trees[i], opt);
    }
  }
  return 0;
}
