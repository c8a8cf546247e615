// SPDX-License-Identifier: GPL-2.0-or-later
#include "apply/apply.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "core/escape.hpp"
#include "core/file.hpp"
#include "core/parse.hpp"
#include "core/temp_dir.hpp"
#include "core/version.hpp"

namespace vmtune::apply {
namespace {

namespace stdfs = std::filesystem;
using core::ErrorKind;
using core::Tree;
using rules::RecommendationKind;

constexpr std::size_t kMaxValueBytes = 1u << 16;
constexpr std::size_t kMaxPersistBytes = 1u << 20;

std::string esc(std::string_view raw) { return core::escape_text(raw); }

/// The selected word of a THP-style file ("always [madvise] never" -> "madvise"): one of its
/// words in brackets, so a value that merely holds a '[' is not mistaken for one.
std::optional<std::string> selected_word(std::string_view raw) {
  std::string choice = core::bracketed_choice(raw);
  if (choice.empty()) return std::nullopt;
  const auto words = core::split_ws(core::trim(raw));
  if (std::find(words.begin(), words.end(), "[" + choice + "]") == words.end()) {
    return std::nullopt;
  }
  return choice;
}

/// A value as the kernel means it: the selected word, or the fields joined by single spaces.
std::string normalise(std::string_view raw) {
  if (auto word = selected_word(raw)) return std::move(*word);
  std::string out;
  for (const auto word : core::split_ws(core::trim(raw))) {
    if (!out.empty()) out += ' ';
    out += word;
  }
  return out;
}

bool is_zero(std::string_view raw) { return normalise(raw) == "0"; }

/// The other half of a ratio/absolute pair (vm.dirty_*_ratio/_bytes, vm.overcommit_ratio/
/// _kbytes): writing one makes the kernel zero the other, and the bytes file refuses 0, so both
/// are journaled and restored through the non-zero one.
std::string_view partner_of(std::string_view key) noexcept {
  if (key == "vm.dirty_background_ratio") return "vm.dirty_background_bytes";
  if (key == "vm.dirty_background_bytes") return "vm.dirty_background_ratio";
  if (key == "vm.dirty_ratio") return "vm.dirty_bytes";
  if (key == "vm.dirty_bytes") return "vm.dirty_ratio";
  if (key == "vm.overcommit_ratio") return "vm.overcommit_kbytes";
  if (key == "vm.overcommit_kbytes") return "vm.overcommit_ratio";
  return {};
}

/// "vm.dirty_bytes" -> "sys/vm/dirty_bytes" (relative to the proc tree).
std::string sysctl_rel(std::string_view key) {
  std::string rel = "sys/" + std::string(key);
  std::replace(rel.begin() + 4, rel.end(), '.', '/');
  return rel;
}

bool safe_rel(std::string_view rel) {
  if (rel.empty() || rel.front() == '/' || rel.find('\0') != rel.npos) return false;
  for (const auto& part : stdfs::path(std::string(rel))) {
    if (part == "..") return false;
  }
  return true;
}

std::string hint(int err) {
  switch (err) {
    case EROFS:
      return "the file system is read-only: inside a container /proc/sys is mounted read-only; "
             "apply on the host";  // lint:logical-path
    case EPERM:
    case EACCES:
      return ::geteuid() == 0
                 ? "refused even to root: inside a container /proc/sys is read-only to it "
                   "(lacking CAP_SYS_ADMIN in the host's namespace), or the kernel is locked "
                   "down"  // lint:logical-path
                 : "vmtune apply must run as root";
    case EINVAL:
      return "the kernel refused the value: out of range, or not accepted in its current state";
    case ENOENT:
      return "this kernel has no such file";
    case EBUSY:
      return "the kernel is using it now";
    default:
      return {};
  }
}

core::Error write_error(int err, const JournalEntry& e, const std::string& what) {
  auto error = core::errno_error(err, e.logical, what);
  if (const auto h = hint(err); !h.empty()) error.message += " (" + h + ")";
  error.field = e.key;
  return error;
}

/// The live file opened for writing without following a final link; in any other tree
/// (a test's), nothing may resolve outside the tree.
core::Result<core::UniqueFd> open_for_write(const core::RootFs& fs, const JournalEntry& e) {
  constexpr int kFlags = O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
  if (fs.is_live(e.tree)) {
    core::UniqueFd fd(::open(fs.real(e.tree, e.rel).c_str(), kFlags | O_NOFOLLOW));
    if (!fd.valid()) return write_error(errno, e, "open");
    return fd;
  }
  const auto root = fs.root(e.tree);
  core::UniqueFd root_fd(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root_fd.valid()) return write_error(errno, e, "open " + root.string());
  auto fd = core::open_beneath(root_fd.get(), e.rel, kFlags, e.logical);
  if (!fd) {
    auto error = std::move(fd).error();
    error.field = e.key;
    if (error.kind == ErrorKind::missing) error.message += " (" + hint(ENOENT) + ")";
    return error;
  }
  return fd;
}

/// Writes `value` with one write(2), as sysctl(8) does (the kernel parses each write whole).
std::optional<core::Error> write_value(const core::RootFs& fs, const JournalEntry& e,
                                       std::string_view value) {
  auto fd = open_for_write(fs, e);
  if (!fd) return std::move(fd).error();
  struct stat st {};
  if (::fstat(fd->get(), &st) != 0) return write_error(errno, e, "fstat");
  if (!S_ISREG(st.st_mode)) {
    auto error = core::make_error(ErrorKind::invalid_argument, e.logical,
                                  "refused: not a regular file", 0, e.key);
    return error;
  }
  // A test tree holds plain files, which a shorter value must not leave a tail in.
  if (!fs.is_live(e.tree) && ::ftruncate(fd->get(), 0) != 0) {
    return write_error(errno, e, "truncate");
  }
  // Ctrl-C must not cut a write short: the kernel stops allocating huge pages when a signal is
  // pending, which would read back as fragmented memory. Held until the write returns.
  sigset_t block;
  sigset_t old;
  sigemptyset(&block);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaddset(&block, sig);
  ::pthread_sigmask(SIG_BLOCK, &block, &old);
  ssize_t n = -1;
  do {
    n = ::write(fd->get(), value.data(), value.size());
  } while (n < 0 && errno == EINTR);
  const int saved = errno;
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  errno = saved;
  if (n < 0) return write_error(errno, e, "write \"" + esc(value) + "\"");
  if (static_cast<std::size_t>(n) != value.size()) {
    return write_error(EIO, e, "short write of \"" + esc(value) + "\"");
  }
  return std::nullopt;
}

core::Result<std::string> read_id(const core::RootFs& fs, std::string_view rel) {
  auto raw = fs.read_text(Tree::proc, rel, 4096);
  if (!raw) return std::move(raw).error();
  std::string id = normalise(*raw);
  if (id.empty())
    return core::make_error(ErrorKind::parse_error, fs.logical(Tree::proc, rel), "empty");
  return id;
}

core::Status identify(const core::RootFs& fs, Journal& j) {
  auto host = read_id(fs, "sys/kernel/hostname");
  if (!host) return std::move(host).error();
  auto boot = read_id(fs, "sys/kernel/random/boot_id");
  if (!boot) return std::move(boot).error();
  j.host = std::move(*host);
  j.boot_id = std::move(*boot);
  return core::ok_status();
}

core::Result<JournalEntry> saved_entry(const core::RootFs& fs, std::string key, Tree tree,
                                       std::string rel) {
  JournalEntry e;
  e.logical = fs.logical(tree, rel);
  auto raw = fs.read_text(tree, rel, kMaxValueBytes);
  if (!raw) {
    auto error = std::move(raw).error();
    error.field = key;
    error.message = "cannot read the value before changing it: " + error.message;
    return error;
  }
  e.key = std::move(key);
  e.tree = tree;
  e.rel = std::move(rel);
  e.restore = restore_value(*raw);
  e.before = std::move(*raw);
  return e;
}

bool journaled(const Journal& j, Tree tree, std::string_view rel) {
  return std::any_of(j.entries.begin(), j.entries.end(),
                     [&](const JournalEntry& e) { return e.tree == tree && e.rel == rel; });
}

core::Status add_write(const core::RootFs& fs, const Write& w, Journal& j) {
  if ((w.tree != Tree::proc && w.tree != Tree::sys) || !safe_rel(w.rel)) {
    return core::make_error(ErrorKind::invalid_argument, esc(w.logical),
                            "not a file under /proc or /sys", 0, esc(w.key));  // lint:logical-path
  }
  if (w.value.empty() || journaled(j, w.tree, w.rel)) {
    return core::make_error(ErrorKind::invalid_argument, fs.logical(w.tree, w.rel),
                            w.value.empty() ? "empty value" : "written twice in one run", 0,
                            esc(w.key));
  }
  auto e = saved_entry(fs, w.key, w.tree, w.rel);
  if (!e) return std::move(e).error();
  e->requested = w.value;
  j.entries.push_back(std::move(*e));
  return core::ok_status();
}

core::Status add_partners(const core::RootFs& fs, const std::vector<Write>& writes, Journal& j) {
  for (const auto& w : writes) {
    const auto partner = partner_of(w.key);
    if (partner.empty() || w.tree != Tree::proc) continue;
    const std::string rel = sysctl_rel(partner);
    if (journaled(j, Tree::proc, rel)) continue;
    auto e = saved_entry(fs, std::string(partner), Tree::proc, rel);
    if (!e && e.error().kind == ErrorKind::missing) continue;  // a kernel without the pair
    if (!e) return std::move(e).error();
    j.entries.push_back(std::move(*e));
  }
  return core::ok_status();
}

core::Result<JournalFile> saved_file(const PersistFile& p) {
  JournalFile f;
  f.path = p.path;
  if (!p.path.is_absolute()) {
    return core::make_error(ErrorKind::invalid_argument, p.path.string(), "not an absolute path");
  }
  struct stat st {};
  if (::lstat(p.path.c_str(), &st) != 0) {
    if (errno == ENOENT) return f;
    return core::errno_error(errno, p.path.string());
  }
  if (auto ok = core::check_output_target(p.path); !ok) return std::move(ok).error();
  core::OpenPolicy policy;
  policy.follow_final_link = false;
  policy.max_bytes = kMaxPersistBytes;
  auto before = core::read_file(p.path, policy);
  if (!before) return std::move(before).error();
  f.before = std::move(*before);
  f.mode = st.st_mode & 07777;
  return f;
}

core::Result<Journal> make_journal(const core::RootFs& fs, const std::vector<Write>& writes,
                                   const std::vector<PersistFile>& persist) {
  Journal j;
  j.time = utc_now();
  j.vmtune_version = core::kVersion;
  if (auto ok = identify(fs, j); !ok) return std::move(ok).error();
  for (const auto& w : writes) {
    if (auto ok = add_write(fs, w, j); !ok) return std::move(ok).error();
  }
  if (auto ok = add_partners(fs, writes, j); !ok) return std::move(ok).error();
  for (const auto& p : persist) {
    auto f = saved_file(p);
    if (!f) return std::move(f).error();
    j.files.push_back(std::move(*f));
  }
  return j;
}

struct Run {
  const core::RootFs& fs;
  Journal journal;
  Outcome outcome;

  core::Status save() { return write_journal(outcome.journal, journal); }
  JournalEntry* find(std::string_view key) {
    for (auto& e : journal.entries) {
      if (e.tree == Tree::proc && e.key == key) return &e;
    }
    return nullptr;
  }
};

KeyOutcome key_outcome(const JournalEntry& e) {
  KeyOutcome k;
  k.key = e.key;
  k.logical = e.logical;
  k.before = e.before;
  k.requested = e.requested.value_or(std::string());
  return k;
}

void read_back(Run& run, const JournalEntry& e, const std::string& written, KeyOutcome& k) {
  k.written = true;
  auto back = run.fs.read_text(e.tree, e.rel, kMaxValueBytes);
  if (!back) {
    run.outcome.messages.push_back(
        esc(e.key) + ": written, but cannot be read back: " + esc(back.error().to_string()));
    return;
  }
  k.after = *back;
  k.granted = normalise(*back);
  k.took = k.granted == normalise(written);
}

void note_shortfall(Outcome& o, const KeyOutcome& k) {
  if (!k.written || k.took || k.after.empty()) return;
  const auto wanted = core::parse_i64(normalise(k.requested));
  const auto got = core::parse_i64(k.granted);
  if (k.logical.ends_with("/nr_hugepages") && wanted && got && *got < *wanted) {
    o.messages.push_back(
        esc(k.key) + ": requested " + std::to_string(*wanted) + " huge pages, the kernel granted " +
        std::to_string(*got) + " (" + std::to_string(*wanted - *got) +
        " short: free memory is too fragmented for more now); compact memory "
        "(echo 1 > /proc/sys/vm/compact_memory) and write it again, or reserve the pages at "
        "boot (hugepagesz= and hugepages= on the kernel command line)");  // lint:logical-path
    return;
  }
  o.messages.push_back(esc(k.key) + ": wrote \"" + esc(k.requested) +
                       "\", the kernel reads back \"" + esc(k.granted) + "\"");
}

/// Writes one journaled value; on success the kernel has also zeroed its ratio/bytes partner.
std::optional<core::Error> write_entry(Run& run, JournalEntry& e) {
  KeyOutcome k = key_outcome(e);
  if (auto error = write_value(run.fs, e, *e.requested)) {
    e.state = EntryState::failed;
    run.outcome.keys.push_back(std::move(k));
    return error;
  }
  e.state = EntryState::written;
  const auto partner = partner_of(e.key);
  if (JournalEntry* p = partner.empty() ? nullptr : run.find(partner); p && e.tree == Tree::proc) {
    if (p->state == EntryState::saved) p->state = EntryState::written;
  }
  read_back(run, e, *e.requested, k);
  e.after = k.after;
  note_shortfall(run.outcome, k);
  run.outcome.keys.push_back(std::move(k));
  return std::nullopt;
}

/// Whether restoring `e` is left to its partner: a zero member of a ratio/bytes pair is restored
/// by writing the non-zero one (the bytes file refuses 0); both zero: the ratio takes "0".
bool restored_by_partner(Run& run, const JournalEntry& e) {
  const auto partner = partner_of(e.key);
  if (partner.empty() || e.tree != Tree::proc || !is_zero(e.restore)) return false;
  const JournalEntry* p = run.find(partner);
  return (p != nullptr && !is_zero(p->restore)) || e.key.ends_with("_bytes") ||
         e.key.ends_with("_kbytes");
}

KeyOutcome restore_entry(Run& run, JournalEntry& e) {
  KeyOutcome k;
  k.key = e.key;
  k.logical = e.logical;
  if (auto now = run.fs.read_text(e.tree, e.rel, kMaxValueBytes)) k.before = std::move(*now);
  if (restored_by_partner(run, e)) {
    // Writing the partner zeroed this one: show the value it had, and the 0 it has again.
    if (e.after) k.before = *e.after;
    k.requested = e.restore;
    e.state = EntryState::restored;
    k.took = k.restored = true;
    return k;
  }
  k.requested = e.restore;
  if (auto error = write_value(run.fs, e, e.restore)) {
    e.state = EntryState::restore_failed;
    run.outcome.messages.push_back("cannot restore " + esc(error->to_string()));
    return k;
  }
  e.state = EntryState::restored;
  k.restored = true;
  read_back(run, e, e.restore, k);
  if (k.written && !k.after.empty() && k.after != e.before && k.granted != normalise(e.before)) {
    run.outcome.messages.push_back(esc(e.key) + ": restored, but reads back \"" + esc(k.after) +
                                   "\", not the journaled \"" + esc(e.before) + "\"");
  }
  return k;
}

FileOutcome restore_file(Run& run, JournalFile& f) {
  FileOutcome out{f.path, f.before.has_value(), f.before ? "restore" : "remove"};
  core::Status ok = core::ok_status();
  struct stat st {};
  if (f.before) {
    ok = core::write_file_atomic(f.path, *f.before, f.mode);
  } else if (::lstat(f.path.c_str(), &st) != 0) {
    out.action = "none";
    if (errno != ENOENT) ok = core::errno_error(errno, f.path.string());
  } else if (!S_ISREG(st.st_mode)) {
    ok = core::make_error(ErrorKind::invalid_argument, f.path.string(),
                          "refused to remove: not a regular file");
  } else if (::unlink(f.path.c_str()) != 0) {
    ok = core::errno_error(errno, f.path.string(), "unlink");
  }
  if (!ok) {
    out.action = "none";
    run.outcome.messages.push_back("cannot restore " + esc(ok.error().to_string()));
    return out;
  }
  f.state = FileState::restored;
  return out;
}

/// Puts items back in reverse order: every one (rollback), or those this run changed (after a
/// failed write). False when one could not be put back.
template <typename Item, typename Out, typename State>
bool restore_all(Run& run, std::vector<Item>& items, bool all, State changed, State restored,
                 Out (*restore)(Run&, Item&), std::vector<Out>& out) {
  bool complete = true;
  for (auto it = items.rbegin(); it != items.rend(); ++it) {
    if (!all && it->state != changed) continue;
    out.push_back(restore(run, *it));
    complete = complete && it->state == restored;
  }
  return complete;
}

bool restore_entries(Run& run, bool all, std::vector<KeyOutcome>& out) {
  return restore_all(run, run.journal.entries, all, EntryState::written, EntryState::restored,
                     restore_entry, out);
}

bool restore_files(Run& run, bool all, std::vector<FileOutcome>& out) {
  return restore_all(run, run.journal.files, all, FileState::installed, FileState::restored,
                     restore_file, out);
}

/// After a failed write: everything written in this run goes back, the journal says so.
void fail_and_restore(Run& run, core::Error error) {
  std::vector<FileOutcome> files;
  std::vector<KeyOutcome> keys;
  bool complete = restore_files(run, false, files);
  complete = restore_entries(run, false, keys) && complete;
  for (auto& k : run.outcome.keys) {
    k.restored = std::any_of(keys.begin(), keys.end(), [&](const KeyOutcome& r) {
      return r.logical == k.logical && r.restored;
    });
  }
  for (auto& f : run.outcome.files) f.action = "install, then restored";
  run.journal.state = complete ? JournalState::failed_restored : JournalState::failed;
  if (auto ok = run.save(); !ok) {
    run.outcome.messages.push_back("cannot update the journal: " + esc(ok.error().to_string()));
  }
  run.outcome.messages.push_back(complete
                                     ? "everything written before the failure was put back"
                                     : "not everything could be put back: run vmtune rollback " +
                                           esc(run.outcome.journal.string()));
  run.outcome.state = run.journal.state;
  run.outcome.failure = std::move(error);
}

std::optional<core::Error> install(Run& run, JournalFile& f, const PersistFile& p) {
  run.outcome.files.push_back(FileOutcome{p.path, f.before.has_value(), "install"});
  if (auto ok = core::write_file_atomic(p.path, p.content, f.mode); !ok) {
    return std::move(ok).error();
  }
  f.state = FileState::installed;
  return std::nullopt;
}

std::optional<core::Error> journal_error(core::Error error) {
  error.message = "cannot update the journal: " + error.message;
  return error;
}

/// Writes every value, then installs every file, saving the journal after each step.
std::optional<core::Error> write_all(Run& run, const std::vector<Write>& writes,
                                     const ApplyOptions& opts) {
  for (std::size_t i = 0; i < writes.size(); ++i) {
    if (opts.before_write) opts.before_write(writes[i]);
    if (auto error = write_entry(run, run.journal.entries[i])) return error;
    if (auto ok = run.save(); !ok) return journal_error(std::move(ok).error());
  }
  for (std::size_t i = 0; i < opts.persist.size(); ++i) {
    if (auto error = install(run, run.journal.files[i], opts.persist[i])) return error;
    if (auto ok = run.save(); !ok) return journal_error(std::move(ok).error());
  }
  return std::nullopt;
}

Outcome dry_run(const Journal& j) {
  Outcome o;
  o.dry_run = true;
  for (const auto& e : j.entries) {
    if (e.requested) o.keys.push_back(key_outcome(e));
  }
  for (const auto& f : j.files)
    o.files.push_back(FileOutcome{f.path, f.before.has_value(), "install"});
  return o;
}

/// Refuses to start over a run that did not finish: its journal holds the values to go back to,
/// and a new journal would take the half-applied ones for the originals.
/// Refuses to start while any earlier apply is unfinished ("open" after a kill, or "failed"),
/// whatever its place among the journals: its saved values are the ones to put back first.
core::Status check_previous(const stdfs::path& dir) {
  const auto all = journals(dir);
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    auto j = read_journal(*it);
    if (!j || (j->state != JournalState::open && j->state != JournalState::failed)) {
      continue;  // a damaged journal is reported by rollback, not here
    }
    return core::make_error(ErrorKind::invalid_argument, it->string(),
                            std::string("a previous apply did not finish (journal state \"") +
                                to_string(j->state) +
                                "\"): run vmtune rollback on it first, so the values it saved "
                                "are the ones put back",
                            0, "state");
  }
  return core::ok_status();
}

/// Refuses a journal of another host or boot unless forced; forced, says what it overrode.
std::optional<core::Error> check_identity(const core::RootFs& fs, const Journal& j,
                                          const std::string& logical, bool force, Outcome& o) {
  Journal here;
  if (auto ok = identify(fs, here); !ok) return std::move(ok).error();
  std::string field;
  std::string why;
  if (here.host != j.host) {
    field = "host";
    why = "it was written on host \"" + esc(j.host) + "\", this is \"" + esc(here.host) +
          "\": its values are that machine's";
  } else if (here.boot_id != j.boot_id) {
    field = "boot_id";
    why = "it was written during boot " + esc(j.boot_id) + ", this is boot " + esc(here.boot_id) +
          ": the machine has rebooted since, and the kernel values apply "
          "changed were reset then (files it installed were not)";
  }
  if (field.empty()) return std::nullopt;
  if (force) {
    o.messages.push_back("forced: " + why);
    return std::nullopt;
  }
  return core::make_error(ErrorKind::invalid_argument, logical,
                          "refused: " + why + " (--force restores it anyway)", 0, field);
}

}  // namespace

std::string restore_value(std::string_view raw) {
  if (auto word = selected_word(raw)) return std::move(*word);
  return std::string(raw);
}

std::vector<Write> writes_from(const plan::Plan& plan, const std::vector<std::string>& only) {
  const core::RootFs live;  // only for the logical names of its trees
  std::vector<Write> out;
  for (const plan::Change* c : plan.changes()) {
    const bool kernel =
        c->kind == RecommendationKind::sysctl || c->kind == RecommendationKind::thp ||
        c->kind == RecommendationKind::hugetlb || c->kind == RecommendationKind::cgroup;
    if (!kernel || !c->problem.empty()) continue;
    if (!only.empty() && std::find(only.begin(), only.end(), c->key) == only.end()) continue;
    for (const Tree tree : {Tree::proc, Tree::sys}) {
      const std::string prefix = live.logical(tree, "") + "/";
      if (!c->path.starts_with(prefix) || c->path.size() == prefix.size()) continue;
      out.push_back(
          Write{c->key, tree, c->path.substr(prefix.size()), c->path, c->proposed, c->rules});
    }
  }
  return out;
}

core::Result<Outcome> apply(const core::RootFs& fs, const std::vector<Write>& writes,
                            const ApplyOptions& opts) {
  if (writes.empty() && opts.persist.empty()) {
    Outcome nothing;
    nothing.dry_run = opts.dry_run;
    nothing.state = JournalState::applied;
    nothing.messages.push_back("nothing to apply");
    return nothing;
  }
  if (opts.dry_run) {
    auto journal = make_journal(fs, writes, opts.persist);
    if (!journal) return std::move(journal).error();
    return dry_run(*journal);
  }
  if (auto ok = prepare_journal_dir(opts.journal_dir); !ok) return std::move(ok).error();
  auto lock = lock_journal_dir(opts.journal_dir);
  if (!lock) return std::move(lock).error();
  if (auto ok = check_previous(opts.journal_dir); !ok) return std::move(ok).error();
  auto journal = make_journal(fs, writes, opts.persist);  // read under the lock
  if (!journal) return std::move(journal).error();
  Run run{fs, std::move(*journal), {}};
  run.outcome.journal = new_journal_path(opts.journal_dir, run.journal.time);
  if (auto ok = run.save(); !ok) {
    auto error = std::move(ok).error();
    error.message = "cannot write the journal, so nothing was changed: " + error.message;
    return error;
  }
  if (auto error = write_all(run, writes, opts)) {
    fail_and_restore(run, std::move(*error));
    return std::move(run.outcome);
  }
  run.journal.state = JournalState::applied;
  if (auto ok = run.save(); !ok) {
    run.outcome.messages.push_back("applied, but the journal still says \"open\": " +
                                   esc(ok.error().to_string()));
  }
  run.outcome.state = run.journal.state;
  return std::move(run.outcome);
}

core::Result<Outcome> rollback(const core::RootFs& fs, const stdfs::path& journal, bool force) {
  const stdfs::path dir = journal.has_parent_path() ? journal.parent_path() : stdfs::path(".");
  if (auto ok = check_journal_dir(dir); !ok) return std::move(ok).error();
  auto lock = lock_journal_dir(dir);
  if (!lock) return std::move(lock).error();
  auto j = read_journal(journal);
  if (!j) return std::move(j).error();
  Run run{fs, std::move(*j), {}};
  run.outcome.journal = journal;
  run.outcome.state = run.journal.state;
  if (run.journal.state == JournalState::rolled_back ||
      run.journal.state == JournalState::failed_restored) {
    run.outcome.messages.push_back(run.journal.state == JournalState::rolled_back
                                       ? "already rolled back: nothing changed"
                                       : "already restored when its apply failed: nothing changed");
    return std::move(run.outcome);
  }
  if (auto refused = check_identity(fs, run.journal, journal.string(), force, run.outcome)) {
    return std::move(*refused);
  }
  bool complete = restore_files(run, true, run.outcome.files);
  complete = restore_entries(run, true, run.outcome.keys) && complete;
  if (complete) run.journal.state = JournalState::rolled_back;
  if (auto ok = run.save(); !ok) {
    run.outcome.messages.push_back("cannot update the journal: " + esc(ok.error().to_string()));
  }
  if (!complete) {
    run.outcome.failure = core::make_error(ErrorKind::io_error, journal.string(),
                                           "not everything could be restored; see the messages "
                                           "and run rollback again");
  }
  run.outcome.state = run.journal.state;
  return std::move(run.outcome);
}

}  // namespace vmtune::apply
