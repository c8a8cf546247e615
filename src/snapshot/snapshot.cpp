// SPDX-License-Identifier: GPL-2.0-or-later
#include "snapshot/snapshot.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <tuple>

#include "core/escape.hpp"

namespace vmtune::snapshot {
namespace {

using core::ErrorKind;
using core::make_error;

struct ArchiveWriter {
  archive* a = archive_write_new();
  ~ArchiveWriter() { archive_write_free(a); }
};
struct ArchiveReader {
  archive* a = archive_read_new();
  ~ArchiveReader() { archive_read_free(a); }
};
struct EntryPtr {
  archive_entry* e = archive_entry_new();
  ~EntryPtr() { archive_entry_free(e); }
};

// libarchive's message, with the system error behind it ("Write error: No space left on device").
std::string archive_why(archive* a) {
  const char* msg = archive_error_string(a);
  std::string out = msg != nullptr ? msg : "unknown error";
  const int err = archive_errno(a);
  if (err > 0 && out.find(std::strerror(err)) == std::string::npos)
    out += std::string(": ") + std::strerror(err);
  return out;
}

ErrorKind error_kind_from_string(const std::string& s) {
  for (const auto k : {ErrorKind::missing, ErrorKind::permission_denied, ErrorKind::parse_error,
                       ErrorKind::unsupported, ErrorKind::io_error, ErrorKind::invalid_argument}) {
    if (s == core::to_string(k)) return k;
  }
  return ErrorKind::io_error;
}

bool is_cmdline(const std::string& logical) {
  return logical.size() > 8 && logical.compare(logical.size() - 8, 8, "/cmdline") == 0;
}
bool is_hostname(const std::string& logical) {
  return logical == "/proc/sys/kernel/hostname" || logical == "/etc/hostname";  // lint:logical-path
}

// Archive member name for a logical path inside sample dir `dir`: "s0" + "/proc/meminfo".
std::string member(const std::string& dir, const std::string& logical) { return dir + logical; }

core::Status add_entry(archive* a, const std::string& name, bool is_dir, std::string_view data,
                       const std::filesystem::path& out, unsigned mode = 0644) {
  EntryPtr e;
  archive_entry_set_pathname(e.e, name.c_str());
  archive_entry_set_filetype(e.e, is_dir ? AE_IFDIR : AE_IFREG);
  archive_entry_set_perm(e.e, is_dir ? 0755 : mode);
  archive_entry_set_size(e.e, is_dir ? 0 : static_cast<la_int64_t>(data.size()));
  archive_entry_set_mtime(e.e, 0, 0);
  if (archive_write_header(a, e.e) != ARCHIVE_OK) {
    return make_error(ErrorKind::io_error, out.string(),
                      std::string("writing archive entry ") + name + ": " + archive_why(a));
  }
  if (!is_dir && !data.empty() &&
      archive_write_data(a, data.data(), data.size()) != static_cast<la_ssize_t>(data.size())) {
    return make_error(ErrorKind::io_error, out.string(),
                      std::string("writing archive data ") + name + ": " + archive_why(a));
  }
  return core::ok_status();
}

// Rejects absolute paths and ".." components in archive members (a snapshot is untrusted input).
// Longest member name and deepest path a snapshot holds (/proc/PID/... and cgroup paths are far
// shallower): a name is also a cost, as every ancestor becomes a directory of the tree.
constexpr std::size_t kMaxMemberName = 4096;
constexpr std::size_t kMaxMemberDepth = 64;
// `vmtune snapshot` writes two readings; a handful more is a window someone stitched together.
constexpr std::size_t kMaxSamples = 16;

bool safe_member(const std::string& name) {
  if (name.empty() || name.front() == '/' || name.size() > kMaxMemberName) return false;
  std::size_t depth = 0;
  std::string_view rest = name;
  while (!rest.empty()) {
    const auto slash = rest.find('/');
    const auto part = rest.substr(0, slash);
    if (part == "..") return false;
    if (!part.empty() && ++depth > kMaxMemberDepth) return false;
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  return true;
}

std::string limit_text(std::uint64_t bytes) {
  return bytes >= (1ull << 20) ? std::to_string(bytes >> 20) + " MiB"
                               : std::to_string(bytes) + " bytes";
}

/// An archive read into memory: meta.json and one MemTree per sample directory ("s0", …).
struct ArchiveContent {
  std::optional<std::string> meta;
  std::map<std::string, std::shared_ptr<core::MemTree>> samples;
};

/// What read_archive has taken in so far, against its limits.
struct ReadBudget {
  const ArchiveLimits& limits;
  const std::string& where;
  std::uint64_t total = 0;  ///< bytes of member names and data
  std::uint64_t entries = 0;
};

core::Error expands_too_far(const ReadBudget& b) {
  return make_error(ErrorKind::parse_error, b.where,
                    "refused: archive expands beyond " + limit_text(b.limits.max_total_bytes));
}

core::Error member_too_large(const ReadBudget& b, const std::string& name) {
  return make_error(
      ErrorKind::parse_error, b.where,
      "refused: member " + name + " is larger than " + limit_text(b.limits.max_file_bytes));
}

core::Status open_archive(archive* a, int fd, const std::string& where) {
  // gzip only (what the writer produces): some other filters run external programs.
  archive_read_support_filter_gzip(a);
  archive_read_support_format_tar(a);
  archive_read_support_format_gnutar(a);
  if (archive_read_open_fd(a, fd, 65536) != ARCHIVE_OK) {
    return make_error(ErrorKind::parse_error, where,
                      "not a vmtune snapshot archive: " + archive_why(a));
  }
  return core::ok_status();
}

// The member's name without trailing slashes, checked and counted against the limits.
core::Result<std::string> member_name(archive_entry* e, ReadBudget& budget) {
  if (++budget.entries > budget.limits.max_entries) {
    return make_error(ErrorKind::parse_error, budget.where,
                      "refused: more than " + std::to_string(budget.limits.max_entries) +
                          " archive members (a snapshot has far fewer)");
  }
  const char* raw_name = archive_entry_pathname(e);
  std::string name = raw_name != nullptr ? raw_name : "";
  while (name.size() > 1 && name.back() == '/') name.pop_back();
  if (!safe_member(name)) {
    return make_error(ErrorKind::parse_error, budget.where,
                      "archive member with an unsafe path: " + name);
  }
  budget.total += name.size();  // every name is kept (and its directories): it costs too
  if (budget.total > budget.limits.max_total_bytes) return expands_too_far(budget);
  return name;
}

// A regular member's data: refused from its declared size before anything is decompressed,
// and as soon as it grows past a limit.
core::Result<std::string> member_data(archive* a, archive_entry* e, const std::string& name,
                                      ReadBudget& budget) {
  const auto max_file = budget.limits.max_file_bytes;
  const la_int64_t declared = archive_entry_size_is_set(e) ? archive_entry_size(e) : 0;
  if (declared < 0 || static_cast<std::uint64_t>(declared) > max_file) {
    return member_too_large(budget, name);
  }
  std::string content;
  char buf[65536];
  la_ssize_t n;
  while ((n = archive_read_data(a, buf, sizeof buf)) > 0) {
    budget.total += static_cast<std::uint64_t>(n);
    if (content.size() + static_cast<std::size_t>(n) > max_file) {
      return member_too_large(budget, name);
    }
    if (budget.total > budget.limits.max_total_bytes) return expands_too_far(budget);
    content.append(buf, static_cast<std::size_t>(n));
  }
  if (n < 0) {
    return make_error(ErrorKind::parse_error, budget.where,
                      "truncated or corrupt archive at " + name + ": " + archive_why(a));
  }
  return content;
}

// Keeps meta.json, and files every other member in its sample directory's tree.
void store_member(ArchiveContent& out, const std::string& name, archive_entry* e, bool is_dir,
                  std::string content) {
  if (name == "meta.json" && !is_dir) {
    out.meta = std::move(content);
    return;
  }
  const auto slash = name.find('/');
  const std::string dir = name.substr(0, slash);
  auto& tree = out.samples[dir];
  if (!tree) tree = std::make_shared<core::MemTree>();
  if (slash == std::string::npos) return;  // the sample directory itself
  const std::string logical = name.substr(slash);
  if (!is_dir) {
    const auto perm = static_cast<unsigned>(archive_entry_perm(e)) & 07777;
    if (perm != 0644) tree->modes[logical] = perm;
  }
  tree->add(logical, is_dir, std::move(content));
}

// Reads every member into memory within the limits; a member over a limit is refused from its
// header, before its data is decompressed. Links, devices and FIFOs in the archive are ignored.
core::Result<ArchiveContent> read_archive(const std::filesystem::path& file,
                                          const ArchiveLimits& limits) {
  const std::string where = file.string();
  auto fd = core::open_regular(file, where, core::OpenPolicy{true, std::nullopt, ~std::size_t{0}});
  if (!fd) return std::move(fd).error();
  ArchiveReader r;
  if (auto ok = open_archive(r.a, fd->get(), where); !ok) return std::move(ok).error();
  ArchiveContent out;
  ReadBudget budget{limits, where};
  archive_entry* e = nullptr;
  int rc;
  while ((rc = archive_read_next_header(r.a, &e)) == ARCHIVE_OK) {
    auto name = member_name(e, budget);
    if (!name) return std::move(name).error();
    const auto type = archive_entry_filetype(e);
    if (type != AE_IFDIR && type != AE_IFREG) continue;  // links and devices are ignored
    const bool is_dir = type == AE_IFDIR;
    std::string content;
    if (!is_dir) {
      auto data = member_data(r.a, e, *name, budget);
      if (!data) return std::move(data).error();
      content = std::move(*data);
    }
    store_member(out, *name, e, is_dir, std::move(content));
  }
  if (rc != ARCHIVE_EOF) {
    return make_error(ErrorKind::parse_error, where,
                      "truncated or corrupt archive: " + archive_why(r.a));
  }
  if (!out.meta) {
    return make_error(ErrorKind::parse_error, where, "not a vmtune snapshot: no meta.json");
  }
  return out;
}

bool finite_number(const json::Json& j) { return j.is_number() && std::isfinite(j.get<double>()); }

// An integer JSON number within [lo, hi] (a float or an out-of-range value would be undefined
// behaviour when converted): the error names the field.
core::Status check_integer(const json::Json& obj, const char* key, std::int64_t lo, std::int64_t hi,
                           const std::string& meta_name, const std::string& field) {
  if (!obj.contains(key)) return core::ok_status();
  const auto& v = obj[key];
  bool in_range = false;  // hi >= 0 in every use
  if (v.is_number_unsigned()) {
    const auto u = v.get<std::uint64_t>();
    in_range =
        u <= static_cast<std::uint64_t>(hi) && (lo <= 0 || u >= static_cast<std::uint64_t>(lo));
  } else if (v.is_number_integer()) {
    const auto i = v.get<std::int64_t>();
    in_range = i >= lo && i <= hi;
  }
  if (in_range) return core::ok_status();
  return make_error(ErrorKind::parse_error, meta_name,
                    "expected an integer from " + std::to_string(lo) + " to " + std::to_string(hi),
                    0, field);
}

// meta.json's "host" object, its integers checked before they are converted.
core::Result<model::HostInfo> parse_meta_host(const json::Json& h, const std::string& meta_name) {
  if (!h.is_object()) {
    return make_error(ErrorKind::parse_error, meta_name, "expected an object", 0, "host");
  }
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  for (const auto& [key, lo, hi] :
       {std::tuple<const char*, std::int64_t, std::int64_t>{"page_size", 0, kMax},
        {"cpus", 0, 0xffffffff},
        {"clk_tck", 0, 0xffffffff},
        {"time_unix_ms", std::numeric_limits<std::int64_t>::min(), kMax}}) {
    if (auto ok = check_integer(h, key, lo, hi, meta_name, std::string("host.") + key); !ok) {
      return std::move(ok).error();
    }
  }
  return json::host_from_json(h);
}

// One entry of meta.json's "samples": a safe directory name `sub`, listed once, and its times.
core::Status check_sample_entry(const json::Json& s, const std::string& sub,
                                std::set<std::string>& seen, const std::string& meta_name) {
  if (!safe_member(sub) || sub.find('/') != std::string::npos || sub == ".") {
    return make_error(ErrorKind::parse_error, meta_name, "unsafe sample directory " + sub, 0,
                      "samples.dir");
  }
  if (!seen.insert(sub).second) {
    return make_error(ErrorKind::parse_error, meta_name, "reading " + sub + " listed twice", 0,
                      "samples.dir");
  }
  if (auto ok = check_integer(s, "time_unix_ms", std::numeric_limits<std::int64_t>::min(),
                              std::numeric_limits<std::int64_t>::max(), meta_name,
                              "samples.time_unix_ms");
      !ok) {
    return ok;
  }
  if (s.contains("monotonic_s") && !finite_number(s["monotonic_s"])) {
    return make_error(ErrorKind::parse_error, meta_name, "expected a finite number", 0,
                      "samples.monotonic_s");
  }
  return core::ok_status();
}

// The reads that failed when captured ("failed_reads"), so a replay fails them the same way.
std::map<std::string, std::pair<ErrorKind, std::string>> failed_reads(const json::Json& s) {
  std::map<std::string, std::pair<ErrorKind, std::string>> failures;
  for (const auto& [path, err] : s.items()) {
    failures[path] = {error_kind_from_string(err.value("kind", "")),
                      err.value("message", std::string("failed when captured"))};
  }
  return failures;
}

// meta.json's "samples": one tree per reading, from `tree_for(dir)`, with its times.
template <typename TreeFor>
core::Status add_samples(const json::Json& meta, const std::string& meta_name, TreeFor& tree_for,
                         Opened& opened) {
  if (!meta.contains("samples") || !meta["samples"].is_array()) {
    return make_error(ErrorKind::parse_error, meta_name, "expected an array", 0, "samples");
  }
  if (meta["samples"].size() > kMaxSamples) {
    return make_error(ErrorKind::parse_error, meta_name,
                      "more than " + std::to_string(kMaxSamples) + " readings", 0, "samples");
  }
  std::set<std::string> seen;
  for (const auto& s : meta["samples"]) {
    const std::string sub = s.at("dir").get<std::string>();
    if (auto ok = check_sample_entry(s, sub, seen, meta_name); !ok) return ok;
    auto tree = tree_for(sub);
    if (!tree) return std::move(tree).error();
    if (s.contains("failed_reads") && s["failed_reads"].is_object()) {
      tree->replay_failures(failed_reads(s["failed_reads"]));
    }
    opened.trees.push_back(std::move(*tree));
    opened.monotonic_s.push_back(s.value("monotonic_s", 0.0));
    opened.time_unix_ms.push_back(s.value("time_unix_ms", std::int64_t{0}));
  }
  return core::ok_status();
}

// Parses meta.json; `tree_for(dir)` gives the RootFs of a sample directory ("s0").
template <typename TreeFor>
core::Result<Opened> parse_meta(const std::string& text, const std::string& meta_name,
                                TreeFor tree_for) {
  Opened opened;
  try {
    auto meta = json::Json::parse(text);
    if (!meta.is_object() || meta.value("format", 0) != kFormatVersion) {
      return make_error(ErrorKind::parse_error, meta_name,
                        "unsupported snapshot format (this vmtune reads format " +
                            std::to_string(kFormatVersion) + ")",
                        0, "format");
    }
    if (meta.contains("host")) {
      auto host = parse_meta_host(meta["host"], meta_name);
      if (!host) return std::move(host).error();
      opened.host = std::move(*host);
    }
    if (auto ok = add_samples(meta, meta_name, tree_for, opened); !ok) {
      return std::move(ok).error();
    }
    if (meta.contains("extras") && meta["extras"].is_object()) {
      opened.extras = std::move(meta["extras"]);  // moved, not copied: a copy recurses
    }
  } catch (const json::Json::exception& e) {
    return make_error(ErrorKind::parse_error, meta_name, e.what());
  }
  if (opened.trees.empty()) {
    return make_error(ErrorKind::parse_error, meta_name, "no samples listed", 0, "samples");
  }
  opened.is_snapshot = true;
  if (auto ok = validate_meta(opened); !ok) {
    auto e = std::move(ok).error();
    e.path = meta_name;
    return e;
  }
  return opened;
}

// meta.json: the format, the host, one entry per reading (with the reads that failed, so a
// replay fails them the same way) and the caller's extras.
json::Json snapshot_meta(const model::HostInfo& host, const std::vector<CapturedSample>& samples,
                         const json::Json& extras, bool redacted) {
  json::Json meta;
  meta["format"] = kFormatVersion;
  meta["host"] = json::host_to_json(host);
  meta["redacted"] = redacted;
  meta["samples"] = json::Json::array();
  for (std::size_t i = 0; i < samples.size(); ++i) {
    json::Json failed = json::Json::object();
    for (const auto& [path, err] : samples[i].record.failed_reads) {
      failed[path] = {{"kind", core::to_string(err.first)}, {"message", err.second}};
    }
    meta["samples"].push_back({{"dir", "s" + std::to_string(i)},
                               {"monotonic_s", samples[i].monotonic_s},
                               {"time_unix_ms", samples[i].time_unix_ms},
                               {"failed_reads", std::move(failed)}});
  }
  meta["extras"] = extras.is_null() ? json::Json::object() : extras;
  return meta;
}

// Whether any recorded name is not plain UTF-8 text (a cgroup may be named with any bytes).
bool has_binary_names(const std::vector<CapturedSample>& samples) {
  const auto plain = [](const std::string& name) { return core::escape_text(name) == name; };
  bool binary_names = false;
  for (const auto& sample : samples) {
    for (const auto& [path, content] : sample.record.files) binary_names |= !plain(path);
    for (const auto& [path, entries] : sample.record.dirs) {
      binary_names |= !plain(path);
      for (const auto& entry : entries) binary_names |= !plain(entry);
    }
    for (const auto& path : sample.record.existing_dirs) binary_names |= !plain(path);
    for (const auto& path : sample.record.existing_files) binary_names |= !plain(path);
  }
  return binary_names;
}

// Directories that were listed or probed, so list_dir()/exists() replay the same answers.
std::set<std::string> recorded_dirs(const core::ReadRecord& rec) {
  std::set<std::string> dirs(rec.existing_dirs.begin(), rec.existing_dirs.end());
  for (const auto& [d, entries] : rec.dirs) {
    dirs.insert(d);
    for (const auto& name : entries) {
      const std::string child = d + "/" + name;
      if (rec.files.count(child) == 0 && rec.dirs.count(child) == 0 &&
          rec.existing_dirs.count(child) == 0 && rec.existing_files.count(child) == 0) {
        // Listed but never opened: keep the name so the listing replays.
        dirs.insert(child);
      }
    }
  }
  return dirs;
}

unsigned recorded_mode(const core::ReadRecord& rec, const std::string& path) {
  const auto mode = rec.modes.find(path);
  return mode != rec.modes.end() ? mode->second : 0644;
}

// One reading under `sub` ("s0"): its directories, the files it read (command lines and the
// host name empty when redacting) and, as empty files, those it only found to exist.
core::Status write_reading(archive* a, const std::string& sub, const core::ReadRecord& rec,
                           bool redact, const std::filesystem::path& out) {
  for (const auto& d : recorded_dirs(rec)) {
    if (rec.files.count(d) != 0 || rec.existing_files.count(d) != 0) continue;
    if (auto st = add_entry(a, member(sub, d), true, {}, out); !st) return st.error();
  }
  for (const auto& [path, content] : rec.files) {
    std::string_view data = content;
    if (redact && (is_cmdline(path) || is_hostname(path))) data = {};
    if (auto st = add_entry(a, member(sub, path), false, data, out, recorded_mode(rec, path));
        !st) {
      return st.error();
    }
  }
  for (const auto& f : rec.existing_files) {
    if (rec.files.count(f) != 0) continue;
    if (auto st = add_entry(a, member(sub, f), false, {}, out, recorded_mode(rec, f)); !st) {
      return st.error();
    }
  }
  return core::ok_status();
}

}  // namespace

core::Status write_snapshot(const std::filesystem::path& out, model::HostInfo host,
                            const std::vector<CapturedSample>& samples, const json::Json& extras,
                            const WriteOptions& options) {
  if (options.redact) host.hostname.clear();
  const json::Json meta = snapshot_meta(host, samples, extras, options.redact);
  auto file = core::AtomicFile::create(out);
  if (!file) return std::move(file).error();
  ArchiveWriter w;
  archive_write_add_filter_gzip(w.a);
  archive_write_set_format_pax_restricted(w.a);
  // Names are bytes (a cgroup may be named with any). When one is not plain UTF-8, store them
  // untranslated (GNU tar then warns about the header keyword, but extracts); otherwise keep
  // the standard header that every tar reads silently.
  if (has_binary_names(samples)) archive_write_set_options(w.a, "hdrcharset=BINARY");
  if (archive_write_open_fd(w.a, file->fd()) != ARCHIVE_OK) {
    return make_error(ErrorKind::io_error, out.string(),
                      std::string("cannot write: ") + archive_why(w.a));
  }
  // On any error the AtomicFile removes its temporary file; the target is untouched.
  if (auto st = add_entry(w.a, "meta.json", false, json::dump(meta, 2) + "\n", out); !st) {
    return st.error();
  }
  for (std::size_t i = 0; i < samples.size(); ++i) {
    const std::string sub = "s" + std::to_string(i);
    if (auto st = write_reading(w.a, sub, samples[i].record, options.redact, out); !st) {
      return st.error();
    }
  }
  if (archive_write_close(w.a) != ARCHIVE_OK) {
    return make_error(ErrorKind::io_error, out.string(),
                      std::string("closing archive: ") + archive_why(w.a));
  }
  return file->commit();
}

core::Status validate_meta(const Opened& opened) {
  if (opened.host) {
    const auto& h = *opened.host;
    if (h.page_size < 4096 || h.page_size > (1ull << 30) ||
        (h.page_size & (h.page_size - 1)) != 0) {
      return make_error(
          ErrorKind::parse_error, "meta.json",
          "expected a power of two from 4096 to 1 GiB, got " + std::to_string(h.page_size), 0,
          "host.page_size");
    }
    if (h.clk_tck == 0 || h.clk_tck > 100000) {
      return make_error(ErrorKind::parse_error, "meta.json",
                        "expected 1 to 100000, got " + std::to_string(h.clk_tck), 0,
                        "host.clk_tck");
    }
    if (h.cpus > (1u << 20)) {
      return make_error(ErrorKind::parse_error, "meta.json",
                        "expected at most 1048576, got " + std::to_string(h.cpus), 0, "host.cpus");
    }
  }
  for (std::size_t i = 0; i < opened.monotonic_s.size(); ++i) {
    const double t = opened.monotonic_s[i];
    if (!std::isfinite(t) || t < 0 || t > 1e10) {
      return make_error(ErrorKind::parse_error, "meta.json",
                        "expected a finite time from 0 to 1e10 seconds", 0,
                        "samples[" + std::to_string(i) + "].monotonic_s");
    }
    if (i > 0 && !(t > opened.monotonic_s[i - 1])) {
      return make_error(ErrorKind::parse_error, "meta.json",
                        "readings must be in time order, a window > 0 apart", 0,
                        "samples[" + std::to_string(i) + "].monotonic_s");
    }
  }
  return core::ok_status();
}

core::Result<Opened> open_root(const std::filesystem::path& root, const ArchiveLimits& limits) {
  struct stat st {};
  if (root.empty()) return make_error(ErrorKind::invalid_argument, "''", "--root: empty path");
  if (::stat(root.c_str(), &st) != 0) return core::errno_error(errno, root.string(), "--root");
  if (S_ISREG(st.st_mode)) {
    auto content = read_archive(root, limits);
    if (!content) return std::move(content).error();
    auto samples = std::move(content->samples);
    return parse_meta(*content->meta, root.string() + ": meta.json",
                      [&](const std::string& sub) -> core::Result<core::RootFs> {
                        const auto it = samples.find(sub);
                        if (it == samples.end()) {
                          return make_error(
                              ErrorKind::parse_error, root.string() + ": meta.json",
                              "lists reading " + sub + ", which the archive does not hold", 0,
                              "samples.dir");
                        }
                        return core::RootFs::in_memory(it->second);
                      });
  }
  if (!S_ISDIR(st.st_mode)) {
    return make_error(ErrorKind::invalid_argument, root.string(),
                      "--root must be a directory or a snapshot file");
  }
  const auto tree = core::RootFs::under(root);
  if (tree.exists(core::Tree::root, "meta.json")) {
    auto text = tree.read_text(core::Tree::root, "meta.json", limits.max_file_bytes);
    if (!text) {
      auto e = std::move(text).error();
      e.path = (root / "meta.json").string();
      return e;
    }
    return parse_meta(*text, (root / "meta.json").string(),
                      [&](const std::string& sub) { return tree.subtree(sub); });
  }
  if (!tree.exists(core::Tree::proc, "") && !tree.exists(core::Tree::sys, "")) {
    return make_error(ErrorKind::invalid_argument, root.string(),
                      "--root has neither proc/ nor sys/ nor meta.json: not a captured tree");
  }
  Opened opened;
  opened.trees.push_back(tree);
  return opened;
}

}  // namespace vmtune::snapshot
