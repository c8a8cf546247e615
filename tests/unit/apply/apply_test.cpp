// SPDX-License-Identifier: GPL-2.0-or-later
// apply and rollback on fake trees (core::TempDir + RootFs::under), never the live kernel: a
// round trip restores every byte, a failed write halfway puts the first half back, a dry run
// writes nothing, the lock keeps a second run out, a journal from another host or boot is
// refused, a second rollback changes nothing, a run killed with SIGKILL is completed by
// rollback, a full disk changes nothing, damaged journals are clear errors, persist files are
// installed and taken back, and an unsafe journal directory is refused.
#include "apply/apply.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "core/temp_dir.hpp"
#include "test_support.hpp"
#include "utf8_check.hpp"

namespace vmtune::apply {
namespace {

namespace fs = std::filesystem;
using core::Tree;

constexpr const char* kSwappiness = "proc/sys/vm/swappiness";
constexpr const char* kDirtyRatio = "proc/sys/vm/dirty_ratio";
constexpr const char* kDirtyBytes = "proc/sys/vm/dirty_bytes";
constexpr const char* kThp = "sys/kernel/mm/transparent_hugepage/enabled";
constexpr const char* kBootId = "proc/sys/kernel/random/boot_id";

class ApplyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto t = core::TempDir::create("vmtune-apply-");
    ASSERT_TRUE(t.ok());
    tmp_.emplace(std::move(*t));
    put(kSwappiness, "60\n");
    put(kDirtyRatio, "20\n");
    put(kDirtyBytes, "0\n");
    put(kThp, "always [madvise] never\n");
    put("proc/sys/kernel/hostname", "db1\n");
    put(kBootId, "6a1f0b9e-6f1d-4c59-9d64-0b6f0c0e7d11\n");
  }

  fs::path tmp() const { return tmp_->path(); }
  fs::path root() const { return tmp() / "root"; }
  fs::path journal_dir() const { return tmp() / "var/lib/vmtune/journal"; }
  void put(const std::string& rel, const std::string& text) const {
    test::write_fixture(root() / rel, text);
  }
  std::string get(const std::string& rel) const { return test::slurp(root() / rel); }
  core::RootFs tree() const { return core::RootFs::under(root()); }
  ApplyOptions options() const {
    ApplyOptions o;
    o.journal_dir = journal_dir();
    return o;
  }
  /// Every file of the fake tree and its bytes.
  std::map<std::string, std::string> contents() const {
    std::map<std::string, std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(root())) {
      if (e.is_regular_file()) out[fs::relative(e.path(), root()).string()] = test::slurp(e);
    }
    return out;
  }
  static Write write(const std::string& key, Tree tree, const std::string& rel,
                     const std::string& value) {
    const std::string prefix = tree == Tree::proc ? "/proc/" : "/sys/";
    return Write{key, tree, rel, prefix + rel, value, {"R-TEST-1"}};
  }
  static std::vector<Write> three() {
    return {write("vm.swappiness", Tree::proc, "sys/vm/swappiness", "10"),
            write("vm.dirty_ratio", Tree::proc, "sys/vm/dirty_ratio", "10"),
            write("enabled", Tree::sys, "kernel/mm/transparent_hugepage/enabled", "never")};
  }
  Outcome applied(const std::vector<Write>& writes, const ApplyOptions& o) const {
    auto r = apply(tree(), writes, o);
    EXPECT_TRUE(r.ok()) << (r ? "" : r.error().to_string());
    return r ? std::move(*r) : Outcome{};
  }
  Outcome rolled_back(const fs::path& journal, bool force = false) const {
    auto r = rollback(tree(), journal, force);
    EXPECT_TRUE(r.ok()) << (r ? "" : r.error().to_string());
    return r ? std::move(*r) : Outcome{};
  }

 private:
  std::optional<core::TempDir> tmp_;
};

plan::Change change(rules::RecommendationKind kind, const std::string& key, const std::string& path,
                    const std::string& problem = {}) {
  plan::Change c;
  c.kind = kind;
  c.key = key;
  c.path = path;
  c.proposed = "1";
  c.problem = problem;
  c.rules = {"R-1"};
  return c;
}

TEST(WritesFrom, KeepsKernelChangesWithoutProblems) {
  using K = rules::RecommendationKind;
  plan::Plan p;
  p.steps.push_back(plan::Step{"pool",
                               plan::Disruption::none,
                               {change(K::hugetlb, "hugepages-2048kB",
                                       "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages")},
                               {}});
  p.steps.push_back(plan::Step{
      "now",
      plan::Disruption::none,
      {change(K::sysctl, "vm.swappiness", "/proc/sys/vm/swappiness"),
       change(K::sysctl, "vm.nosuchkey", "/proc/sys/vm/nosuchkey", "this kernel has no such key"),
       change(K::thp, "enabled", "/sys/kernel/mm/transparent_hugepage/enabled"),
       change(K::cgroup, "memory.high", "/sys/fs/cgroup/db.slice/memory.high"),
       change(K::postgresql, "huge_pages", ""), change(K::kernel_cmdline, "hugepages", "")},
      {}});
  p.steps[0].changes.push_back(
      change(K::hugetlb, "node1/hugepages-2048kB",
             "/sys/devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages"));
  const auto with_node = writes_from(p, {"node1/hugepages-2048kB"});
  ASSERT_EQ(with_node.size(), 1u);
  EXPECT_EQ(with_node[0].tree, Tree::sys);
  EXPECT_EQ(with_node[0].rel, "devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages");
  p.steps[0].changes.pop_back();
  const auto all = writes_from(p, {});
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[0].tree, Tree::sys);
  EXPECT_EQ(all[0].rel, "kernel/mm/hugepages/hugepages-2048kB/nr_hugepages");
  EXPECT_EQ(all[1].key, "vm.swappiness");
  EXPECT_EQ(all[1].tree, Tree::proc);
  EXPECT_EQ(all[1].rel, "sys/vm/swappiness");
  EXPECT_EQ(all[1].logical, "/proc/sys/vm/swappiness");
  EXPECT_EQ(all[1].value, "1");
  EXPECT_EQ(all[1].rules, std::vector<std::string>{"R-1"});
  EXPECT_EQ(all[3].rel, "fs/cgroup/db.slice/memory.high");
  const auto only = writes_from(p, {"enabled", "vm.swappiness"});
  ASSERT_EQ(only.size(), 2u);
  EXPECT_EQ(only[0].key, "vm.swappiness");
  EXPECT_EQ(only[1].key, "enabled");
}

TEST(RestoreValue, TakesTheBracketedWordElseTheRawText) {
  EXPECT_EQ(restore_value("always [madvise] never\n"), "madvise");
  EXPECT_EQ(restore_value("[always] madvise never"), "always");
  EXPECT_EQ(restore_value("60\n"), "60\n");
  EXPECT_EQ(restore_value("4096\t87380\t6291456\n"), "4096\t87380\t6291456\n");
}

TEST_F(ApplyTest, ApplyThenRollbackRestoresByteForByte) {
  put("proc/sys/vm/odd", std::string("\xff\x01 \\x41\0tail\n", 13));
  auto writes = three();
  writes.push_back(write("vm.odd", Tree::proc, "sys/vm/odd", "7"));
  const auto before = contents();
  const auto o = applied(writes, options());
  EXPECT_EQ(o.state, JournalState::applied);
  EXPECT_FALSE(o.failure);
  ASSERT_EQ(o.keys.size(), 4u);
  EXPECT_EQ(o.keys[0].before, "60\n");
  EXPECT_EQ(o.keys[0].requested, "10");
  EXPECT_EQ(o.keys[0].granted, "10");
  EXPECT_TRUE(o.keys[0].took);
  EXPECT_EQ(get(kSwappiness), "10");
  EXPECT_EQ(get(kThp), "never");
  struct stat st {};
  ASSERT_EQ(::stat(journal_dir().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(::stat(o.journal.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_TRUE(test::valid_utf8(test::slurp(o.journal)));
  EXPECT_EQ(latest_journal(journal_dir()), o.journal);

  auto j = read_journal(o.journal);
  ASSERT_TRUE(j.ok()) << j.error().to_string();
  EXPECT_EQ(j->host, "db1");
  EXPECT_EQ(j->boot_id, "6a1f0b9e-6f1d-4c59-9d64-0b6f0c0e7d11");
  ASSERT_EQ(j->entries.size(), 5u);  // the four, then dirty_ratio's partner dirty_bytes
  EXPECT_EQ(j->entries[2].restore, "madvise");
  EXPECT_EQ(j->entries[3].before, before.at("proc/sys/vm/odd"));
  EXPECT_EQ(j->entries[4].key, "vm.dirty_bytes");
  EXPECT_FALSE(j->entries[4].requested);

  const auto r = rolled_back(o.journal);
  EXPECT_EQ(r.state, JournalState::rolled_back);
  EXPECT_FALSE(r.failure);
  auto after = contents();
  // A fake file keeps what was written: the kernel shows "madvise" as "always [madvise] never".
  EXPECT_EQ(after[kThp], "madvise");
  after[kThp] = before.at(kThp);
  EXPECT_EQ(after, before);
  EXPECT_EQ(read_journal(o.journal)->state, JournalState::rolled_back);
}

TEST_F(ApplyTest, BytesModePairIsRestoredThroughItsNonZeroMember) {
  put(kDirtyRatio, "0\n");
  put(kDirtyBytes, "268435456\n");
  const auto o =
      applied({write("vm.dirty_ratio", Tree::proc, "sys/vm/dirty_ratio", "10")}, options());
  put(kDirtyBytes, "0\n");  // what the kernel does when the ratio is written
  const auto r = rolled_back(o.journal);
  EXPECT_EQ(get(kDirtyBytes), "268435456\n");
  ASSERT_EQ(r.keys.size(), 2u);  // reverse order: the partner first
  EXPECT_EQ(r.keys[0].key, "vm.dirty_bytes");
  EXPECT_TRUE(r.keys[0].written);
  EXPECT_EQ(r.keys[1].key, "vm.dirty_ratio");
  EXPECT_FALSE(r.keys[1].written);  // writing the bytes zeroed it; "0" is not written
}

TEST_F(ApplyTest, FailingWriteHalfwayRestoresTheFirstHalf) {
  const auto before = contents();
  auto o = options();
  o.before_write = [&](const Write& w) {
    if (w.key != "enabled") return;
    fs::remove(root() / kThp);
    fs::create_directory(root() / kThp);
  };
  const auto out = applied(three(), o);
  ASSERT_TRUE(out.failure);
  EXPECT_EQ(out.failure->field, "enabled");
  EXPECT_EQ(out.failure->path, "/sys/kernel/mm/transparent_hugepage/enabled");
  EXPECT_NE(out.failure->message.find("Is a directory"), std::string::npos)
      << out.failure->to_string();
  EXPECT_EQ(out.state, JournalState::failed_restored);
  EXPECT_EQ(out.failure->kind, core::ErrorKind::io_error);
  ASSERT_EQ(out.keys.size(), 3u);
  EXPECT_TRUE(out.keys[0].restored);
  EXPECT_TRUE(out.keys[1].restored);
  EXPECT_FALSE(out.keys[2].written);
  auto after = contents();
  after[kThp] = before.at(kThp);
  EXPECT_EQ(after, before);
  EXPECT_EQ(read_journal(out.journal)->state, JournalState::failed_restored);
  const auto again = rolled_back(out.journal);
  ASSERT_EQ(again.messages.size(), 1u);
  EXPECT_NE(again.messages[0].find("already restored"), std::string::npos);
}

TEST_F(ApplyTest, MissingKeyFailsWithTheKeyAndAHint) {
  auto o = options();
  o.before_write = [&](const Write& w) {
    if (w.key == "vm.dirty_ratio") fs::remove(root() / kDirtyRatio);
  };
  const auto out = applied(three(), o);
  ASSERT_TRUE(out.failure);
  EXPECT_EQ(out.failure->field, "vm.dirty_ratio");
  EXPECT_EQ(out.failure->kind, core::ErrorKind::missing);
  EXPECT_NE(out.failure->message.find("this kernel has no such file"), std::string::npos)
      << out.failure->to_string();
  EXPECT_EQ(get(kSwappiness), "60\n");
  EXPECT_EQ(get(kThp), "always [madvise] never\n");
}

TEST_F(ApplyTest, DryRunWritesNothing) {
  const auto before = contents();
  auto o = options();
  o.dry_run = true;
  o.persist = {{tmp() / "etc/sysctl.d/99-vmtune.conf", "vm.swappiness = 10\n"}};
  const auto out = applied(three(), o);
  EXPECT_TRUE(out.dry_run);
  EXPECT_TRUE(out.journal.empty());
  ASSERT_EQ(out.keys.size(), 3u);
  EXPECT_EQ(out.keys[0].logical, "/proc/sys/vm/swappiness");
  EXPECT_EQ(out.keys[0].before, "60\n");
  EXPECT_EQ(out.keys[0].requested, "10");
  EXPECT_EQ(out.keys[2].before, "always [madvise] never\n");
  EXPECT_EQ(out.keys[2].requested, "never");
  ASSERT_EQ(out.files.size(), 1u);
  EXPECT_FALSE(out.files[0].existed);
  EXPECT_EQ(contents(), before);
  EXPECT_FALSE(fs::exists(journal_dir()));
  EXPECT_FALSE(fs::exists(tmp() / "etc"));
}

TEST_F(ApplyTest, SecondRunWhileTheLockIsHeldFailsClearly) {
  ASSERT_TRUE(prepare_journal_dir(journal_dir()).ok());
  auto lock = lock_journal_dir(journal_dir());
  ASSERT_TRUE(lock.ok()) << lock.error().to_string();
  const auto before = contents();
  auto r = apply(tree(), three(), options());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("another vmtune apply or rollback is running"),
            std::string::npos);
  EXPECT_EQ(contents(), before);
  EXPECT_FALSE(latest_journal(journal_dir()));
}

TEST_F(ApplyTest, RollbackRefusesAnotherBootUnlessForced) {
  const auto o = applied(three(), options());
  put(kBootId, "11111111-2222-3333-4444-555555555555\n");
  auto r = rollback(tree(), o.journal, false);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "boot_id");
  EXPECT_NE(r.error().message.find("rebooted"), std::string::npos);
  EXPECT_EQ(get(kSwappiness), "10");
  const auto forced = rolled_back(o.journal, true);
  EXPECT_EQ(get(kSwappiness), "60\n");
  ASSERT_FALSE(forced.messages.empty());
  EXPECT_NE(forced.messages[0].find("forced"), std::string::npos);
}

TEST_F(ApplyTest, RollbackRefusesAnotherHostUnlessForced) {
  const auto o = applied(three(), options());
  auto j = read_journal(o.journal);
  ASSERT_TRUE(j.ok());
  j->host = "web7";
  ASSERT_TRUE(write_journal(o.journal, *j).ok());
  auto r = rollback(tree(), o.journal, false);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "host");
  EXPECT_NE(r.error().message.find("web7"), std::string::npos);
  EXPECT_EQ(get(kSwappiness), "10");
  rolled_back(o.journal, true);
  EXPECT_EQ(get(kSwappiness), "60\n");
}

TEST_F(ApplyTest, SecondRollbackChangesNothing) {
  const auto o = applied(three(), options());
  rolled_back(o.journal);
  put(kSwappiness, "33\n");  // changed by hand since
  const auto again = rolled_back(o.journal);
  EXPECT_TRUE(again.keys.empty());
  ASSERT_EQ(again.messages.size(), 1u);
  EXPECT_NE(again.messages[0].find("already rolled back"), std::string::npos);
  EXPECT_EQ(get(kSwappiness), "33\n");
}

TEST_F(ApplyTest, ANewRunAfterARollbackHasTheLatestJournal) {
  const auto first = applied(three(), options());
  rolled_back(first.journal);
  const auto second =
      applied({write("vm.swappiness", Tree::proc, "sys/vm/swappiness", "1")}, options());
  EXPECT_NE(first.journal, second.journal);
  EXPECT_EQ(latest_journal(journal_dir()), second.journal);
  EXPECT_EQ(get(kSwappiness), "1");
  const auto empty = applied({}, options());
  EXPECT_TRUE(empty.journal.empty());
  EXPECT_EQ(latest_journal(journal_dir()), second.journal);
}

TEST_F(ApplyTest, RunKilledHalfwayIsCompletedByRollback) {
  const auto before = contents();
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto o = options();
    int writes = 0;
    o.before_write = [&](const Write&) {
      if (++writes == 2) ::raise(SIGKILL);  // after the journal and the first value
    };
    (void)apply(tree(), three(), o);
    ::_exit(3);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  EXPECT_EQ(get(kSwappiness), "10");
  EXPECT_EQ(get(kDirtyRatio), "20\n");
  const auto journal = latest_journal(journal_dir());
  ASSERT_TRUE(journal);
  auto j = read_journal(*journal);
  ASSERT_TRUE(j.ok()) << j.error().to_string();
  EXPECT_EQ(j->state, JournalState::open);
  EXPECT_EQ(j->entries[0].state, EntryState::written);
  EXPECT_EQ(j->entries[1].state, EntryState::saved);
  auto refused = apply(tree(), three(), options());  // would journal half-applied values
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("did not finish"), std::string::npos);
  const auto r = rolled_back(*journal);  // the dead run's lock went with it
  EXPECT_EQ(r.state, JournalState::rolled_back);
  auto after = contents();
  after[kThp] = before.at(kThp);
  EXPECT_EQ(after, before);
}

// An unfinished apply blocks the next one even when a later journal is finished: apply looks at
// every journal, and "the latest" counts a collision twin (apply-<time>-1) as later.
TEST_F(ApplyTest, AnyUnfinishedJournalBlocksTheNextApply) {
  const auto first = applied(three(), options());
  ASSERT_FALSE(first.failure);
  // Make the first journal look killed mid-apply, and a later one finished.
  auto j = read_journal(first.journal);
  ASSERT_TRUE(j.ok());
  j->state = JournalState::open;
  ASSERT_TRUE(write_journal(first.journal, *j).ok());
  const auto later =
      fs::path(first.journal.string().substr(0, first.journal.string().size() - 5) + "-1.json");
  j->state = JournalState::applied;
  ASSERT_TRUE(write_journal(later, *j).ok());
  EXPECT_EQ(latest_journal(journal_dir()), later);
  const auto all = journals(journal_dir());
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all.front(), first.journal);
  auto r = apply(tree(), three(), options());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().path, first.journal.string());
  EXPECT_NE(r.error().message.find("did not finish"), std::string::npos) << r.error().message;
}

TEST_F(ApplyTest, FullDiskUnderTheJournalChangesNothing) {
  ASSERT_TRUE(prepare_journal_dir(journal_dir()).ok());
  const auto before = contents();
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // A file-size limit fails the journal's write as a full disk would (EFBIG for ENOSPC).
    ::signal(SIGXFSZ, SIG_IGN);
    const rlimit small{64, 64};
    ::setrlimit(RLIMIT_FSIZE, &small);
    auto r = apply(tree(), three(), options());
    const bool said = !r.ok() && r.error().message.find("nothing was changed") != std::string::npos;
    ::_exit(said ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(contents(), before);
  EXPECT_FALSE(latest_journal(journal_dir()));
}

class DamagedJournal : public ApplyTest {
 protected:
  void SetUp() override {
    ApplyTest::SetUp();
    journal_ = applied(three(), options()).journal;
    text_ = test::slurp(journal_);
  }
  /// rollback of the journal rewritten as `text`: an error, and nothing changed.
  core::Error refused(const std::string& text) {
    test::write_fixture(journal_, text);
    auto r = rollback(tree(), journal_, false);
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(get(kSwappiness), "10");
    return r ? core::Error{} : r.error();
  }
  std::string edited(const std::function<void(nlohmann::json&)>& edit) const {
    auto doc = nlohmann::json::parse(text_);
    edit(doc);
    return doc.dump();
  }
  fs::path journal_;
  std::string text_;
};

TEST_F(DamagedJournal, TruncatedGarbageAndForeignFilesAreErrors) {
  auto e = refused(text_.substr(0, text_.size() / 2));
  EXPECT_EQ(e.path, journal_.string());
  EXPECT_NE(e.message.find("truncated"), std::string::npos);
  e = refused("\x01\x02 not json");
  EXPECT_EQ(e.kind, core::ErrorKind::parse_error);
  EXPECT_EQ(refused(R"({"name": "something else"})").field, "format");
  EXPECT_EQ(refused(R"([1, 2, 3])").kind, core::ErrorKind::parse_error);
  EXPECT_EQ(refused(edited([](auto& d) { d["format"] = "tuned"; })).field, "format");
  EXPECT_EQ(refused(edited([](auto& d) { d["version"] = 9; })).field, "version");
}

TEST_F(DamagedJournal, EachFieldIsChecked) {
  EXPECT_EQ(refused(edited([](auto& d) { d["state"] = "weird"; })).field, "state");
  EXPECT_EQ(refused(edited([](auto& d) { d.erase("boot_id"); })).field, "boot_id");
  EXPECT_EQ(refused(edited([](auto& d) { d["entries"][0]["before"] = 5; })).field,
            "entries[0].before");
  EXPECT_EQ(refused(edited([](auto& d) { d["entries"][1]["rel"] = "../../etc/shadow"; })).field,
            "entries[1].rel");
  EXPECT_EQ(refused(edited([](auto& d) { d["entries"][1]["tree"] = "etc"; })).field,
            "entries[1].tree");
  EXPECT_EQ(refused(edited([](auto& d) { d["entries"][2] = "x"; })).field, "entries[2]");
  EXPECT_EQ(refused(edited([](auto& d) { d["files"] = 1; })).field, "files");
}

TEST_F(DamagedJournal, OversizedSymlinkedAndFifoJournalsAreRefused) {
  auto e = refused(text_ + std::string(kMaxJournalBytes, ' '));
  EXPECT_NE(e.message.find("larger than"), std::string::npos);
  test::write_fixture(journal_, text_);
  const auto link = journal_dir() / "apply-link.json";
  fs::create_symlink(journal_, link);
  auto r = rollback(tree(), link, false);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("symbolic link"), std::string::npos);
  const auto fifo = journal_dir() / "apply-fifo.json";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_FALSE(rollback(tree(), fifo, false).ok());  // refused without blocking
  EXPECT_EQ(get(kSwappiness), "10");
}

// A journal directory under one another user can write (or owns) could be swapped from under
// apply: refused, naming the directory above it, and nothing is created there. A sticky
// directory (/tmp) is safe: others cannot rename what is in it.
TEST_F(ApplyTest, JournalDirUnderADirectoryOthersControlIsRefused) {
  const auto open_dir = tmp() / "open";
  fs::create_directories(open_dir);
  fs::permissions(open_dir, fs::perms(0777));
  auto o = options();
  o.journal_dir = open_dir / "j";
  auto r = apply(tree(), three(), o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find(open_dir.string() + " above it is writable by group or others"),
            std::string::npos)
      << r.error().to_string();
  EXPECT_FALSE(fs::exists(open_dir / "j")) << "nothing is created under it";
  EXPECT_EQ(get(kSwappiness), "60\n");

  fs::permissions(open_dir, fs::perms(01777));
  auto ok = apply(tree(), three(), o);
  EXPECT_TRUE(ok.ok()) << ok.error().to_string();

  if (::geteuid() != 0) return;  // chown needs root
  const auto theirs = tmp() / "theirs";
  fs::create_directories(theirs / "j");
  ASSERT_EQ(::chown(theirs.c_str(), 65534, 65534), 0);
  o.journal_dir = theirs / "j";
  r = apply(tree(), three(), o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("above it is owned by uid 65534"), std::string::npos)
      << r.error().to_string();
}

TEST_F(ApplyTest, PersistFilesAreInstalledAndTakenBack) {
  const auto fresh = tmp() / "etc/sysctl.d/99-vmtune.conf";
  const auto old = tmp() / "etc/tmpfiles.d/vmtune.conf";
  test::write_fixture(old, "w /sys/x - - - - old\n");
  fs::permissions(old, fs::perms(0640));
  fs::create_directories(fresh.parent_path());
  auto o = options();
  o.persist = {{fresh, "vm.swappiness = 10\n"}, {old, "w /sys/x - - - - never\n"}};
  const auto out = applied(three(), o);
  ASSERT_FALSE(out.failure);
  ASSERT_EQ(out.files.size(), 2u);
  EXPECT_FALSE(out.files[0].existed);
  EXPECT_TRUE(out.files[1].existed);
  EXPECT_EQ(test::slurp(fresh), "vm.swappiness = 10\n");
  EXPECT_EQ(test::slurp(old), "w /sys/x - - - - never\n");
  const auto r = rolled_back(out.journal);
  EXPECT_FALSE(fs::exists(fresh));
  EXPECT_EQ(test::slurp(old), "w /sys/x - - - - old\n");
  EXPECT_EQ(fs::status(old).permissions() & fs::perms::all, fs::perms(0640));
  ASSERT_EQ(r.files.size(), 2u);
  EXPECT_EQ(r.files[0].action, "restore");  // reverse order
  EXPECT_EQ(r.files[1].action, "remove");
}

TEST_F(ApplyTest, FailedInstallPutsEverythingBack) {
  const auto fresh = tmp() / "etc/sysctl.d/99-vmtune.conf";
  fs::create_directories(fresh.parent_path());
  auto o = options();
  o.persist = {{fresh, "vm.swappiness = 10\n"}, {tmp() / "no/such/dir/x.conf", "x\n"}};
  const auto out = applied(three(), o);
  ASSERT_TRUE(out.failure);
  EXPECT_EQ(out.state, JournalState::failed_restored);
  EXPECT_FALSE(fs::exists(fresh));
  EXPECT_EQ(get(kSwappiness), "60\n");
}

TEST_F(ApplyTest, UnsafeJournalDirectoriesAreRefused) {
  const auto before = contents();
  fs::create_directories(tmp() / "real");
  fs::create_directory_symlink(tmp() / "real", tmp() / "link");
  auto o = options();
  o.journal_dir = tmp() / "link";
  auto r = apply(tree(), three(), o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("symbolic link"), std::string::npos);
  test::write_fixture(tmp() / "file", "x");
  o.journal_dir = tmp() / "file";
  r = apply(tree(), three(), o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("not a directory"), std::string::npos);
  fs::permissions(tmp() / "real", fs::perms(0777));
  o.journal_dir = tmp() / "real";
  r = apply(tree(), three(), o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("writable by group or others"), std::string::npos);
  if (test::running_as_root()) {
    fs::permissions(tmp() / "real", fs::perms(0700));
    ASSERT_EQ(::chown((tmp() / "real").c_str(), 65534, 65534), 0);
    r = apply(tree(), three(), o);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("not root"), std::string::npos);
  }
  EXPECT_EQ(contents(), before);
}

TEST_F(ApplyTest, UnsafeWritesAreRefusedBeforeAnythingChanges) {
  const auto before = contents();
  auto writes = three();
  writes.push_back(write("evil", Tree::proc, "sys/../../etc/passwd", "x"));
  EXPECT_FALSE(apply(tree(), writes, options()).ok());
  writes.back() = write("vm.swappiness", Tree::proc, "sys/vm/swappiness", "1");
  auto r = apply(tree(), writes, options());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("twice"), std::string::npos);
  EXPECT_EQ(contents(), before);
}

TEST(Journal, RoundTripsAnyBytes) {
  Journal j;
  j.host = std::string("h\xff\n\\x41", 7);
  j.boot_id = "b";
  j.time = utc_now();
  j.vmtune_version = "0.1.0";
  j.state = JournalState::failed;
  JournalEntry e;
  e.key = "vm.odd";
  e.rel = "sys/vm/odd";
  e.logical = "/proc/sys/vm/odd";
  e.before = std::string("\0\x1b[31m\xc3\x28\n", 9);
  e.restore = e.before;
  e.requested = "1";
  e.state = EntryState::restore_failed;
  j.entries.push_back(e);
  j.files.push_back(JournalFile{"/etc/sysctl.d/90-vmtune.conf", std::string("a\0b", 3), 0600,
                                FileState::installed});
  const auto text = to_json(j);
  EXPECT_TRUE(test::valid_utf8(text));
  auto back = parse_journal(text, "j.json");
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  EXPECT_EQ(back->host, j.host);
  EXPECT_EQ(back->state, JournalState::failed);
  ASSERT_EQ(back->entries.size(), 1u);
  EXPECT_EQ(back->entries[0].before, e.before);
  EXPECT_FALSE(back->entries[0].after);
  EXPECT_EQ(back->entries[0].state, EntryState::restore_failed);
  ASSERT_EQ(back->files.size(), 1u);
  EXPECT_EQ(back->files[0].before, j.files[0].before);
  EXPECT_EQ(back->files[0].mode, 0600u);
  EXPECT_EQ(to_json(*back), text);
}

// Found by the fuzzer: a number too large for any type is a damaged journal, not an exception.
TEST(Journal, HugeNumberIsADamagedJournal) {
  for (const char* text : {"77777777777777777777777777777777777777777777777000051E3042166817815664",
                           "{\"version\": 1e999999}", "[18446744073709551616]"}) {
    auto r = parse_journal(text, "j.json");
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.error().path, "j.json");
  }
}

// Inputs the apply_files fuzzer found (tests/data/fuzz-regressions/apply-*), replayed as it
// feeds them: the first byte picks the parser (odd: journal), the rest is the file.
TEST(Journal, FuzzRegressionsFailCleanly) {
  std::size_t n = 0;
  for (const auto& e : fs::directory_iterator(test::test_data() / "fuzz-regressions")) {
    if (e.path().filename().string().rfind("apply-", 0) != 0) continue;
    const auto bytes = test::slurp(e.path());
    ASSERT_FALSE(bytes.empty());
    ++n;
    ASSERT_EQ(bytes[0] % 2, 1) << "a journal input";
    EXPECT_FALSE(parse_journal(bytes.substr(1), "j.json").ok()) << e.path();
  }
  EXPECT_GE(n, 1u);
}

// A journal is read by root's rollback: it may only name the files apply writes. Anything else
// (a magic link through /proc/1/root, sysrq-trigger, power/state, /etc/shadow, a setuid mode)
// is refused, naming the field.
TEST(Journal, NamesOnlyFilesApplyWrites) {
  Journal j;
  j.host = "h";
  j.boot_id = "b";
  j.time = utc_now();
  j.vmtune_version = "0.1.0";
  j.state = JournalState::applied;
  JournalEntry e;
  e.key = "vm.swappiness";
  e.rel = "sys/vm/swappiness";
  e.logical = "/proc/sys/vm/swappiness";
  e.before = e.restore = "60\n";
  e.state = EntryState::written;
  j.entries = {e};
  ASSERT_TRUE(parse_journal(to_json(j), "j.json").ok());
  for (const char* rel : {"1/root/etc/shadow", "sysrq-trigger", "sys/vm/../../sysrq-trigger",
                          "self/root/etc/passwd", "sys/fs/binfmt_misc/register"}) {
    j.entries[0].rel = rel;
    auto r = parse_journal(to_json(j), "j.json");
    ASSERT_FALSE(r.ok()) << rel;
    EXPECT_EQ(r.error().field, "entries[0].rel") << r.error().to_string();
  }
  j.entries[0].tree = core::Tree::sys;
  for (const char* rel : {"power/state", "kernel/mm/transparent_hugepage/../../../power/state",
                          "fs/cgroup/a/../../power/memory.high"}) {
    j.entries[0].rel = rel;
    EXPECT_FALSE(parse_journal(to_json(j), "j.json").ok()) << rel;
  }
  j.entries[0].rel = "fs/cgroup/db.slice/memory.high";
  EXPECT_TRUE(parse_journal(to_json(j), "j.json").ok());
  j.entries[0].rel = "devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages";
  EXPECT_TRUE(parse_journal(to_json(j), "j.json").ok()) << "a NUMA node's pool";
  j.entries[0].rel =
      "devices/system/node/node1/hugepages/hugepages-2048kB/../../../../../power/state";
  EXPECT_FALSE(parse_journal(to_json(j), "j.json").ok());
  j.entries[0].rel = "devices/system/node/node1/compact";
  EXPECT_FALSE(parse_journal(to_json(j), "j.json").ok());
  j.files = {JournalFile{"/etc/shadow", std::string("x"), 0600, FileState::installed}};
  EXPECT_FALSE(parse_journal(to_json(j), "j.json").ok());
  j.files = {
      JournalFile{"/etc/sysctl.d/90-vmtune.conf", std::string("x"), 04755, FileState::installed}};
  EXPECT_FALSE(parse_journal(to_json(j), "j.json").ok()) << "a setuid mode";
}

}  // namespace
}  // namespace vmtune::apply
