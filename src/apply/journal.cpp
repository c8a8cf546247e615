// SPDX-License-Identifier: GPL-2.0-or-later
#include "apply/journal.hpp"

#include <fcntl.h>
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <ctime>
#include <regex>
#include <system_error>
#include <utility>
#include <vector>

#include "core/escape.hpp"
#include "core/temp_dir.hpp"
#include "json/sample_json.hpp"

namespace vmtune::apply {
namespace {

namespace fs = std::filesystem;
using core::ErrorKind;
using json::Json;

constexpr const char* kFormat = "vmtune-apply-journal";
constexpr std::string_view kPrefix = "apply-";
constexpr std::string_view kSuffix = ".json";

template <typename E, std::size_t N>
using Names = std::array<std::pair<E, const char*>, N>;

constexpr Names<JournalState, 5> kJournalStates{{{JournalState::open, "open"},
                                                 {JournalState::applied, "applied"},
                                                 {JournalState::failed, "failed"},
                                                 {JournalState::failed_restored, "failed-restored"},
                                                 {JournalState::rolled_back, "rolled-back"}}};
constexpr Names<EntryState, 5> kEntryStates{{{EntryState::saved, "saved"},
                                             {EntryState::written, "written"},
                                             {EntryState::failed, "failed"},
                                             {EntryState::restored, "restored"},
                                             {EntryState::restore_failed, "restore-failed"}}};
constexpr Names<FileState, 3> kFileStates{{{FileState::pending, "pending"},
                                           {FileState::installed, "installed"},
                                           {FileState::restored, "restored"}}};
constexpr Names<core::Tree, 2> kTrees{{{core::Tree::proc, "proc"}, {core::Tree::sys, "sys"}}};

template <typename E, std::size_t N>
const char* name_of(const Names<E, N>& names, E value) noexcept {
  for (const auto& [v, n] : names) {
    if (v == value) return n;
  }
  return "?";
}

template <typename E, std::size_t N>
std::optional<E> value_of(const Names<E, N>& names, std::string_view text) {
  for (const auto& [v, n] : names) {
    if (text == n) return v;
  }
  return std::nullopt;
}

std::string esc(std::string_view raw) { return core::escape_text(raw); }

Json text_or_null(const std::optional<std::string>& s) { return s ? Json(esc(*s)) : Json(nullptr); }

Json entry_json(const JournalEntry& e) {
  Json j = Json::object();
  for (const auto& [name, field] :
       {std::pair{"key", &e.key}, std::pair{"rel", &e.rel}, std::pair{"logical", &e.logical},
        std::pair{"before", &e.before}, std::pair{"restore", &e.restore}}) {
    j[name] = esc(*field);
  }
  j["tree"] = name_of(kTrees, e.tree);
  j["requested"] = text_or_null(e.requested);
  j["after"] = text_or_null(e.after);
  j["state"] = to_string(e.state);
  return j;
}

Json file_json(const JournalFile& f) {
  Json j = Json::object();
  j["path"] = esc(f.path.string());
  j["existed"] = f.before.has_value();
  j["before"] = text_or_null(f.before);
  j["mode"] = f.mode;
  j["state"] = to_string(f.state);
  return j;
}

const char* expected(Json::value_t type) noexcept {
  switch (type) {
    case Json::value_t::string:
      return "a string";
    case Json::value_t::boolean:
      return "true or false";
    case Json::value_t::array:
      return "an array";
    default:
      return "an integer";
  }
}

/// Reads the fields of a parsed document, keeping the first error (with the field it is about)
/// and handing back empty values after it, so a validator reads as a list of fields.
class Fields {
 public:
  explicit Fields(const std::string& logical) : logical_(logical) {}
  std::optional<core::Error> error;

  void fail(const std::string& field, const std::string& what) {
    if (!error) error = core::make_error(ErrorKind::parse_error, logical_, what, 0, field);
  }
  const Json* get(const Json& obj, const std::string& field, Json::value_t type) {
    if (error) return nullptr;
    const auto it = obj.find(field.substr(field.rfind('.') + 1));
    if (it == obj.end()) {
      fail(field, "missing");
      return nullptr;
    }
    if (it->type() == type || (type == Json::value_t::number_unsigned && it->is_number_integer())) {
      return &*it;
    }
    fail(field, std::string("expected ") + expected(type) + ", found " + it->type_name());
    return nullptr;
  }
  std::optional<std::string> maybe_text(const Json& obj, const std::string& field) {
    if (const auto it = obj.find(field.substr(field.rfind('.') + 1));
        it != obj.end() && it->is_null()) {
      return std::nullopt;
    }
    return text(obj, field);
  }
  std::string text(const Json& obj, const std::string& field) {
    const Json* j = get(obj, field, Json::value_t::string);
    return j ? core::unescape_text(j->get<std::string>()) : std::string();
  }
  template <typename E, std::size_t N>
  E choice(const Json& obj, const std::string& field, const Names<E, N>& names) {
    const Json* j = get(obj, field, Json::value_t::string);
    if (!j) return names[0].first;
    const auto v = value_of(names, j->get<std::string>());
    if (!v) fail(field, "unknown value \"" + esc(j->get<std::string>()) + "\"");
    return v.value_or(names[0].first);
  }
  long integer(const Json& obj, const std::string& field, long lo, long hi) {
    const Json* j = get(obj, field, Json::value_t::number_unsigned);
    if (!j) return lo;
    const long v = j->get<long>();
    if (v < lo || v > hi) fail(field, "out of range: " + std::to_string(v));
    return v;
  }

 private:
  const std::string& logical_;
};

bool has_dot_dot(const fs::path& p) {
  for (const auto& part : p) {
    if (part == "..") return true;
  }
  return false;
}

/// The files apply writes, relative to their tree: sysctls under /proc/sys/vm and
/// /proc/sys/kernel, THP and huge-page pool files under /sys/kernel/mm (and the per-node pools
/// under /sys/devices/system/node), and cgroup memory.*
/// files. A journal naming anything else (/proc/sysrq-trigger, /proc/1/root/...) is refused.
bool writable_rel(core::Tree tree, const std::string& rel) {
  static const std::regex proc(R"(sys/(vm|kernel)/[a-z0-9_\-]{1,64})");
  static const std::regex sys(
      R"(kernel/mm/transparent_hugepage/(enabled|defrag|shmem_enabled|khugepaged/[a-z_]{1,40})|)"
      R"(kernel/mm/hugepages/hugepages-[0-9]{1,10}kB/nr_hugepages|)"
      R"(devices/system/node/node[0-9]{1,4}/hugepages/hugepages-[0-9]{1,10}kB/nr_hugepages|)"
      R"(fs/cgroup(/[A-Za-z0-9_.@:+,=\-]{1,255}){0,32}/memory\.(high|max|low|min|swap\.max))");
  if (rel.find("/..") != std::string::npos || rel.find("../") != std::string::npos) return false;
  if (tree == core::Tree::proc) return std::regex_match(rel, proc);
  if (tree == core::Tree::sys) return std::regex_match(rel, sys);
  return false;
}

/// The files --persist installs: vmtune's own sysctl.d and tmpfiles.d files.
bool persist_path_ok(const fs::path& p) {
  static const std::regex name(R"([A-Za-z0-9_\-]*vmtune[A-Za-z0-9_\-]*\.conf)");
  const auto dir = p.parent_path().filename().string();
  return p.is_absolute() && (dir == "sysctl.d" || dir == "tmpfiles.d") &&
         std::regex_match(p.filename().string(), name);
}
JournalEntry parse_entry(Fields& f, const Json& j, const std::string& at) {
  JournalEntry e;
  e.key = f.text(j, at + ".key");
  e.tree = f.choice(j, at + ".tree", kTrees);
  e.rel = f.text(j, at + ".rel");
  e.logical = f.text(j, at + ".logical");
  e.before = f.text(j, at + ".before");
  e.restore = f.text(j, at + ".restore");
  e.requested = f.maybe_text(j, at + ".requested");
  e.after = f.maybe_text(j, at + ".after");
  e.state = f.choice(j, at + ".state", kEntryStates);
  if (!writable_rel(e.tree, e.rel)) {
    f.fail(at + ".rel", "not a file vmtune writes: \"" + esc(e.rel) + "\"");
  }
  if (e.key.empty()) f.fail(at + ".key", "empty");
  return e;
}

JournalFile parse_file(Fields& f, const Json& j, const std::string& at) {
  JournalFile out;
  const std::string path = f.text(j, at + ".path");
  out.path = path;
  const Json* existed = f.get(j, at + ".existed", Json::value_t::boolean);
  out.before = f.maybe_text(j, at + ".before");
  out.mode = static_cast<unsigned>(f.integer(j, at + ".mode", 0, 0777));
  out.state = f.choice(j, at + ".state", kFileStates);
  if (!persist_path_ok(out.path) || has_dot_dot(out.path) || path.find('\0') != path.npos) {
    f.fail(at + ".path", "not a sysctl.d or tmpfiles.d file of vmtune: \"" + esc(path) + "\"");
  }
  if (existed && existed->get<bool>() != out.before.has_value()) {
    f.fail(at + ".before", "does not agree with \"existed\"");
  }
  return out;
}

void parse_header(Fields& f, const Json& doc, Journal& out) {
  if (const Json* format = f.get(doc, "format", Json::value_t::string);
      format && format->get<std::string>() != kFormat) {
    f.fail("format",
           "not a vmtune apply journal (format \"" + esc(format->get<std::string>()) + "\")");
  }
  out.version = static_cast<int>(f.integer(doc, "version", 1, 1 << 20));
  if (!f.error && out.version != kJournalVersion) {
    f.fail("version", "journal version " + std::to_string(out.version) + ", this vmtune reads " +
                          std::to_string(kJournalVersion));
  }
  out.host = f.text(doc, "host");
  out.boot_id = f.text(doc, "boot_id");
  out.time = f.text(doc, "time");
  out.vmtune_version = f.text(doc, "vmtune_version");
  out.state = f.choice(doc, "state", kJournalStates);
}

template <typename T, typename Parse>
void parse_list(Fields& f, const Json& doc, const std::string& name, std::vector<T>& out,
                Parse parse) {
  const Json* list = f.get(doc, name, Json::value_t::array);
  if (!list) return;
  for (std::size_t i = 0; i < list->size() && !f.error; ++i) {
    const std::string at = name + "[" + std::to_string(i) + "]";
    if (!(*list)[i].is_object()) {
      f.fail(at, "expected an object");
      return;
    }
    out.push_back(parse(f, (*list)[i], at));
  }
}

/// Every directory above the journal directory must be safe from other users too: owned by
/// root (or by this user) and not writable by group or others unless sticky (/tmp), else
/// another user could swap the directory, and the journals in it, from under us.
core::Status check_ancestors(const fs::path& dir) {
  std::error_code ec;
  const auto parent = fs::canonical(fs::absolute(dir, ec).parent_path(), ec);
  if (ec) return core::make_error(ErrorKind::io_error, dir.string(), ec.message());
  for (fs::path p = parent;; p = p.parent_path()) {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0)
      return core::errno_error(errno, p.string(), "journal directory");
    const bool owner_ok = st.st_uid == 0 || st.st_uid == ::geteuid();
    const bool writable = (st.st_mode & 022) != 0 && (st.st_mode & S_ISVTX) == 0;
    if (!owner_ok || writable) {
      return core::make_error(
          ErrorKind::permission_denied, dir.string(),
          "refused as the journal directory: " + p.string() +
              (owner_ok ? " above it is writable by group or others"
                        : " above it is owned by uid " + std::to_string(st.st_uid)));
    }
    if (p == p.parent_path()) break;
  }
  return core::ok_status();
}

}  // namespace

core::Status check_journal_dir(const fs::path& dir) {
  if (auto ok = check_ancestors(dir); !ok) return ok;
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0) {
    return core::errno_error(errno, dir.string(), "journal directory");
  }
  std::string refused;
  if (S_ISLNK(st.st_mode)) {
    refused = "is a symbolic link";
  } else if (!S_ISDIR(st.st_mode)) {
    refused = "is not a directory";
  } else if (::geteuid() == 0 && st.st_uid != 0) {
    refused = "is owned by uid " + std::to_string(st.st_uid) + ", not root";
  } else if ((st.st_mode & 022) != 0) {
    refused = "is writable by group or others";
  }
  if (refused.empty()) return core::ok_status();
  return core::make_error(ErrorKind::permission_denied, dir.string(),
                          "refused as the journal directory: it " + refused);
}

const char* to_string(JournalState s) noexcept { return name_of(kJournalStates, s); }
const char* to_string(EntryState s) noexcept { return name_of(kEntryStates, s); }
const char* to_string(FileState s) noexcept { return name_of(kFileStates, s); }

std::string to_json(const Journal& journal) {
  Json doc = Json::object();
  doc["format"] = kFormat;
  doc["version"] = journal.version;
  doc["host"] = esc(journal.host);
  doc["boot_id"] = esc(journal.boot_id);
  doc["time"] = esc(journal.time);
  doc["vmtune_version"] = esc(journal.vmtune_version);
  doc["state"] = to_string(journal.state);
  doc["entries"] = Json::array();
  for (const auto& e : journal.entries) doc["entries"].push_back(entry_json(e));
  doc["files"] = Json::array();
  for (const auto& f : journal.files) doc["files"].push_back(file_json(f));
  return json::dump(doc, 2) + "\n";
}

core::Result<Journal> parse_journal(std::string_view text, const std::string& logical) {
  Json doc;
  try {
    doc = Json::parse(text);
  } catch (const Json::exception& e) {
    // parse_error, or out_of_range for a number too large for any type. nlohmann's message
    // carries the byte offset: a truncated journal says where it stops.
    return core::make_error(ErrorKind::parse_error, logical,
                            "damaged or truncated journal: " + esc(e.what()));
  }
  Fields f(logical);
  if (!doc.is_object()) f.fail("", "not a vmtune apply journal (not a JSON object)");
  Journal out;
  if (!f.error) parse_header(f, doc, out);
  parse_list(f, doc, "entries", out.entries, parse_entry);
  parse_list(f, doc, "files", out.files, parse_file);
  if (f.error) return std::move(*f.error);
  return out;
}

core::Status write_journal(const fs::path& path, const Journal& journal) {
  return core::write_file_atomic(path, to_json(journal), 0600);
}

core::Result<Journal> read_journal(const fs::path& path) {
  core::OpenPolicy policy;
  policy.follow_final_link = false;
  policy.owner = ::geteuid();
  policy.max_bytes = kMaxJournalBytes;
  auto text = core::read_file(path, path.string(), policy);
  if (!text) return std::move(text).error();
  return parse_journal(*text, path.string());
}

core::Status prepare_journal_dir(const fs::path& dir) {
  fs::path p = dir.lexically_normal();
  if (!p.has_filename() && p.has_parent_path()) p = p.parent_path();
  std::vector<fs::path> missing;
  for (; !p.empty(); p = p.parent_path()) {
    struct stat st {};
    if (::lstat(p.c_str(), &st) == 0) break;
    if (errno != ENOENT) return core::errno_error(errno, p.string(), "journal directory");
    missing.push_back(p);
    if (p == p.parent_path()) break;
  }
  // Nothing is created under a directory another user controls.
  if (!missing.empty()) {
    if (auto ok = check_ancestors(missing.back()); !ok) return ok;
  }
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    if (::mkdir(it->c_str(), 0700) != 0 && errno != EEXIST) {
      return core::errno_error(errno, it->string(), "cannot create the journal directory");
    }
  }
  return check_journal_dir(dir);
}

core::Result<core::UniqueFd> lock_journal_dir(const fs::path& dir) {
  const fs::path path = dir / ".lock";
  core::UniqueFd fd(
      ::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600));
  if (!fd.valid()) return core::errno_error(errno, path.string(), "lock file");
  core::OpenPolicy any_size;
  any_size.max_bytes = kMaxJournalBytes;
  auto checked = core::check_regular(std::move(fd), path.string(), any_size);
  if (!checked) return checked;
  if (::flock(checked->get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK) return core::errno_error(errno, path.string(), "flock");
    return core::make_error(ErrorKind::io_error, path.string(),
                            "another vmtune apply or rollback is running (it holds this lock); "
                            "wait for it to finish");
  }
  return checked;
}

fs::path new_journal_path(const fs::path& dir, std::string_view time) {
  std::string stamp;
  for (const char c : time) {
    if (c != '-' && c != ':') stamp += c;
  }
  fs::path path = dir / (std::string(kPrefix) + stamp + std::string(kSuffix));
  struct stat st {};
  for (int n = 1; n < 1000 && ::lstat(path.c_str(), &st) == 0; ++n) {
    path = dir / (std::string(kPrefix) + stamp + "-" + std::to_string(n) + std::string(kSuffix));
  }
  return path;
}

std::vector<fs::path> journals(const fs::path& dir) {
  std::error_code ec;
  std::vector<fs::path> out;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end && out.size() < 100000;
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.starts_with(kPrefix) && name.ends_with(kSuffix)) out.push_back(it->path());
  }
  // By name without ".json": "apply-<time>" sorts before its collision twin "apply-<time>-1".
  const auto stem = [](const fs::path& p) { return p.stem().string(); };
  std::sort(out.begin(), out.end(),
            [&](const fs::path& a, const fs::path& b) { return stem(a) < stem(b); });
  return out;
}

std::optional<fs::path> latest_journal(const fs::path& dir) {
  auto all = journals(dir);
  if (all.empty()) return std::nullopt;
  return all.back();
}

std::string utc_now() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  tm utc{};
  ::gmtime_r(&ts.tv_sec, &utc);
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:09}Z", utc, static_cast<long>(ts.tv_nsec));
}

}  // namespace vmtune::apply
