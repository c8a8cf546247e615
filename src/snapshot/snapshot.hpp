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
// (DIR/proc, DIR/sys, DIR/etc) such as a fixture.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <vector>

#include "core/result.hpp"
#include "core/root_fs.hpp"
#include "core/temp_dir.hpp"
#include "json/sample_json.hpp"
#include "model/sample.hpp"

namespace vmtune::snapshot {

inline constexpr int kFormatVersion = 1;

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
  std::optional<core::TempDir> unpacked;  ///< owns the extracted files of an archive
  std::vector<core::RootFs> trees;
  std::vector<double> monotonic_s;        ///< parallel to trees; empty for plain trees
  std::vector<std::int64_t> time_unix_ms; ///< parallel to trees; empty for plain trees
  std::optional<model::HostInfo> host;    ///< from meta.json
  json::Json extras = json::Json::object();
  bool is_snapshot = false;
};

/// Opens --root: an archive file, an unpacked snapshot directory, or a plain tree.
core::Result<Opened> open_root(const std::filesystem::path& root);

}  // namespace vmtune::snapshot
