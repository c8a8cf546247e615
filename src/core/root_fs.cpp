// SPDX-License-Identifier: GPL-2.0-or-later
#include "core/root_fs.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace vmtune::core {
namespace {

// The only place in the code base where the live mount points are spelled out.
constexpr const char* kLiveProc = "/proc";
constexpr const char* kLiveSys = "/sys";
constexpr const char* kLiveEtc = "/etc";
constexpr const char* kLiveRoot = "/";

const char* logical_prefix(Tree tree) noexcept {
  switch (tree) {
    case Tree::proc:
      return kLiveProc;
    case Tree::sys:
      return kLiveSys;
    case Tree::etc:
      return kLiveEtc;
    case Tree::root:
      return "";  // logical("usr/lib/x") is "/usr/lib/x"
  }
  return "";
}

const char* live_root(Tree tree) noexcept {
  return tree == Tree::root ? kLiveRoot : logical_prefix(tree);
}

std::string_view strip_slash(std::string_view rel) {
  while (!rel.empty() && rel.front() == '/') rel.remove_prefix(1);
  while (!rel.empty() && rel.back() == '/') rel.remove_suffix(1);
  return rel;
}

FileInfo info_from_mode(mode_t mode) noexcept {
  FileInfo info;
  info.mode = mode & 07777;
  info.type = S_ISREG(mode)   ? FileType::regular
              : S_ISDIR(mode) ? FileType::directory
                              : FileType::other;
  return info;
}

Result<std::vector<std::string>> read_dir_fd(UniqueFd fd, const std::string& logical) {
  DIR* d = ::fdopendir(fd.get());
  if (d == nullptr) return errno_error(errno, logical, "opendir");
  fd.release();  // owned by the DIR now
  std::vector<std::string> names;
  errno = 0;
  while (const dirent* e = ::readdir(d)) {
    const std::string_view name = e->d_name;
    if (name != "." && name != "..") names.emplace_back(name);
    errno = 0;
  }
  const int err = errno;
  ::closedir(d);
  if (err != 0) return errno_error(err, logical, "readdir");
  std::sort(names.begin(), names.end());
  return names;
}

// ENOTDIR from an O_NOFOLLOW walk is a symlink where a directory was expected: say "refused".
Error walk_error(int err, int dirfd, const std::string& part, const std::string& logical) {
  struct stat st {};
  if (err == ENOTDIR && ::fstatat(dirfd, part.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
      S_ISLNK(st.st_mode)) {
    err = ELOOP;
  }
  return errno_error(err, logical);
}

Result<UniqueFd> walk_beneath(int root_fd, std::string_view rel, int flags,
                              const std::string& logical) {
  UniqueFd cur(::fcntl(root_fd, F_DUPFD_CLOEXEC, 0));
  if (!cur.valid()) return errno_error(errno, logical);
  std::vector<std::string_view> parts;
  while (!rel.empty()) {
    const auto slash = rel.find('/');
    const auto part = rel.substr(0, slash);
    rel = slash == std::string_view::npos ? std::string_view() : rel.substr(slash + 1);
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      return make_error(ErrorKind::permission_denied, logical, "refused: path leaves the tree");
    }
    parts.push_back(part);
  }
  if (parts.empty()) {
    UniqueFd fd(::openat(cur.get(), ".", flags | O_CLOEXEC));
    if (!fd.valid()) return errno_error(errno, logical);
    return fd;
  }
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    const std::string part(parts[i]);
    UniqueFd next(::openat(cur.get(), part.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!next.valid()) return walk_error(errno, cur.get(), part, logical);
    cur = std::move(next);
  }
  const std::string last(parts.back());
  // O_PATH | O_NOFOLLOW would open a final link itself: refuse it explicitly instead.
  if ((flags & O_PATH) != 0) {
    struct stat st {};
    if (::fstatat(cur.get(), last.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
      return errno_error(ELOOP, logical);
    }
  }
  UniqueFd fd(::openat(cur.get(), last.c_str(), flags | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) return walk_error(errno, cur.get(), last, logical);
  return fd;
}

// The real uid from /proc/PID/status ("Uid:\t<real>\t<effective>\t<saved>\t<fs>").
std::optional<uid_t> parse_status_uid(std::string_view text) {
  const auto pos = text.find("\nUid:");
  if (pos == std::string_view::npos) return std::nullopt;
  std::size_t i = pos + 5;
  while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
  std::uint64_t v = 0;
  std::size_t digits = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9' && digits < 10; ++i, ++digits) {
    v = v * 10 + static_cast<std::uint64_t>(text[i] - '0');
  }
  if (digits == 0 || digits == 10 || v > 0xFFFFFFFEull) return std::nullopt;
  return static_cast<uid_t>(v);
}

// Opens `name` in a process's directory without following links; it must belong to the
// process's real user.
Result<std::string> read_owned_file(Result<ProcessDir> dir, std::string_view name,
                                    const std::string& logical_name, std::size_t max_bytes) {
  if (!dir) return std::move(dir).error();
  OpenPolicy policy;
  policy.follow_final_link = false;
  policy.owner = dir->uid;
  policy.max_bytes = max_bytes;
  auto fd = open_regular_at(dir->fd.get(), std::string(name), logical_name, policy);
  if (!fd) return std::move(fd).error();
  return read_all(fd->get(), logical_name, max_bytes);
}

}  // namespace

Result<UniqueFd> open_beneath(int root_fd, std::string_view rel, int flags,
                              const std::string& logical, bool force_walk) {
  rel = strip_slash(rel);
  if (!force_walk) {
    open_how how{};
    how.flags = static_cast<std::uint64_t>(flags | O_CLOEXEC);
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    const std::string path = rel.empty() ? std::string(".") : std::string(rel);
    const long fd = ::syscall(SYS_openat2, root_fd, path.c_str(), &how, sizeof how);
    if (fd >= 0) return UniqueFd(static_cast<int>(fd));
    if (errno != ENOSYS && errno != EPERM) return errno_error(errno, logical);
    // ENOSYS: kernel before 5.6; EPERM: a seccomp filter that refuses the new call.
  }
  return walk_beneath(root_fd, rel, flags, logical);
}

void MemTree::add(const std::string& logical, bool is_dir, std::string content) {
  if (is_dir) {
    dirs.try_emplace(logical);
  } else {
    files[logical] = std::move(content);
  }
  // Register the entry in its parents, up to "/".
  std::string child = logical;
  while (child.size() > 1) {
    const auto slash = child.rfind('/');
    if (slash == std::string::npos) break;
    std::string parent = slash == 0 ? std::string("/") : child.substr(0, slash);
    auto [it, inserted] = dirs.try_emplace(parent);
    it->second.insert(child.substr(slash + 1));
    if (!inserted) break;
    child = std::move(parent);
  }
}

RootFs::RootFs() : proc_(kLiveProc), sys_(kLiveSys), etc_(kLiveEtc), root_(kLiveRoot) {}

RootFs RootFs::under(const std::filesystem::path& dir) {
  RootFs fs;
  fs.proc_ = dir / "proc";
  fs.sys_ = dir / "sys";
  fs.etc_ = dir / "etc";
  fs.root_ = dir;
  fs.anchor_ = dir;
  UniqueFd fd(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (fd.valid()) fs.anchor_fd_ = std::make_shared<const UniqueFd>(std::move(fd));
  return fs;
}

Result<RootFs> RootFs::subtree(std::string_view sub) const {
  const std::string name = "/" + std::string(strip_slash(sub));
  if (!anchor_fd_) return make_error(ErrorKind::missing, anchor_.string(), std::strerror(ENOENT));
  auto fd = open_beneath(anchor_fd_->get(), sub, O_PATH | O_DIRECTORY, name);
  if (!fd) return std::move(fd).error();
  RootFs fs = under(anchor_ / std::string(strip_slash(sub)));
  fs.anchor_fd_ = std::make_shared<const UniqueFd>(std::move(*fd));
  return fs;
}

RootFs RootFs::in_memory(std::shared_ptr<const MemTree> tree) {
  RootFs fs;
  fs.proc_ = fs.sys_ = fs.etc_ = fs.root_ = std::filesystem::path();
  fs.mem_ = std::move(tree);
  return fs;
}

void RootFs::set_root(Tree tree, std::filesystem::path dir) {
  switch (tree) {
    case Tree::proc:
      proc_ = std::move(dir);
      break;
    case Tree::sys:
      sys_ = std::move(dir);
      break;
    case Tree::etc:
      etc_ = std::move(dir);
      break;
    case Tree::root:
      root_ = std::move(dir);
      break;
  }
  if (mem_) dir_trees_.insert(tree);
  own_anchor_.insert(tree);
}

const std::filesystem::path& RootFs::root(Tree tree) const noexcept {
  switch (tree) {
    case Tree::proc:
      return proc_;
    case Tree::sys:
      return sys_;
    case Tree::etc:
      break;
    case Tree::root:
      return root_;
  }
  return etc_;
}

bool RootFs::is_live(Tree tree) const noexcept {
  if (mem_ && dir_trees_.count(tree) == 0) return false;
  return root(tree) == live_root(tree);
}

bool RootFs::is_live() const noexcept {
  return is_live(Tree::proc) && is_live(Tree::sys) && is_live(Tree::etc) && is_live(Tree::root);
}

std::string RootFs::logical(Tree tree, std::string_view rel) const {
  // Built with append() rather than operator+=: GCC 12 reports a false -Wrestrict on the
  // latter at -O2 (GCC PR 105329).
  const std::string_view prefix = logical_prefix(tree);
  rel = strip_slash(rel);
  if (rel.empty()) return prefix.empty() ? std::string("/") : std::string(prefix);
  std::string out;
  out.reserve(prefix.size() + 1 + rel.size());
  out.append(prefix.data(), prefix.size());
  out.push_back('/');
  out.append(rel.data(), rel.size());
  return out;
}

std::filesystem::path RootFs::real(Tree tree, std::string_view rel) const {
  if (mem_ && dir_trees_.count(tree) == 0) return {};
  rel = strip_slash(rel);
  if (rel.empty()) return root(tree);
  return root(tree) / std::filesystem::path(std::string(rel));
}

// Opens a path of a directory-backed tree. The live machine's trees are the kernel's own
// (procfs, sysfs) or root's (/etc): intermediate links are the kernel's (/proc/self) and are
// followed, and only a final symlink under /proc and /sys is refused. Any other tree is a
// directory someone handed us: nothing in it may resolve outside it.
Result<UniqueFd> RootFs::open_path(Tree tree, std::string_view rel, int flags) const {
  const std::string name = logical(tree, rel);
  if (is_live(tree)) {
    const bool kernel_tree = tree == Tree::proc || tree == Tree::sys;
    UniqueFd fd(
        ::open(real(tree, rel).c_str(),
               flags | O_CLOEXEC | (kernel_tree && (flags & O_PATH) == 0 ? O_NOFOLLOW : 0)));
    if (!fd.valid()) {
      const int err = errno;
      auto e = errno_error(err, name);
      // Root is refused some kernel files too (PID 1's smaps_rollup in a container, lockdown):
      // say so, rather than suggesting to run as root.
      if ((err == EACCES || err == EPERM) && ::geteuid() == 0) e.message += ", even to root";
      return e;
    }
    return fd;
  }
  if (anchor_.empty() || own_anchor_.count(tree) != 0) {
    UniqueFd root_fd(::open(root(tree).c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root_fd.valid()) return errno_error(errno, name);
    return open_beneath(root_fd.get(), rel, flags, name);
  }
  // logical() is "/proc/<rel>", "/etc/<rel>" or "/<rel>": the same path inside DIR.
  if (anchor_fd_) return open_beneath(anchor_fd_->get(), name, flags, name);
  // DIR did not exist when the tree was made: open it now.
  UniqueFd anchor_fd(::open(anchor_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!anchor_fd.valid()) return errno_error(errno, name);
  return open_beneath(anchor_fd.get(), name, flags, name);
}

Result<UniqueFd> RootFs::open_regular_file(Tree tree, std::string_view rel,
                                           const OpenPolicy& policy) const {
  const std::string name = logical(tree, rel);
  if (is_live(tree)) {
    auto fd = open_path(tree, rel, O_RDONLY | O_NONBLOCK | O_NOCTTY);
    if (!fd) return fd;
    return check_regular(std::move(*fd), name, policy);
  }
  // A captured tree may hold device nodes (root unpacking a user's tarball recreates them), and
  // opening one runs its driver's open() even with O_NONBLOCK: look first (O_PATH opens
  // nothing), then open only a regular file, through the descriptor already checked.
  auto path_fd = open_path(tree, rel, O_PATH);
  if (!path_fd) return path_fd;
  auto checked = check_regular(std::move(*path_fd), name, policy);
  if (!checked) return checked;
  const std::string self = std::string(kLiveProc) + "/self/fd/" + std::to_string(checked->get());
  UniqueFd fd(::open(self.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
  if (!fd.valid()) return errno_error(errno, name);
  return fd;
}

void RootFs::record_failure(const std::string& logical, const Error& e) const {
  if (record_ && e.kind != ErrorKind::missing) record_->failed_reads[logical] = {e.kind, e.message};
}

Result<std::string> RootFs::read_text(Tree tree, std::string_view rel,
                                      std::size_t max_bytes) const {
  const std::string name = logical(tree, rel);
  if (replay_failures_) {
    const auto it = replay_failures_->find(name);
    if (it != replay_failures_->end()) {
      return make_error(it->second.first, it->first, it->second.second);
    }
  }
  if (mem_ && dir_trees_.count(tree) == 0) {
    const auto it = mem_->files.find(name);
    if (it == mem_->files.end()) {
      return mem_->dirs.count(name) != 0
                 ? make_error(ErrorKind::invalid_argument, name,
                              "refused: a directory, not a regular file")
                 : make_error(ErrorKind::missing, name, std::strerror(ENOENT));
    }
    if (it->second.size() > max_bytes) {
      return make_error(ErrorKind::io_error, name,
                        "file larger than " + std::to_string(max_bytes) + " bytes");
    }
    if (record_) record_->files[name] = it->second;
    return it->second;
  }
  OpenPolicy policy;
  policy.max_bytes = max_bytes;
  auto fd = open_regular_file(tree, rel, policy);
  auto text =
      fd ? read_all(fd->get(), name, max_bytes) : Result<std::string>(std::move(fd).error());
  if (!text) {
    record_failure(name, text.error());
    return text;
  }
  if (record_) record_->files[name] = *text;
  return text;
}

Result<ProcessDir> RootFs::open_process_dir(int pid, std::string_view link) const {
  const std::string spid = std::to_string(pid);
  const std::string rel = spid + "/" + std::string(strip_slash(link));
  ProcessDir out;
  out.logical = logical(Tree::proc, rel);
  if (!is_live(Tree::proc)) {
    return make_error(ErrorKind::unsupported, out.logical, "only on the live machine");
  }
  // One descriptor of /proc/PID for both the owner and the link: were the PID reused in
  // between, the old process's directory answers ESRCH instead of another process's.
  UniqueFd pid_dir(::open(real(Tree::proc, spid).c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!pid_dir.valid()) return errno_error(errno, logical(Tree::proc, spid));
  const std::string status_name = logical(Tree::proc, spid + "/status");
  auto status_fd = open_regular_at(pid_dir.get(), "status", status_name);
  if (!status_fd) return std::move(status_fd).error();
  auto status = read_all(status_fd->get(), status_name, 1u << 20);
  if (!status) return std::move(status).error();
  const auto uid = parse_status_uid(*status);
  if (!uid) return make_error(ErrorKind::parse_error, status_name, "no real uid", 0, "Uid");
  out.uid = *uid;
  // The magic link is the process's own directory: following it is the point.
  out.fd = UniqueFd(::openat(pid_dir.get(), std::string(strip_slash(link)).c_str(),
                             O_RDONLY | O_DIRECTORY | O_NONBLOCK | O_CLOEXEC));
  if (!out.fd.valid()) return errno_error(errno, out.logical);
  return out;
}

Result<std::string> RootFs::read_in_process_dir(int pid, std::string_view link,
                                                std::string_view name,
                                                std::size_t max_bytes) const {
  const std::string rel =
      std::to_string(pid) + "/" + std::string(strip_slash(link)) + "/" + std::string(name);
  if (!is_live(Tree::proc)) return read_text(Tree::proc, rel, max_bytes);
  const std::string logical_name = logical(Tree::proc, rel);
  Result<std::string> text =
      read_owned_file(open_process_dir(pid, link), name, logical_name, max_bytes);
  if (!text) {
    record_failure(logical_name, text.error());
    return text;
  }
  if (record_) record_->files[logical_name] = *text;
  return text;
}

Result<std::vector<std::string>> RootFs::list_dir(Tree tree, std::string_view rel) const {
  const std::string name = logical(tree, rel);
  Result<std::vector<std::string>> names = std::vector<std::string>();
  if (mem_ && dir_trees_.count(tree) == 0) {
    const auto it = mem_->dirs.find(name);
    if (it == mem_->dirs.end()) {
      return make_error(ErrorKind::missing, name,
                        std::strerror(mem_->files.count(name) != 0 ? ENOTDIR : ENOENT));
    }
    names = std::vector<std::string>(it->second.begin(), it->second.end());
  } else {
    auto fd = open_path(tree, rel, O_RDONLY | O_DIRECTORY | O_NONBLOCK);
    if (!fd) return std::move(fd).error();
    names = read_dir_fd(std::move(*fd), name);
    if (!names) return names;
  }
  if (record_) record_->dirs[name] = *names;
  return names;
}

Result<FileInfo> RootFs::stat(Tree tree, std::string_view rel) const {
  const std::string name = logical(tree, rel);
  FileInfo info;
  if (mem_ && dir_trees_.count(tree) == 0) {
    if (mem_->files.count(name) != 0) {
      const auto mode = mem_->modes.find(name);
      info = FileInfo{FileType::regular, mode != mem_->modes.end() ? mode->second : 0644};
    } else if (mem_->dirs.count(name) != 0) {
      info = FileInfo{FileType::directory, 0755};
    } else {
      return make_error(ErrorKind::missing, name, std::strerror(ENOENT));
    }
  } else {
    auto fd = open_path(tree, rel, O_PATH);
    if (!fd) return std::move(fd).error();
    struct stat st {};
    if (::fstat(fd->get(), &st) != 0) return errno_error(errno, name, "fstat");
    info = info_from_mode(st.st_mode);
  }
  if (record_) {
    if (info.type == FileType::directory) {
      record_->existing_dirs.insert(name);
    } else {
      record_->existing_files.insert(name);
      record_->modes[name] = info.mode;
    }
  }
  return info;
}

bool RootFs::exists(Tree tree, std::string_view rel) const { return stat(tree, rel).ok(); }

bool RootFs::is_dir(Tree tree, std::string_view rel) const {
  const auto info = stat(tree, rel);
  return info && info->type == FileType::directory;
}

Status RootFs::write_text(Tree tree, std::string_view rel, std::string_view content) const {
  const std::string name = logical(tree, rel);
  if (mem_ && dir_trees_.count(tree) == 0) {
    return make_error(ErrorKind::unsupported, name, "a snapshot is read-only");
  }
  auto fd = open_path(tree, rel, O_WRONLY | O_NONBLOCK | O_NOCTTY);
  if (!fd) return std::move(fd).error();
  struct stat st {};
  if (::fstat(fd->get(), &st) != 0) return errno_error(errno, name, "fstat");
  if (!S_ISREG(st.st_mode)) {
    return make_error(ErrorKind::invalid_argument, name, "refused: not a regular file");
  }
  if (::ftruncate(fd->get(), 0) != 0 && errno != EINVAL && errno != EPERM) {
    // procfs and sysfs files cannot be truncated and do not need to be; a regular file does.
    return errno_error(errno, name, "truncate");
  }
  const ssize_t n = ::write(fd->get(), content.data(), content.size());
  if (n < 0 || static_cast<std::size_t>(n) != content.size()) {
    return errno_error(n < 0 ? errno : EIO, name, "write");
  }
  return ok_status();
}

}  // namespace vmtune::core
