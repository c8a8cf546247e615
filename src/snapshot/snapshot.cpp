// SPDX-License-Identifier: GPL-2.0-or-later
#include "snapshot/snapshot.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <fstream>
#include <memory>
#include <set>
#include <sstream>

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
                       const std::filesystem::path& out) {
  EntryPtr e;
  archive_entry_set_pathname(e.e, name.c_str());
  archive_entry_set_filetype(e.e, is_dir ? AE_IFDIR : AE_IFREG);
  archive_entry_set_perm(e.e, is_dir ? 0755 : 0644);
  archive_entry_set_size(e.e, is_dir ? 0 : static_cast<la_int64_t>(data.size()));
  archive_entry_set_mtime(e.e, 0, 0);
  if (archive_write_header(a, e.e) != ARCHIVE_OK) {
    return make_error(ErrorKind::io_error, out.string(),
                      std::string("writing archive entry ") + name + ": " + archive_error_string(a));
  }
  if (!is_dir && !data.empty() &&
      archive_write_data(a, data.data(), data.size()) != static_cast<la_ssize_t>(data.size())) {
    return make_error(ErrorKind::io_error, out.string(),
                      std::string("writing archive data ") + name + ": " + archive_error_string(a));
  }
  return core::ok_status();
}

// Rejects absolute paths and ".." components in archive members (a snapshot is untrusted input).
bool safe_member(const std::string& name) {
  if (name.empty() || name.front() == '/') return false;
  std::filesystem::path p(name);
  for (const auto& part : p) {
    if (part == "..") return false;
  }
  return true;
}

core::Result<std::string> slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return make_error(ErrorKind::missing, p.string(), "cannot open");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

core::Status extract(const std::filesystem::path& file, const std::filesystem::path& dest) {
  ArchiveReader r;
  archive_read_support_filter_all(r.a);
  archive_read_support_format_tar(r.a);
  archive_read_support_format_gnutar(r.a);
  if (archive_read_open_filename(r.a, file.c_str(), 65536) != ARCHIVE_OK) {
    return make_error(ErrorKind::parse_error, file.string(),
                      std::string("not a vmtune snapshot archive: ") + archive_error_string(r.a));
  }
  archive_entry* e = nullptr;
  int rc;
  std::uint64_t total = 0;
  while ((rc = archive_read_next_header(r.a, &e)) == ARCHIVE_OK) {
    const std::string name = archive_entry_pathname(e);
    if (!safe_member(name)) {
      return make_error(ErrorKind::parse_error, file.string(),
                        "archive member with an unsafe path: " + name);
    }
    const auto target = dest / name;
    std::error_code ec;
    if (archive_entry_filetype(e) == AE_IFDIR) {
      std::filesystem::create_directories(target, ec);
      continue;
    }
    if (archive_entry_filetype(e) != AE_IFREG) continue;  // links and devices are ignored
    std::filesystem::create_directories(target.parent_path(), ec);
    std::ofstream out(target, std::ios::binary);
    if (!out) return make_error(ErrorKind::io_error, target.string(), "cannot create");
    char buf[65536];
    la_ssize_t n;
    while ((n = archive_read_data(r.a, buf, sizeof buf)) > 0) {
      total += static_cast<std::uint64_t>(n);
      if (total > (2ULL << 30)) {
        return make_error(ErrorKind::parse_error, file.string(), "archive expands beyond 2 GiB");
      }
      out.write(buf, n);
    }
    if (n < 0) {
      return make_error(ErrorKind::parse_error, file.string(),
                        std::string("truncated or corrupt archive at ") + name + ": " +
                            archive_error_string(r.a));
    }
  }
  if (rc != ARCHIVE_EOF) {
    return make_error(ErrorKind::parse_error, file.string(),
                      std::string("corrupt archive: ") + archive_error_string(r.a));
  }
  return core::ok_status();
}

core::Result<Opened> open_snapshot_dir(const std::filesystem::path& dir, Opened opened) {
  const auto meta_path = dir / "meta.json";
  auto text = slurp(meta_path);
  if (!text) return std::move(text).error();
  json::Json meta;
  try {
    meta = json::Json::parse(*text);
    if (meta.value("format", 0) != kFormatVersion) {
      return make_error(ErrorKind::parse_error, "meta.json",
                        "unsupported snapshot format " + meta.value("format", json::Json()).dump(),
                        0, "format");
    }
    if (meta.contains("host")) opened.host = json::host_from_json(meta["host"]);
    for (const auto& s : meta.at("samples")) {
      const std::string sub = s.at("dir").get<std::string>();
      if (!safe_member(sub)) {
        return make_error(ErrorKind::parse_error, "meta.json", "unsafe sample dir " + sub, 0,
                          "samples.dir");
      }
      auto tree = core::RootFs::under(dir / sub);
      if (s.contains("failed_reads") && s["failed_reads"].is_object()) {
        std::map<std::string, std::pair<ErrorKind, std::string>> failures;
        for (const auto& [path, err] : s["failed_reads"].items()) {
          failures[path] = {error_kind_from_string(err.value("kind", "")),
                            err.value("message", std::string("failed when captured"))};
        }
        tree.replay_failures(std::move(failures));
      }
      opened.trees.push_back(std::move(tree));
      opened.monotonic_s.push_back(s.value("monotonic_s", 0.0));
      opened.time_unix_ms.push_back(s.value("time_unix_ms", std::int64_t{0}));
    }
    if (meta.contains("extras") && meta["extras"].is_object()) opened.extras = meta["extras"];
  } catch (const json::Json::exception& e) {
    return make_error(ErrorKind::parse_error, "meta.json", e.what());
  }
  if (opened.trees.empty()) {
    return make_error(ErrorKind::parse_error, "meta.json", "no samples listed", 0, "samples");
  }
  opened.is_snapshot = true;
  return opened;
}

}  // namespace

core::Status write_snapshot(const std::filesystem::path& out, model::HostInfo host,
                            const std::vector<CapturedSample>& samples, const json::Json& extras,
                            const WriteOptions& options) {
  if (options.redact) host.hostname.clear();
  json::Json meta;
  meta["format"] = kFormatVersion;
  meta["host"] = json::host_to_json(host);
  meta["redacted"] = options.redact;
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

  const auto dir = out.has_parent_path() ? out.parent_path() : std::filesystem::path(".");
  auto tmp = dir / ("." + out.filename().string() + ".partial");
  ArchiveWriter w;
  archive_write_add_filter_gzip(w.a);
  archive_write_set_format_pax_restricted(w.a);
  if (archive_write_open_filename(w.a, tmp.c_str()) != ARCHIVE_OK) {
    return make_error(ErrorKind::io_error, out.string(),
                      std::string("cannot create: ") + archive_error_string(w.a));
  }
  auto cleanup = [&](core::Error e) -> core::Status {
    archive_write_close(w.a);
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
    return e;
  };
  if (auto st = add_entry(w.a, "meta.json", false, meta.dump(2) + "\n", out); !st) {
    return cleanup(st.error());
  }
  for (std::size_t i = 0; i < samples.size(); ++i) {
    const std::string sub = "s" + std::to_string(i);
    const auto& rec = samples[i].record;
    std::set<std::string> written;
    // Directories that were listed or probed, so list_dir()/exists() replay the same answers.
    std::set<std::string> dirs(rec.existing_dirs.begin(), rec.existing_dirs.end());
    std::set<std::string> files(rec.existing_files.begin(), rec.existing_files.end());
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
    for (const auto& d : dirs) {
      if (rec.files.count(d) != 0 || files.count(d) != 0) continue;
      if (auto st = add_entry(w.a, member(sub, d), true, {}, out); !st) return cleanup(st.error());
    }
    for (const auto& [path, content] : rec.files) {
      std::string_view data = content;
      if (options.redact && (is_cmdline(path) || is_hostname(path))) data = {};
      if (auto st = add_entry(w.a, member(sub, path), false, data, out); !st) {
        return cleanup(st.error());
      }
      written.insert(path);
    }
    for (const auto& f : files) {
      if (written.count(f) != 0) continue;
      if (auto st = add_entry(w.a, member(sub, f), false, {}, out); !st) return cleanup(st.error());
    }
  }
  if (archive_write_close(w.a) != ARCHIVE_OK) {
    return cleanup(make_error(ErrorKind::io_error, out.string(),
                              std::string("closing archive: ") + archive_error_string(w.a)));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, out, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    return make_error(ErrorKind::io_error, out.string(), "rename: " + ec.message());
  }
  return core::ok_status();
}

core::Result<Opened> open_root(const std::filesystem::path& root) {
  std::error_code ec;
  const auto st = std::filesystem::status(root, ec);
  if (ec || !std::filesystem::exists(st)) {
    return make_error(ErrorKind::missing, root.string(), "--root: no such file or directory");
  }
  Opened opened;
  if (std::filesystem::is_regular_file(st)) {
    auto tmp = core::TempDir::create("vmtune-snapshot-");
    if (!tmp) return std::move(tmp).error();
    if (auto x = extract(root, tmp->path()); !x) return x.error();
    const auto dir = tmp->path();
    opened.unpacked.emplace(std::move(*tmp));
    auto result = open_snapshot_dir(dir, std::move(opened));
    if (!result) {
      auto e = std::move(result).error();
      if (e.path == "meta.json") e.path = root.string() + ": meta.json";
      return e;
    }
    return result;
  }
  if (!std::filesystem::is_directory(st)) {
    return make_error(ErrorKind::invalid_argument, root.string(),
                      "--root must be a directory or a snapshot file");
  }
  if (std::filesystem::exists(root / "meta.json", ec)) {
    return open_snapshot_dir(root, std::move(opened));
  }
  if (!std::filesystem::exists(root / "proc", ec) && !std::filesystem::exists(root / "sys", ec)) {
    return make_error(ErrorKind::invalid_argument, root.string(),
                      "--root has neither proc/ nor sys/ nor meta.json: not a captured tree");
  }
  opened.trees.push_back(core::RootFs::under(root));
  return opened;
}

}  // namespace vmtune::snapshot
