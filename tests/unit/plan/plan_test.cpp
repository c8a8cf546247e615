// SPDX-License-Identifier: GPL-2.0-or-later
// The plan and the snippet generator on the scenario trees (tests/data/scenarios) with the
// real catalogue: the order of the steps, the one line per change, files that sysctl -p and an
// INI reader accept, idempotency on the applied result, and untrusted text kept in comments.
#include "plan/plan.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "catalogue.hpp"
#include "core/escape.hpp"
#include "core/temp_dir.hpp"
#include "rules/audit.hpp"
#include "rules/config.hpp"
#include "sampler/sampler.hpp"
#include "test_support.hpp"
#include "ui/sysctl/snippet.hpp"

namespace vmtune::plan {
namespace {

namespace fs = std::filesystem;
using rules::RecommendationKind;

fs::path scenario(const std::string& name) { return test::test_data() / "scenarios" / name; }

struct Audited {
  model::Snapshot snapshot;
  rules::Evaluation evaluation;
};

Audited audit_tree(const fs::path& dir) {
  sampler::Origin o;
  o.root = dir.string();
  auto s = sampler::Sampler::open(o);
  EXPECT_TRUE(s.ok()) << dir;
  if (!s.ok()) return {};
  Audited a;
  a.snapshot = s->window(0, sampler::Options{}).snapshot();
  rules::Config cfg;  // a scenario's own profile and reservations, as the scenario tests read them
  if (fs::exists(dir / "vmtune.toml")) {
    auto c = rules::load_config(dir / "vmtune.toml", "vmtune.toml");
    EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().to_string());
    if (c.ok()) cfg = *c;
  }
  a.evaluation = rules::audit(test::catalogue(), a.snapshot, cfg);
  attach_apply_lines(a.evaluation, a.snapshot);
  return a;
}

Plan plan_of(const fs::path& dir) {
  const auto a = audit_tree(dir);
  return make_plan(a.evaluation, a.snapshot);
}

ui::sysctl::Header header() {
  ui::sysctl::Header h;
  h.host = "db1";
  h.kernel = "6.1.0";
  h.generated = "2026-12-01T00:00:00Z";
  h.input = "test";
  return h;
}

/// Every line of a sysctl.d file that is not a comment or blank: "key = value".
std::map<std::string, std::string> settings_of(const std::string& conf) {
  std::map<std::string, std::string> out;
  std::istringstream in(conf);
  const std::regex kv(R"(^([a-z0-9_.\-]+) = ([^ ]+)$)");
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::smatch m;
    EXPECT_TRUE(std::regex_match(line, m, kv)) << "not key = value: " << line;
    if (!m.empty()) out[m[1]] = m[2];
  }
  return out;
}

TEST(Plan, SysctlChangeHasItsLineRuleEvidenceAndPath) {
  const auto plan = plan_of(scenario("R-SWAP-1-fires"));
  ASSERT_EQ(plan.steps.size(), 1u);
  EXPECT_EQ(plan.steps[0].title, "Kernel memory settings (sysctl)");
  ASSERT_EQ(plan.steps[0].changes.size(), 1u);
  const auto& c = plan.steps[0].changes[0];
  EXPECT_EQ(c.key, "vm.swappiness");
  EXPECT_EQ(c.proposed, "1");
  EXPECT_EQ(c.path, "/proc/sys/vm/swappiness");
  EXPECT_EQ(c.apply_line, "sysctl -w vm.swappiness=1");
  EXPECT_EQ(c.rules, std::vector<std::string>{"R-SWAP-1"});
  EXPECT_FALSE(c.evidence.empty());
  EXPECT_TRUE(c.problem.empty()) << c.problem;
  EXPECT_EQ(c.disruption, Disruption::none);
}

TEST(Plan, SysctlFileHasHeaderCommentsAndOnlyKeyValueLines) {
  const auto plan = plan_of(scenario("R-OC-1-fires"));
  const auto conf = ui::sysctl::render_sysctl_conf(plan, header());
  EXPECT_EQ(conf.find("# vmtune sysctl settings for db1, kernel 6.1.0, 2026-12-01T00:00:00Z"), 0u)
      << conf;
  EXPECT_NE(conf.find(std::string("# ") + ui::sysctl::kMarker), std::string::npos);
  EXPECT_NE(conf.find("# Apply: sysctl -p FILE"), std::string::npos);
  EXPECT_NE(conf.find("# Undo:"), std::string::npos);
  const auto kv = settings_of(conf);
  EXPECT_EQ(kv.at("vm.overcommit_memory"), "2");
  EXPECT_EQ(kv.at("vm.overcommit_ratio"), "70");
  EXPECT_EQ(kv.at("vm.admin_reserve_kbytes"), "131072");
  EXPECT_EQ(kv.size(), 3u);
  // Each setting is preceded by its rule and current -> proposed.
  EXPECT_NE(conf.find("# vm.overcommit_memory: "), std::string::npos);
  EXPECT_NE(conf.find("# R-OC-1 (info): "), std::string::npos) << conf;
}

TEST(Plan, ThpIsNotASysctlButTmpfilesAndBootParameters) {
  const auto plan = plan_of(scenario("R-THP-1-fires"));
  std::vector<std::string> titles;
  for (const auto& s : plan.steps) titles.push_back(s.title);
  const std::vector<std::string> want = {"Transparent huge pages",
                                         "Boot parameters (kernel command line)"};
  EXPECT_EQ(titles, want);
  EXPECT_EQ(plan.steps.back().disruption, Disruption::reboot);
  const auto h = header();
  const auto conf = ui::sysctl::render_sysctl_conf(plan, h);
  EXPECT_TRUE(settings_of(conf).empty()) << conf;
  EXPECT_NE(conf.find("# No sysctl to set"), std::string::npos);
  EXPECT_NE(conf.find("not a sysctl: tmpfiles.d: w /sys/kernel/mm/transparent_hugepage/enabled - "
                      "- - - never"),
            std::string::npos)
      << conf;
  const auto tmpfiles = ui::sysctl::render_tmpfiles(plan, h);
  EXPECT_NE(tmpfiles.find("\nw /sys/kernel/mm/transparent_hugepage/enabled - - - - never\n"),
            std::string::npos)
      << tmpfiles;
  EXPECT_NE(tmpfiles.find("\nw /sys/kernel/mm/transparent_hugepage/defrag - - - - never\n"),
            std::string::npos);
  const auto cmdline = ui::sysctl::render_cmdline(plan, h);
  EXPECT_NE(cmdline.find("\ntransparent_hugepage=never\n"), std::string::npos) << cmdline;
  for (const auto* c : plan.changes()) {
    if (c->kind == RecommendationKind::thp && c->key == "enabled") {
      EXPECT_EQ(c->apply_line, "echo never > /sys/kernel/mm/transparent_hugepage/enabled");
    }
  }
}

// tuned.conf is an INI file: sections, key=value, comments.
TEST(Plan, TunedProfileParsesAsIni) {
  const auto plan = plan_of(scenario("R-THP-1-fires"));
  const auto tuned = ui::sysctl::render_tuned(plan, header(), "throughput-performance");
  std::istringstream in(tuned);
  std::map<std::string, std::map<std::string, std::string>> ini;
  std::string section;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    if (line.front() == '[') {
      ASSERT_EQ(line.back(), ']') << line;
      section = line.substr(1, line.size() - 2);
      continue;
    }
    const auto eq = line.find('=');
    ASSERT_NE(eq, std::string::npos) << line;
    ASSERT_FALSE(section.empty()) << "key outside a section: " << line;
    ini[section][line.substr(0, eq)] = line.substr(eq + 1);
  }
  EXPECT_EQ(ini["main"]["include"], "throughput-performance");
  EXPECT_EQ(ini["vm"]["transparent_hugepages"], "never");
  EXPECT_EQ(ini["sysfs"]["/sys/kernel/mm/transparent_hugepage/defrag"], "never");
  EXPECT_EQ(ini["bootloader"]["cmdline_vmtune"], "transparent_hugepage=never");
}

// The hugetlb pool is reserved (and checked) before anything that uses it.
TEST(Plan, PoolComesFirstWithItsCheck) {
  const auto plan = plan_of(scenario("R-HP-2-fires"));
  ASSERT_FALSE(plan.steps.empty());
  EXPECT_EQ(plan.steps[0].title, "Reserve the huge-page pool");
  ASSERT_FALSE(plan.steps[0].checks.empty());
  EXPECT_NE(plan.steps[0].checks[0].find("HugePages_Total"), std::string::npos);
  EXPECT_NE(plan.steps[0].checks[0].find("expect 24"), std::string::npos)
      << plan.steps[0].checks[0];
}

// Running the generator on its own applied result proposes nothing: for every scenario whose
// plan is sysctls only, write each proposed value into a copy of the tree's /proc/sys (every
// reading of it) and generate again. R-WM-3 is the exception by design: it widens
// watermark_scale_factor a step at a time while the stalls it measures go on (10 -> 50 -> 100,
// to its cap), and a copied tree's stalls cannot go away.
TEST(Plan, AppliedResultProposesNothing) {
  auto tmp = core::TempDir::create("vmtune-plan-test-");
  ASSERT_TRUE(tmp.ok());
  int checked = 0;
  for (const auto& entry : fs::directory_iterator(test::test_data() / "scenarios")) {
    const auto name = entry.path().filename().string();
    if (name.size() < 6 || name.compare(name.size() - 6, 6, "-fires") != 0) continue;
    if (name == "R-WM-3-fires") continue;
    const auto before = plan_of(entry.path());
    const auto changes = before.changes();
    if (changes.empty() || std::any_of(changes.begin(), changes.end(), [](const Change* c) {
          return c->kind != RecommendationKind::sysctl;
        })) {
      continue;
    }
    const auto copy = tmp->path() / name;
    fs::copy(entry.path(), copy, fs::copy_options::recursive);
    for (const auto* c : changes) {
      // Into every reading of the tree (a scenario may hold two, s0/ and s1/).
      bool written = false;
      for (const auto& e : fs::recursive_directory_iterator(copy)) {
        const auto p = e.path().generic_string();
        if (p.size() > c->path.size() &&
            p.compare(p.size() - c->path.size(), c->path.size(), c->path) == 0) {
          test::write_fixture(e.path(), c->proposed + "\n");
          written = true;
        }
      }
      if (!written) test::write_fixture(copy / c->path.substr(1), c->proposed + "\n");
    }
    const auto after = plan_of(copy);
    EXPECT_TRUE(after.empty()) << name << ": " << ui::sysctl::render_plan_text(after, header());
    EXPECT_NE(ui::sysctl::render_sysctl_conf(after, header()).find("# Nothing to change"),
              std::string::npos);
    ++checked;
  }
  EXPECT_GE(checked, 20);
}

// A cgroup path is untrusted: a shell line is only offered for a plain path, and every output
// keeps a hostile path inside its comment (escaped, one line).
TEST(Plan, HostileCgroupPathNeverReachesAShellLine) {
  rules::Recommendation r;
  r.kind = RecommendationKind::cgroup;
  r.key = "memory.high";
  r.proposed = "966365184";
  r.target = "/db.slice";
  model::Snapshot snap;
  EXPECT_EQ(apply_line(r, snap), "echo 966365184 > /sys/fs/cgroup/db.slice/memory.high");
  for (const char* hostile : {"/x$(reboot)", "/a'b", "/a\nsysctl -w vm.panic_on_oom=1", "/a b",
                              "/../../proc/sys/kernel/panic", "/a;b", "/`id`"}) {
    r.target = hostile;
    const auto line = apply_line(r, snap);
    EXPECT_EQ(line.find("echo"), std::string::npos) << line;
    EXPECT_EQ(line.find(hostile), std::string::npos) << line;
  }
  // In a generated file the hostile path stays on its comment line.
  rules::Evaluation ev;
  rules::Finding f;
  f.rule_id = "R-CG-1";
  r.target = "/a\nvm.panic_on_oom = 1";
  f.recommendations = {r};
  ev.findings = {f};
  const auto conf = ui::sysctl::render_sysctl_conf(make_plan(ev, snap), header());
  EXPECT_TRUE(settings_of(conf).empty()) << conf;
  EXPECT_NE(conf.find("\\x0a"), std::string::npos) << conf;
}

// R-PG-HP-1's advice as a plan: reserve, check the pool was granted, then huge_pages = on and a
// restart of the instance, named by data directory and port; never the other way round.
TEST(Plan, PostgresHugePagesComeAfterThePoolIsGranted) {
  model::Snapshot snap;
  model::PgInstance pg;
  pg.data_dir = "/var/lib/postgresql/15/main";
  pg.port = 5432;
  snap.current.postgres.value = model::PostgresFacts{{pg}};
  rules::Finding f;
  f.rule_id = "R-PG-HP-1";
  rules::Recommendation pool;
  pool.key = "vm.nr_hugepages";
  pool.current = "0";
  pool.proposed = "80";
  rules::Recommendation on;
  on.kind = RecommendationKind::postgresql;
  on.key = "huge_pages";
  on.current = "try";
  on.proposed = "on";
  f.recommendations = {on, pool};  // the rule's order does not decide the plan's
  rules::Evaluation ev;
  ev.findings = {f};
  const auto plan = make_plan(ev, snap);
  ASSERT_EQ(plan.steps.size(), 2u);
  EXPECT_EQ(plan.steps[0].title, "Reserve the huge-page pool");
  EXPECT_NE(plan.steps[0].checks.at(0).find("expect 80"), std::string::npos);
  EXPECT_EQ(plan.steps[1].disruption, Disruption::restart_service);
  const auto& c = plan.steps[1].changes.at(0);
  EXPECT_EQ(c.target, "/var/lib/postgresql/15/main (port 5432)");
  EXPECT_EQ(c.apply_line, "ALTER SYSTEM SET huge_pages = 'on';  -- then restart PostgreSQL");
  EXPECT_NE(plan.steps[1].checks.at(0).find("only after the huge-page pool above is granted"),
            std::string::npos);
  const auto conf = ui::sysctl::render_postgresql(plan, header());
  EXPECT_NE(conf.find("# Instance /var/lib/postgresql/15/main (port 5432)\n"), std::string::npos)
      << conf;
  EXPECT_NE(conf.find("\nhuge_pages = 'on'\n"), std::string::npos) << conf;
  EXPECT_NE(conf.find("# ALTER SYSTEM SET huge_pages = 'on';"), std::string::npos) << conf;
}

// The plan reserves the pool for the shared_buffers it proposes, not today's: with huge_pages =
// on, a pool sized for 128 MB would keep a 6 GB server from starting after the restart.
TEST(Plan, PoolIsSizedForTheProposedSharedBuffers) {
  model::Snapshot snap;
  model::PgInstance pg;
  pg.setting_values = {{"shared_buffers", 134217728.0}, {"block_size", 8192.0}};
  snap.current.postgres.value = model::PostgresFacts{{pg}};
  snap.current.meminfo.value = model::MemInfo{{{"Hugepagesize", 2048 * 1024}}};
  rules::Finding hp;
  hp.rule_id = "R-PG-HP-1";
  rules::Recommendation pool;
  pool.key = "vm.nr_hugepages";
  pool.proposed = "80";
  hp.recommendations = {pool};
  rules::Finding sb;
  sb.rule_id = "R-PG-SB-2";
  rules::Recommendation buffers;
  buffers.kind = RecommendationKind::postgresql;
  buffers.key = "shared_buffers";
  buffers.proposed = "786432";  // 8 kB buffers: 6 GiB
  sb.recommendations = {buffers};
  rules::Evaluation ev;
  ev.findings = {hp, sb};
  const auto plan = make_plan(ev, snap);
  const auto& c = plan.steps.at(0).changes.at(0);
  // (6 GiB - 128 MiB) x 1.04 (descriptors and margin) / 2 MiB = 3129 more pages.
  EXPECT_EQ(c.proposed, "3209");
  EXPECT_EQ(c.apply_line, "sysctl -w vm.nr_hugepages=3209");
  EXPECT_NE(c.note.find("+3129 pages for shared_buffers = 786432"), std::string::npos) << c.note;
  EXPECT_NE(plan.steps[0].checks.at(0).find("expect 3209"), std::string::npos);

  // A second instance whose shared_buffers the same report lowers from 8 GiB to 4 GiB: its
  // change names it, and the pool gives back exactly the 2048 pages of buffers it frees.
  model::PgInstance big;
  big.data_dir = "/srv/pg2";
  big.port = 5433;
  big.setting_values = {{"shared_buffers", 8589934592.0}, {"block_size", 8192.0}};
  snap.current.postgres.value->instances.push_back(big);
  rules::Recommendation lower = buffers;
  lower.proposed = "524288";  // 4 GiB
  lower.target = model::pg_instance_label(big);
  buffers.target = model::pg_instance_label(pg);
  sb.recommendations = {buffers, lower};
  ev.findings = {hp, sb};
  const auto two = make_plan(ev, snap);
  EXPECT_EQ(two.steps.at(0).changes.at(0).proposed, std::to_string(80 + 3129 - 2048));
  const auto& pg_changes = two.steps.back().changes;
  std::vector<std::string> targets;
  for (const auto& step : two.steps) {
    for (const auto& ch : step.changes) {
      if (ch.key == "shared_buffers") targets.push_back(ch.target);
    }
  }
  (void)pg_changes;
  EXPECT_EQ(targets, (std::vector<std::string>{"PostgreSQL", "/srv/pg2 (port 5433)"}));
}

// On a two-node host where PostgreSQL's postmaster may allocate only from node 1 (numactl
// --membind=1), vm.nr_hugepages would spread the pool over both nodes and half of it would be
// of no use: the plan reserves it on node 1's own pool file instead. Unbound, it stays global.
model::Snapshot two_node_host(const std::string& mems_allowed) {
  model::Snapshot snap;
  snap.current.meminfo.value = model::MemInfo{{{"Hugepagesize", 2048 * 1024}}};
  model::Numa numa;
  for (int id : {0, 1}) {
    model::NumaNode n;
    n.id = id;
    n.meminfo = {{"MemTotal", 64ull << 30}};
    model::HugePagePool hp;
    hp.page_size = 2048 * 1024;
    hp.nr = id == 0 ? 16 : 0;
    n.hugepages = {hp};
    numa.nodes.push_back(n);
  }
  snap.current.numa.value = numa;
  model::PgInstance pg;
  pg.postmaster_pid = 4242;
  snap.current.postgres.value = model::PostgresFacts{{pg}};
  model::Process postmaster;
  postmaster.pid = 4242;
  postmaster.mems_allowed = mems_allowed;
  snap.current.processes.value = std::vector<model::Process>{postmaster};
  return snap;
}

rules::Evaluation pool_finding(const std::string& pages) {
  rules::Finding f;
  f.rule_id = "R-PG-HP-1";
  rules::Recommendation pool;
  pool.key = "vm.nr_hugepages";
  pool.current = "16";
  pool.proposed = pages;
  f.recommendations = {pool};
  rules::Evaluation ev;
  ev.findings = {f};
  return ev;
}

TEST(Plan, PoolGoesOnTheNumaNodesPostgresMayUse) {
  auto plan = make_plan(pool_finding("1001"), two_node_host("1"));
  ASSERT_EQ(plan.steps.size(), 1u);
  ASSERT_EQ(plan.steps[0].changes.size(), 1u);
  const auto& c = plan.steps[0].changes[0];
  EXPECT_EQ(c.kind, RecommendationKind::hugetlb);
  EXPECT_EQ(c.key, "node1/hugepages-2048kB");
  EXPECT_EQ(c.current, "0");
  EXPECT_EQ(c.proposed, "1001");
  EXPECT_EQ(c.path, "/sys/devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages");
  EXPECT_EQ(c.apply_line,
            "echo 1001 > /sys/devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages");
  EXPECT_NE(c.note.find("PostgreSQL may allocate only from node(s) 1"), std::string::npos)
      << c.note;
  EXPECT_EQ(plan.steps[0].checks.at(0),
            "cat /sys/devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages  # expect "
            "1001");
  // Persisted as a tmpfiles line, like the other /sys pools; nothing in the sysctl.d file.
  const auto tmpfiles = ui::sysctl::render_tmpfiles(plan, header());
  EXPECT_NE(tmpfiles.find("\nw /sys/devices/system/node/node1/hugepages/hugepages-2048kB/"
                          "nr_hugepages - - - - 1001\n"),
            std::string::npos)
      << tmpfiles;
  EXPECT_TRUE(settings_of(ui::sysctl::render_sysctl_conf(plan, header())).empty());

  // Bound to both nodes of a three-node host with the third memoryless: split evenly.
  auto three = two_node_host("0-2");
  three.current.numa.value->nodes.push_back(
      model::NumaNode{2, {{"MemTotal", 0}}, {}, {}, "", {}, {}});
  EXPECT_EQ(make_plan(pool_finding("1001"), three).steps[0].changes[0].key, "vm.nr_hugepages")
      << "every node with memory is allowed: the kernel's own spread is right";
  auto bound = two_node_host("0,1");
  bound.current.numa.value->nodes.push_back(
      model::NumaNode{2, {{"MemTotal", 1u << 30}}, {}, {}, "", {}, {}});
  plan = make_plan(pool_finding("1001"), bound);
  ASSERT_EQ(plan.steps[0].changes.size(), 2u);
  EXPECT_EQ(plan.steps[0].changes[0].key, "node0/hugepages-2048kB");
  EXPECT_EQ(plan.steps[0].changes[0].current, "16");
  EXPECT_EQ(plan.steps[0].changes[0].proposed, "501");
  EXPECT_EQ(plan.steps[0].changes[1].key, "node1/hugepages-2048kB");
  EXPECT_EQ(plan.steps[0].changes[1].proposed, "500");
}

TEST(Plan, UnboundOrUnknownBindingKeepsTheGlobalPool) {
  for (const char* mems : {"0-1", "", "0-1\nrm -rf /"}) {
    const auto plan = make_plan(pool_finding("1001"), two_node_host(mems));
    EXPECT_EQ(plan.steps.at(0).changes.at(0).key, "vm.nr_hugepages") << mems;
  }
}

TEST(Plan, ShellQuoting) {
  EXPECT_EQ(shell_quote("vm.swappiness=10"), "vm.swappiness=10");
  EXPECT_EQ(shell_quote("defer+madvise"), "defer+madvise");
  EXPECT_EQ(shell_quote("a b"), "'a b'");
  EXPECT_EQ(shell_quote("it's"), "'it'\\''s'");
  EXPECT_EQ(shell_quote(""), "''");
}

TEST(Plan, EmptyPlanSaysSoInEveryFormat) {
  const Plan empty;
  const auto h = header();
  EXPECT_NE(ui::sysctl::render_sysctl_conf(empty, h).find("Nothing to change"), std::string::npos);
  EXPECT_NE(ui::sysctl::render_tuned(empty, h, "").find("Nothing to change"), std::string::npos);
  EXPECT_NE(ui::sysctl::render_postgresql(empty, h).find("No PostgreSQL setting"),
            std::string::npos);
  EXPECT_NE(ui::sysctl::render_cmdline(empty, h).find("No boot parameter"), std::string::npos);
  EXPECT_NE(ui::sysctl::render_tmpfiles(empty, h).find("No sysfs file"), std::string::npos);
  const auto j = ui::sysctl::plan_to_json(empty, h);
  EXPECT_TRUE(j.at("steps").empty());
}

// The header's host name is untrusted: escaped, so it cannot add a line.
TEST(Plan, HostNameIsEscapedInTheHeader) {
  auto h = header();
  h.host = "db1\nvm.panic_on_oom = 1";
  const auto conf = ui::sysctl::render_sysctl_conf(plan_of(scenario("R-SWAP-1-fires")), h);
  EXPECT_EQ(conf.find("\nvm.panic_on_oom"), std::string::npos) << conf;
  EXPECT_NE(conf.find("db1\\x0avm.panic_on_oom"), std::string::npos) << conf;
}

}  // namespace
}  // namespace vmtune::plan
