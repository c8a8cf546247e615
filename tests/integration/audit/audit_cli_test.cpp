// SPDX-License-Identifier: GPL-2.0-or-later
// `vmtune audit` end to end: the real binary on this machine, on a snapshot of it (archive and
// unpacked directory), with a broken rule file and a broken configuration.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>

#include "core/temp_dir.hpp"
#include "test_support.hpp"

namespace vmtune {
namespace {

namespace fs = std::filesystem;

struct Run {
  int code = -1;
  std::string out;
  std::string err;
  double seconds = 0;
};

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

Run run(const std::vector<std::string>& args, const fs::path& tmp) {
  std::string cmd = "NO_COLOR=1 " + quote(test::vmtune_binary().string());
  for (const auto& a : args) cmd += " " + quote(a);
  cmd += " >" + quote((tmp / "out").string()) + " 2>" + quote((tmp / "err").string());
  const auto start = std::chrono::steady_clock::now();
  const int st = std::system(cmd.c_str());
  Run r;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  r.out = test::slurp(tmp / "out");
  r.err = test::slurp(tmp / "err");
  return r;
}

std::set<std::string> rule_ids(const std::string& json_text) {
  std::set<std::string> ids;
  const auto doc = nlohmann::json::parse(json_text);  // keep it alive for the loop
  for (const auto& f : doc.at("findings")) {
    ids.insert(f.at("rule_id").get<std::string>());
  }
  return ids;
}

class AuditCli : public ::testing::Test {
 protected:
  void SetUp() override {
    auto t = core::TempDir::create("vmtune-audit-it-");
    ASSERT_TRUE(t.ok());
    tmp_.emplace(std::move(*t));
  }
  const fs::path& dir() const { return tmp_->path(); }
  std::optional<core::TempDir> tmp_;
};

TEST_F(AuditCli, LiveAuditPrintsASensibleReportInAFewSeconds) {
  const auto r = run({"audit", "--window", "1"}, dir());
  EXPECT_TRUE(r.code == 0 || r.code == 1 || r.code == 2) << r.code << "\n" << r.err;
  EXPECT_LT(r.seconds, 30.0);
  EXPECT_NE(r.out.find("vmtune audit: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("rates over 1."), std::string::npos) << r.out;  // 1 s + reading time
  EXPECT_NE(r.out.find(" rules\n"), std::string::npos);
  EXPECT_EQ(r.out.find("\033["), std::string::npos);  // NO_COLOR and not a terminal
  // The exit code agrees with the findings shown.
  if (r.code == 2) {
    EXPECT_NE(r.out.find("[CRITICAL]"), std::string::npos);
  }
  if (r.code == 0) {
    EXPECT_EQ(r.out.find("[CRITICAL]"), std::string::npos);
    EXPECT_EQ(r.out.find("[WARNING]"), std::string::npos);
  }
}

TEST_F(AuditCli, JsonAndMarkdownFormats) {
  const auto j = run({"audit", "--window", "0", "--format", "json"}, dir());
  ASSERT_TRUE(j.code >= 0 && j.code <= 2) << j.err;
  const auto doc = nlohmann::json::parse(j.out);
  EXPECT_EQ(doc.at("schema"), "vmtune-audit");
  EXPECT_EQ(doc.at("version"), 1);
  EXPECT_EQ(doc.at("input").at("live"), true);
  EXPECT_EQ(doc.at("input").at("window_s"), 0.0);
  EXPECT_GT(doc.at("input").at("rules_loaded").get<int>(), 0);
  const int expected = doc.at("summary").at("critical").get<int>() > 0  ? 2
                       : doc.at("summary").at("warning").get<int>() > 0 ? 1
                                                                        : 0;
  EXPECT_EQ(j.code, expected);
  // Every sysctl recommendation says where today's value comes from.
  for (const auto& f : doc.at("findings")) {
    for (const auto& rec : f.at("recommendations")) {
      if (rec.at("kind") == "sysctl") {
        EXPECT_FALSE(rec.at("provenance").is_null()) << rec.dump();
      }
    }
  }
  const auto md =
      run({"audit", "--window", "0", "--format", "markdown", "-o", (dir() / "report.md").string()},
          dir());
  EXPECT_EQ(md.code, j.code) << md.err;
  EXPECT_TRUE(md.out.empty());
  EXPECT_EQ(test::slurp(dir() / "report.md").rfind("# vmtune audit: ", 0), 0u);
  const auto crit =
      run({"audit", "--window", "0", "--format", "json", "--min-severity", "critical"}, dir());
  const auto cdoc = nlohmann::json::parse(crit.out);
  for (const auto& f : cdoc.at("findings")) EXPECT_EQ(f.at("severity"), "critical");
  EXPECT_EQ(crit.code, cdoc.at("findings").empty() ? 0 : 2);
}

TEST_F(AuditCli, SnapshotAuditGivesTheSameFindingsAsArchiveDirectoryAndLive) {
  const auto snap = dir() / "host.vmtune.tar.gz";
  const auto s = run({"snapshot", "-o", snap.string(), "--window", "1"}, dir());
  ASSERT_EQ(s.code, 0) << s.err;
  const auto live = run({"audit", "--window", "1", "--format", "json"}, dir());
  const auto from_file = run({"--root", snap.string(), "audit", "--format", "json"}, dir());
  ASSERT_TRUE(from_file.code >= 0 && from_file.code <= 2) << from_file.err;
  const auto unpacked = dir() / "unpacked";
  fs::create_directories(unpacked);
  ASSERT_EQ(
      std::system(("tar -xzf " + quote(snap.string()) + " -C " + quote(unpacked.string())).c_str()),
      0);
  const auto from_dir = run({"--root", unpacked.string(), "audit", "--format", "json"}, dir());
  // The same readings give exactly the same report, whichever way they are read.
  auto a = nlohmann::json::parse(from_file.out);
  auto b = nlohmann::json::parse(from_dir.out);
  EXPECT_EQ(a.at("findings"), b.at("findings"));
  EXPECT_EQ(a.at("not_evaluated"), b.at("not_evaluated"));
  EXPECT_EQ(from_file.code, from_dir.code);
  EXPECT_GT(a.at("input").at("window_s").get<double>(), 0.5);  // the two readings' interval
  // Live versus snapshot: on a quiet machine the same rules fire. Rate-driven findings may
  // differ between two windows; everything else must match.
  const auto live_ids = rule_ids(live.out);
  const auto snap_ids = rule_ids(from_file.out);
  auto rate_driven = [](const nlohmann::json& doc, const std::string& id) {
    for (const auto& f : doc.at("findings")) {
      if (f.at("rule_id") != id) continue;
      for (const auto& e : f.at("evidence")) {
        const auto expr = e.at("expression").get<std::string>();
        if (expr.find("rate") != std::string::npos || expr.find("pressure") != std::string::npos ||
            expr.find("psi") != std::string::npos) {
          return true;
        }
      }
    }
    return false;
  };
  const auto ldoc = nlohmann::json::parse(live.out);
  for (const auto& id : live_ids) {
    if (!snap_ids.count(id)) {
      EXPECT_TRUE(rate_driven(ldoc, id)) << id << " only live";
    }
  }
  for (const auto& id : snap_ids) {
    if (!live_ids.count(id)) {
      EXPECT_TRUE(rate_driven(a, id)) << id << " only in the snapshot";
    }
  }
}

TEST_F(AuditCli, BrokenRuleFileExitsFourWithFileLineColumn) {
  const auto rules = dir() / "rules";
  fs::create_directories(rules);
  std::ofstream(rules / "broken.toml") << "[[rule]]\nid = \"X-1\"\ntitle = \"t\"\n"
                                          "severity = \"warning\"\nwhen = \"meminfo.MemTotal >\"\n"
                                          "rationale = \"r\"\nreferences = []\n";
  const auto r = run({"audit", "--window", "0", "--rules", rules.string()}, dir());
  EXPECT_EQ(r.code, 4) << r.out << r.err;
  EXPECT_NE(r.err.find("broken.toml:5:"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty());
}

TEST_F(AuditCli, BrokenConfigurationExitsFour) {
  std::ofstream(dir() / "vmtune.toml") << "profile = \"database\"\nskip = [\n";
  const auto r =
      run({"audit", "--window", "0", "--config", (dir() / "vmtune.toml").string()}, dir());
  EXPECT_EQ(r.code, 4) << r.err;
  EXPECT_NE(r.err.find("vmtune.toml:"), std::string::npos) << r.err;
}

TEST_F(AuditCli, PgMayBeRepeatedOneConninfoEach) {
  // Two servers that do not exist: each --pg is its own instance, with its own error.
  const auto r = run({"collect", "-f", "json", "--no-processes", "--pg",
                      "host=/nonexistent-a port=1", "--pg", "host=/nonexistent-b port=2"},
                     dir());
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("host=/nonexistent-a port=1"), std::string::npos);
  EXPECT_NE(r.out.find("host=/nonexistent-b port=2"), std::string::npos);
  // One value per --pg: a stray word is a usage error, not a third server.
  const auto stray =
      run({"audit", "--window", "0", "--pg", "host=/nonexistent-a port=1", "stray"}, dir());
  EXPECT_EQ(stray.code, 3) << stray.err;
  EXPECT_NE(stray.err.find("stray"), std::string::npos);
}

TEST_F(AuditCli, TraceWithoutEbpfSaysSoAndContinues) {
  const auto r = run({"audit", "--window", "0", "--trace", "1"}, dir());
  EXPECT_TRUE(r.code >= 0 && r.code <= 2) << r.err;
  EXPECT_NE(r.out.find("vmtune audit: "), std::string::npos);
}

TEST_F(AuditCli, UnreadableRootExitsFour) {
  const auto r = run({"--root", (dir() / "nope").string(), "audit"}, dir());
  EXPECT_EQ(r.code, 4);
  EXPECT_FALSE(r.err.empty());
}

}  // namespace
}  // namespace vmtune
