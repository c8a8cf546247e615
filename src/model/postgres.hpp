// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// PostgreSQL facts: what discovery found from /proc (no connection needed), what a libpq
// connection reported, and the page-cache sampler's double-buffering estimate. Plain data;
// filled by src/collect/postgres/*.cpp, stored in snapshots under extras["postgres"].

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace vmtune::model {

/// The main shared-memory segment of a postmaster, from /proc/PID/smaps (the largest shared
/// mapping: "/dev/zero (deleted)", "/anon_hugepage (deleted)", "/SYSV… (deleted)", "/memfd:…").
struct PgSegment {
  std::string mapping;                 ///< smaps path column; untrusted text
  std::uint64_t size = 0;              ///< virtual size of the mapping, bytes (smaps "Size")
  std::uint64_t kernel_page_size = 0;  ///< bytes (smaps "KernelPageSize"): 4096, 2097152, …
  std::uint64_t rss = 0;               ///< smaps "Rss", bytes (hugetlb pages are not in Rss)
  std::uint64_t hugetlb = 0;           ///< smaps "Shared_Hugetlb" + "Private_Hugetlb", bytes
  std::uint64_t pmd_mapped = 0;        ///< smaps "ShmemPmdMapped" + "AnonHugePages", bytes (THP)
  /// "hugetlb" (KernelPageSize > base page or VmFlags "ht"), "thp" (PMD-mapped THP on it),
  /// or "4k" (base pages).
  std::string backing;
};

/// pg_buffercache (extension): usage of shared_buffers.
struct PgBufferCache {
  std::uint64_t buffers_used = 0;
  std::uint64_t buffers_unused = 0;
  std::uint64_t buffers_dirty = 0;
  std::uint64_t buffers_pinned = 0;
  std::optional<double> usagecount_avg;
  std::map<std::string, std::uint64_t> usage_counts;  ///< "0".."5" -> buffers
  std::string method;  ///< "pg_buffercache_summary()" (16+) or "pg_buffercache view"
};

/// Page-cache residency of the relation files (mincore over read-only mappings, as pgfincore
/// and fincore do), sampled with a bound on time and bytes, largest files first.
struct PgPageCache {
  std::uint64_t files_total = 0;  ///< relation files found under base/, global/, pg_tblspc/
  std::uint64_t bytes_total = 0;  ///< their total size
  std::uint64_t files_sampled = 0;
  std::uint64_t bytes_sampled = 0;   ///< bytes whose residency was measured
  std::uint64_t bytes_resident = 0;  ///< of bytes_sampled, resident in the page cache
  /// bytes_resident scaled to bytes_total when the sample was cut short (else = bytes_resident).
  std::uint64_t bytes_resident_estimate = 0;
  bool truncated = false;  ///< a bound (time or bytes) stopped the sample
  double elapsed_s = 0;
  std::string method;  ///< how files were chosen and bounded
};

struct PgInstance {
  // Discovery (from /proc, no connection).
  int postmaster_pid = 0;  ///< 0 when known only from a connection (e.g. a remote server)
  std::string data_dir;    ///< untrusted text
  std::optional<int> port;
  std::string socket_dir;      ///< untrusted text
  std::string listen_address;  ///< postmaster.pid line 6; untrusted text
  std::string status;          ///< postmaster.pid line 8: "ready", "starting", "stopping", …
  std::optional<std::int64_t> start_time_unix;
  std::string user;  ///< owner of the postmaster (Uid), as a name when it resolves
  std::vector<int> backend_pids;
  std::optional<PgSegment> segment;
  std::optional<std::uint64_t> segment_size;       ///< = segment->size (kept for simple rules)
  std::string segment_backing;                     ///< "hugetlb" | "thp" | "4k" | "unknown"
  std::uint32_t processes_counted = 0;             ///< postmaster + children whose status was read
  std::optional<std::uint64_t> page_tables_total;  ///< Σ VmPTE over postmaster + children, bytes
  std::optional<std::uint64_t> rss_shmem_total;    ///< Σ RssShmem, bytes
  std::optional<std::uint64_t> hugetlb_total;      ///< Σ HugetlbPages, bytes
  std::optional<std::uint64_t> rss_anon_total;     ///< Σ RssAnon, bytes
  /// Σ RssShmem / 512: the page-table bytes the 4 KiB-mapped shared memory costs (DOMAIN §4.2).
  std::optional<std::uint64_t> shmem_page_table_estimate;

  // Connection (absent when none could be made).
  bool connected = false;
  std::string connection;  ///< "host=… port=… user=… dbname=…" (no password); untrusted text
  std::string connection_error;  ///< why the connection failed; empty when connected
  std::optional<int> server_version_num;
  /// GUC name -> current_setting() text, e.g. "shared_buffers" -> "128MB".
  std::map<std::string, std::string> settings;
  /// GUC name -> numeric value: bytes for memory settings, the plain number otherwise.
  std::map<std::string, double> setting_values;
  /// Counters and ratios: "database.blks_hit", "database.hit_ratio", "bgwriter.buffers_alloc",
  /// "checkpointer.num_timed" (17+), "io.client_backend.reads" (16+), …
  std::map<std::string, double> stats;
  std::optional<PgBufferCache> buffercache;

  // Double buffering.
  std::optional<PgPageCache> page_cache;
  /// Upper bound of the bytes cached twice: min(relation bytes in the page cache (estimate),
  /// shared_buffers in use (pg_buffercache) or configured). Absent when either is unknown.
  std::optional<std::uint64_t> double_buffered_bytes;
  std::optional<double> double_buffered_ratio;  ///< double_buffered_bytes / shared_buffers
  /// Kept for older snapshots and simple rules: = page_cache->bytes_resident_estimate and
  /// page_cache->bytes_sampled.
  std::optional<std::uint64_t> page_cache_overlap;
  std::optional<std::uint64_t> relation_bytes_sampled;
};

struct PostgresFacts {
  std::vector<PgInstance> instances;
};

/// How findings, plans and screens name an instance: its data directory (from /proc, else as the
/// server reports it), then port and postmaster pid when known:
/// "/var/lib/postgresql/15/main (port 5432, pid 812)". Untrusted text: escape before output.
std::string pg_instance_label(const PgInstance& instance);

/// Huge pages of `page_size` bytes the instance's shared memory needs: the server's own
/// shared_memory_size_in_huge_pages when it reported one (and its huge_page_size is the default),
/// else ceil(segment size / page_size) from smaps; 0 when neither is known (DOMAIN.md §4.1).
std::uint64_t pg_hugepages_needed(const PgInstance& instance, std::uint64_t page_size);

/// Huge pages of `page_size` bytes the instance holds now: its segment when hugetlb-backed (the
/// whole mapping is reserved at mmap), else 0.
std::uint64_t pg_hugepages_held(const PgInstance& instance, std::uint64_t page_size);

}  // namespace vmtune::model
