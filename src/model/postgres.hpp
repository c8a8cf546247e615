// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// PostgreSQL facts: what discovery found from /proc (no connection needed) and what a libpq
// connection reported. Plain data; filled by src/collect/postgres*.cpp.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace vmtune::model {

struct PgInstance {
  int postmaster_pid = 0;
  std::string data_dir;     ///< untrusted text
  std::optional<int> port;
  std::string socket_dir;   ///< untrusted text
  std::vector<int> backend_pids;
  std::optional<std::uint64_t> segment_size;  ///< main shared memory segment, bytes
  std::string segment_backing;  ///< "hugetlb" | "thp" | "4k" | "unknown"
  std::optional<std::uint64_t> page_tables_total;  ///< Σ VmPTE over postmaster + backends
  std::optional<std::uint64_t> rss_shmem_total;    ///< Σ RssShmem
  /// From a connection (absent when none could be made): GUC name -> setting text.
  std::map<std::string, std::string> settings;
  std::map<std::string, double> stats;  ///< "hit_ratio", "buffers_checkpoint", ...
  std::optional<std::uint64_t> page_cache_overlap;  ///< bytes of relation files in page cache
  std::optional<std::uint64_t> relation_bytes_sampled;
};

struct PostgresFacts {
  std::vector<PgInstance> instances;
};

}  // namespace vmtune::model
