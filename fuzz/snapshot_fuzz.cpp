// SPDX-License-Identifier: GPL-2.0-or-later
// A snapshot file is untrusted input (attached to a ticket): opening arbitrary bytes must fail
// cleanly or succeed, never crash, and never write outside its temporary directory.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <fstream>

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
  auto opened = vmtune::snapshot::open_root(file);
  if (opened.ok()) {
    for (const auto& tree : opened->trees) (void)tree.read_text(vmtune::core::Tree::proc, "meminfo");
  }
  return 0;
}
