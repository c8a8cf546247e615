// SPDX-License-Identifier: GPL-2.0-or-later
#include "collect/postgres/page_cache.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <system_error>
#include <vector>

#include "core/root_fs.hpp"

namespace vmtune::collect::postgres {
namespace {

class Fd {
 public:
  explicit Fd(int fd) noexcept : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const noexcept { return fd_; }

 private:
  int fd_;
};

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
  std::filesystem::path path;
  std::string logical;
  std::uint64_t size = 0;
};

void list_relation_files(const std::filesystem::path& dir, const std::string& logical,
                         std::vector<Candidate>& out) {
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const auto name = it->path().filename().string();
    if (!is_relation_file_name(name)) continue;
    std::error_code sec;
    if (!it->is_regular_file(sec)) continue;
    const auto size = it->file_size(sec);
    if (sec) continue;
    out.push_back(Candidate{it->path(), logical + "/" + name, size});
  }
}

/// Database directories (numeric names) under `dir`.
void list_database_dirs(const std::filesystem::path& dir, const std::string& logical,
                        std::vector<Candidate>& out) {
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const auto name = it->path().filename().string();
    std::error_code sec;
    if (digits(name) && it->is_directory(sec))
      list_relation_files(it->path(), logical + "/" + name, out);
  }
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

core::Result<Residency> file_residency(const std::filesystem::path& file, std::uint64_t max_bytes,
                                       const std::string& logical) {
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOATIME);
  if (fd < 0 && errno == EPERM) fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return sys_error(errno, logical, "open");
  Fd guard(fd);
  struct stat st {};
  if (::fstat(fd, &st) != 0) return sys_error(errno, logical, "fstat");
  Residency r;
  const auto size = static_cast<std::uint64_t>(st.st_size);
  r.bytes_measured = std::min(size, max_bytes);
  if (r.bytes_measured == 0) return r;
  const auto page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  constexpr std::uint64_t kChunk = 256ull << 20;  // map at most 256 MiB at a time
  std::vector<unsigned char> vec;
  for (std::uint64_t off = 0; off < r.bytes_measured; off += kChunk) {
    const std::uint64_t len = std::min(kChunk, r.bytes_measured - off);
    Mapping map(::mmap(nullptr, len, PROT_READ, MAP_SHARED, fd, static_cast<off_t>(off)), len);
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

core::Result<model::PgPageCache> sample_page_cache(const std::filesystem::path& data_dir,
                                                   const std::string& logical_dir,
                                                   const PageCacheLimits& limits) {
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  std::error_code ec;
  if (!std::filesystem::is_directory(data_dir / "base", ec)) {
    const int err = ec ? ec.value() : ENOENT;
    return core::make_error(core::error_kind_from_errno(err), logical_dir + "/base",
                            ec ? ec.message() : "not a PostgreSQL data directory (no base/)");
  }
  std::vector<Candidate> files;
  list_database_dirs(data_dir / "base", logical_dir + "/base", files);
  list_relation_files(data_dir / "global", logical_dir + "/global", files);
  // Tablespaces: pg_tblspc/<oid> -> <location>, containing PG_<version>_<catversion>/<dboid>/.
  for (std::filesystem::directory_iterator it(data_dir / "pg_tblspc", ec), end; !ec && it != end;
       it.increment(ec)) {
    std::error_code sec;
    for (std::filesystem::directory_iterator v(it->path(), sec), vend; !sec && v != vend;
         v.increment(sec)) {
      const auto vname = v->path().filename().string();
      if (vname.rfind("PG_", 0) != 0) continue;
      list_database_dirs(v->path(),
                         logical_dir + "/pg_tblspc/" + it->path().filename().string() + "/" + vname,
                         files);
    }
  }
  std::sort(files.begin(), files.end(),
            [](const Candidate& a, const Candidate& b) { return a.size > b.size; });
  model::PgPageCache pc;
  pc.method = "mincore, largest files first, bounded to " + std::to_string(limits.max_bytes >> 20) +
              " MiB and " + std::to_string(static_cast<int>(limits.max_seconds * 1000)) + " ms";
  pc.files_total = files.size();
  for (const auto& f : files) pc.bytes_total += f.size;
  for (const auto& f : files) {
    const double elapsed = std::chrono::duration<double>(clock::now() - start).count();
    if (elapsed >= limits.max_seconds || pc.bytes_sampled >= limits.max_bytes) {
      pc.truncated = true;
      break;
    }
    auto r = file_residency(f.path, limits.max_bytes - pc.bytes_sampled, f.logical);
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
  pc.bytes_resident_estimate = pc.bytes_resident;
  if (pc.truncated && pc.bytes_sampled > 0 && pc.bytes_total > pc.bytes_sampled) {
    const double share =
        static_cast<double>(pc.bytes_resident) / static_cast<double>(pc.bytes_sampled);
    pc.bytes_resident_estimate =
        static_cast<std::uint64_t>(share * static_cast<double>(pc.bytes_total));
  }
  pc.elapsed_s = std::chrono::duration<double>(clock::now() - start).count();
  return pc;
}

}  // namespace vmtune::collect::postgres
