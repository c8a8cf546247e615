// SPDX-License-Identifier: GPL-2.0-or-later
#include "collect/postgres/page_cache.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <set>
#include <system_error>
#include <vector>

#include "core/file.hpp"
#include "core/root_fs.hpp"

namespace vmtune::collect::postgres {
namespace {

class Mapping {
 public:
  Mapping(void* addr, std::size_t len) noexcept : addr_(addr), len_(len) {}
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping() {
    if (addr_ != MAP_FAILED) ::munmap(addr_, len_);
  }
  void* get() const noexcept { return addr_; }

 private:
  void* addr_;
  std::size_t len_;
};

core::Error sys_error(int err, const std::string& logical, const char* what) {
  return core::make_error(core::error_kind_from_errno(err), logical,
                          std::string(what) + ": " + std::strerror(err));
}

bool digits(std::string_view s) noexcept {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

struct Candidate {
  std::shared_ptr<core::UniqueFd> dir;  ///< the directory holding the file
  std::string name;
  std::string logical;
  std::uint64_t size = 0;
};

// Everything below the data directory is opened relative to a directory fd, without following
// links (tablespace links excepted, and only to directories of the server's own user), and every
// file must belong to the server's user: the data directory is found through a process that any
// user could have named "postgres".
// The walk itself is bounded too (a user's directory can hold millions of entries, or
// tablespace links that all point at one of them): by the same deadline as the measuring, by a
// number of files, and each directory is visited once.
constexpr std::size_t kMaxCandidates = 200000;

struct Walker {
  uid_t owner;
  std::vector<Candidate>& out;
  std::chrono::steady_clock::time_point deadline;
  bool cut = false;  ///< the walk stopped at a bound: what was found is a sample
  std::set<std::pair<dev_t, ino_t>> seen;

  bool stop() {
    if (!cut && (out.size() >= kMaxCandidates || std::chrono::steady_clock::now() >= deadline)) {
      cut = true;
    }
    return cut;
  }

  std::shared_ptr<core::UniqueFd> open_dir(int at, const std::string& name, bool follow) {
    auto fd = std::make_shared<core::UniqueFd>(
        ::openat(at, name.c_str(),
                 O_RDONLY | O_DIRECTORY | O_NONBLOCK | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW)));
    struct stat st {};
    if (!fd->valid() || ::fstat(fd->get(), &st) != 0 || st.st_uid != owner) return nullptr;
    if (!seen.emplace(st.st_dev, st.st_ino).second) return nullptr;  // visited already
    return fd;
  }

  template <typename Visit>
  void for_each_entry(int dirfd, Visit visit) {
    core::UniqueFd dup(::fcntl(dirfd, F_DUPFD_CLOEXEC, 0));
    if (!dup.valid()) return;
    DIR* d = ::fdopendir(dup.get());
    if (d == nullptr) return;
    dup.release();
    while (!stop()) {
      const dirent* e = ::readdir(d);
      if (e == nullptr) break;
      visit(std::string(e->d_name), e->d_type);
    }
    ::closedir(d);
  }

  void relation_files(const std::shared_ptr<core::UniqueFd>& dir, const std::string& logical) {
    if (!dir) return;
    for_each_entry(dir->get(), [&](const std::string& name, unsigned char type) {
      if (!is_relation_file_name(name) || (type != DT_REG && type != DT_UNKNOWN)) return;
      struct stat st {};
      if (::fstatat(dir->get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return;
      if (!S_ISREG(st.st_mode) || st.st_uid != owner) return;
      out.push_back(
          Candidate{dir, name, logical + "/" + name, static_cast<std::uint64_t>(st.st_size)});
    });
  }

  /// Database directories (numeric names) under `dir`.
  void database_dirs(const std::shared_ptr<core::UniqueFd>& dir, const std::string& logical) {
    if (!dir) return;
    for_each_entry(dir->get(), [&](const std::string& name, unsigned char) {
      if (digits(name)) relation_files(open_dir(dir->get(), name, false), logical + "/" + name);
    });
  }

  /// Tablespaces: pg_tblspc/<oid> -> <location>, containing PG_<version>_<catversion>/<dboid>/.
  /// The link is followed, but only to a directory of the server's own user.
  void tablespaces(int data_dir_fd, const std::string& logical_dir) {
    auto tblspc = open_dir(data_dir_fd, "pg_tblspc", false);
    if (!tblspc) return;
    for_each_entry(tblspc->get(), [&](const std::string& oid, unsigned char) {
      if (!digits(oid)) return;
      auto location = open_dir(tblspc->get(), oid, true);
      if (!location) return;
      for_each_entry(location->get(), [&](const std::string& vname, unsigned char) {
        if (vname.rfind("PG_", 0) != 0) return;
        database_dirs(open_dir(location->get(), vname, false),
                      logical_dir + "/pg_tblspc/" + oid + "/" + vname);
      });
    });
  }
};

// Lists every relation file of the server: base/<db>/, global/ and the tablespaces. The data
// directory and base/ must belong to the server's user.
core::Status list_relation_files(Walker& walk, const core::ProcessDir& data_dir,
                                 const std::string& logical_dir) {
  struct stat st {};
  if (::fstat(data_dir.fd.get(), &st) != 0) return sys_error(errno, logical_dir, "fstat");
  if (st.st_uid != data_dir.uid) {
    return core::make_error(core::ErrorKind::permission_denied, logical_dir,
                            "refused: the directory is not owned by the server's user (uid " +
                                std::to_string(data_dir.uid) + ")");
  }
  auto base = walk.open_dir(data_dir.fd.get(), "base", false);
  if (!base) {
    return core::make_error(core::ErrorKind::missing, logical_dir + "/base",
                            "not a PostgreSQL data directory of this server (no base/ owned by "
                            "uid " +
                                std::to_string(data_dir.uid) + ")");
  }
  walk.database_dirs(base, logical_dir + "/base");
  walk.relation_files(walk.open_dir(data_dir.fd.get(), "global", false), logical_dir + "/global");
  walk.tablespaces(data_dir.fd.get(), logical_dir);
  return core::ok_status();
}

}  // namespace

bool is_relation_file_name(std::string_view name) noexcept {
  std::size_t i = 0;
  while (i < name.size() && name[i] >= '0' && name[i] <= '9') ++i;
  if (i == 0) return false;
  auto rest = name.substr(i);
  for (std::string_view fork : {"_fsm", "_vm", "_init"}) {
    if (rest.substr(0, fork.size()) == fork) {
      rest.remove_prefix(fork.size());
      break;
    }
  }
  if (rest.empty()) return true;
  return rest.front() == '.' && digits(rest.substr(1));
}

core::Result<Residency> file_residency(int dirfd, const std::string& name, std::uint64_t max_bytes,
                                       const std::string& logical, std::optional<uid_t> owner) {
  core::OpenPolicy policy;
  policy.follow_final_link = false;
  policy.owner = owner;
  policy.max_bytes = ~std::size_t{0};  // never read, only mapped; max_bytes bounds the mapping
  // O_NOATIME keeps measuring from touching the files' atime; it needs ownership (EPERM else).
  core::UniqueFd fd(
      ::openat(dirfd, name.c_str(), O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC | O_NOATIME));
  if (!fd.valid() && errno == EPERM) {
    fd = core::UniqueFd(
        ::openat(dirfd, name.c_str(), O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC));
  }
  if (!fd.valid()) return core::errno_error(errno, logical, "open");
  auto checked = core::check_regular(std::move(fd), logical, policy);
  if (!checked) return std::move(checked).error();
  struct stat st {};
  if (::fstat(checked->get(), &st) != 0) return sys_error(errno, logical, "fstat");
  const int fd_num = checked->get();
  Residency r;
  const auto size = static_cast<std::uint64_t>(st.st_size);
  r.bytes_measured = std::min(size, max_bytes);
  if (r.bytes_measured == 0) return r;
  const auto page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  constexpr std::uint64_t kChunk = 256ull << 20;  // map at most 256 MiB at a time
  std::vector<unsigned char> vec;
  for (std::uint64_t off = 0; off < r.bytes_measured; off += kChunk) {
    const std::uint64_t len = std::min(kChunk, r.bytes_measured - off);
    Mapping map(::mmap(nullptr, len, PROT_READ, MAP_SHARED, fd_num, static_cast<off_t>(off)), len);
    if (map.get() == MAP_FAILED) return sys_error(errno, logical, "mmap");
    const std::uint64_t pages = (len + page - 1) / page;
    vec.assign(pages, 0);
    if (::mincore(map.get(), len, vec.data()) != 0) return sys_error(errno, logical, "mincore");
    for (std::uint64_t p = 0; p < pages; ++p) {
      if ((vec[p] & 1u) == 0) continue;
      // The last page may be partial.
      r.bytes_resident += std::min(page, len - p * page);
    }
  }
  return r;
}

namespace {

using Clock = std::chrono::steady_clock;

// Measures the files' residency, largest first, until the byte or time bound; a file dropped
// or truncated meanwhile no longer counts.
core::Status measure_residency(const std::vector<Candidate>& files, uid_t owner,
                               const PageCacheLimits& limits, Clock::time_point start,
                               model::PgPageCache& pc) {
  for (const auto& f : files) {
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    if (elapsed >= limits.max_seconds || pc.bytes_sampled >= limits.max_bytes) {
      pc.truncated = true;
      break;
    }
    auto r =
        file_residency(f.dir->get(), f.name, limits.max_bytes - pc.bytes_sampled, f.logical, owner);
    if (!r) {
      if (r.error().kind == core::ErrorKind::missing) {  // dropped or truncated meanwhile
        pc.bytes_total -= std::min(pc.bytes_total, f.size);
        continue;
      }
      return std::move(r).error();
    }
    ++pc.files_sampled;
    pc.bytes_sampled += r->bytes_measured;
    pc.bytes_resident += r->bytes_resident;
    if (r->bytes_measured < f.size) pc.truncated = true;
  }
  return core::ok_status();
}

// The resident bytes of all files: what was measured, scaled up when only a sample was.
std::uint64_t resident_estimate(const model::PgPageCache& pc) {
  if (pc.truncated && pc.bytes_sampled > 0 && pc.bytes_total > pc.bytes_sampled) {
    const double share =
        static_cast<double>(pc.bytes_resident) / static_cast<double>(pc.bytes_sampled);
    return static_cast<std::uint64_t>(share * static_cast<double>(pc.bytes_total));
  }
  return pc.bytes_resident;
}

}  // namespace

core::Result<model::PgPageCache> sample_page_cache(const core::ProcessDir& data_dir,
                                                   const std::string& logical_dir,
                                                   const PageCacheLimits& limits) {
  const auto start = Clock::now();
  std::vector<Candidate> files;
  Walker walk{data_dir.uid,
              files,
              start + std::chrono::duration_cast<Clock::duration>(
                          std::chrono::duration<double>(limits.max_seconds)),
              false,
              {}};
  if (auto ok = list_relation_files(walk, data_dir, logical_dir); !ok) {
    return std::move(ok).error();
  }
  std::sort(files.begin(), files.end(),
            [](const Candidate& a, const Candidate& b) { return a.size > b.size; });
  model::PgPageCache pc;
  pc.method = "mincore, largest files first, bounded to " + std::to_string(limits.max_bytes >> 20) +
              " MiB and " + std::to_string(static_cast<int>(limits.max_seconds * 1000)) + " ms";
  pc.files_total = files.size();
  if (walk.cut) {
    pc.truncated = true;
    pc.method +=
        "; listing stopped at " + std::to_string(kMaxCandidates) + " files or the time bound";
  }
  for (const auto& f : files) pc.bytes_total += f.size;
  if (auto ok = measure_residency(files, data_dir.uid, limits, start, pc); !ok) {
    return std::move(ok).error();
  }
  pc.bytes_resident_estimate = resident_estimate(pc);
  pc.elapsed_s = std::chrono::duration<double>(Clock::now() - start).count();
  return pc;
}

}  // namespace vmtune::collect::postgres
