// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// Snapshot files: a gzip-compressed tar holding exactly what the collectors read, taken twice a
// window apart so rates replay offline.
//
//   meta.json          {"format": 1, "host": {...}, "redacted": bool,
//                       (each sample also lists "failed_reads": {path: {kind, message}} so a
//                       permission-denied file replays as such, not as missing)
//                       "samples": [{"dir": "s0", "monotonic_s": …, "time_unix_ms": …}, …],
//                       "extras": {"postgres": …, "bpf": …}}
//   s0/proc/…, s0/sys/…, s0/etc/…   first reading
//   s1/…                             second reading
//
// Any --root accepts such a file, a directory it was unpacked into, or a plain tree
// (DIR/proc, DIR/sys, DIR/etc) such as a fixture. An archive is untrusted input: it is read into
// memory (never extracted to disk) within ArchiveLimits, and meta.json is validated.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <vector>

#include "core/result.hpp"
#include "core/root_fs.hpp"
#include "json/sample_json.hpp"
#include "model/sample.hpp"

namespace vmtune::snapshot {

inline constexpr int kFormatVersion = 1;

/// Bounds on what reading one snapshot archive may cost. A real snapshot of a host with 5,000
/// processes holds about 100,000 entries and a few tens of MiB.
struct ArchiveLimits {
  std::uint64_t max_total_bytes = 256ull << 20;  ///< uncompressed bytes of all members
  std::uint64_t max_file_bytes = 64ull << 20;    ///< one member (RootFs::read_text's bound)
  std::uint64_t max_entries = 250000;            ///< members, files and directories
};

struct CapturedSample {
  core::ReadRecord record;
  double monotonic_s = 0;
  std::int64_t time_unix_ms = 0;
};

struct WriteOptions {
  bool redact = false;  ///< drop command lines and the host name
};

/// Writes the archive atomically (temp file + rename). `extras` is stored under meta "extras".
core::Status write_snapshot(const std::filesystem::path& out, model::HostInfo host,
                            const std::vector<CapturedSample>& samples, const json::Json& extras,
                            const WriteOptions& options);

/// A readable input: one or more trees (in time order) plus their host facts.
struct Opened {
  std::vector<core::RootFs> trees;
  std::vector<double> monotonic_s;         ///< parallel to trees; empty for plain trees
  std::vector<std::int64_t> time_unix_ms;  ///< parallel to trees; empty for plain trees
  std::optional<model::HostInfo> host;     ///< from meta.json
  json::Json extras = json::Json::object();
  bool is_snapshot = false;
};

/// Opens --root: an archive file, an unpacked snapshot directory, or a plain tree.
core::Result<Opened> open_root(const std::filesystem::path& root, const ArchiveLimits& limits = {});

/// Checks meta.json's host facts and sample times: page size a power of two of at least 4 KiB,
/// finite monotonic times that increase (a window > 0), sane CPU count and clock tick.
core::Status validate_meta(const Opened& opened);

}  // namespace vmtune::snapshot
