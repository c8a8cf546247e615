// SPDX-License-Identifier: GPL-2.0-or-later
#include "rules/config.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <string>

#include "bounded.hpp"
#include "core/temp_dir.hpp"
#include "test_support.hpp"

namespace vmtune::rules {
namespace {

struct ConfigFile : ::testing::Test {
  void SetUp() override {
    auto t = core::TempDir::create("vmtune-config-");
    ASSERT_TRUE(t.ok());
    tmp.emplace(std::move(*t));
  }
  std::filesystem::path dir() const { return tmp->path(); }
  std::optional<core::TempDir> tmp;
};

TEST_F(ConfigFile, ARegularFileIsReadAndNamedByItsLogicalPath) {
  std::ofstream(dir() / "vmtune.toml") << "profile = \"latency\"\nskip = [\"R-X-1\"]\n";
  auto c = load_config(dir() / "vmtune.toml", "/etc/vmtune/vmtune.toml");
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->profile, "latency");
  EXPECT_EQ(c->skip, std::set<std::string>{"R-X-1"});
  EXPECT_EQ(c->source, "/etc/vmtune/vmtune.toml");
  std::ofstream(dir() / "bad.toml") << "\nprofile = 3\n";
  auto bad = load_config(dir() / "bad.toml", "/etc/vmtune/vmtune.toml");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().to_string(),
            "/etc/vmtune/vmtune.toml:2:11: field \"profile\": expected a string");
}

// --config FIFO used to block in open() until a writer came, forever under cron.
TEST_F(ConfigFile, AFifoIsRefusedWithoutBlocking) {
  const auto fifo = dir() / "vmtune.toml";
  ASSERT_TRUE(test::make_fifo(fifo));
  auto c = test::call_bounded([&] { return load_config(fifo, "/etc/vmtune/vmtune.toml"); }, fifo);
  ASSERT_TRUE(c.has_value());
  ASSERT_FALSE(c->ok());
  EXPECT_EQ(c->error().kind, core::ErrorKind::invalid_argument);
  EXPECT_EQ(c->error().to_string(), "/etc/vmtune/vmtune.toml: refused: a FIFO, not a regular file");
  // Through a symbolic link: the link is followed, the FIFO behind it is still refused.
  std::filesystem::create_symlink(fifo, dir() / "link.toml");
  auto via_link = test::call_bounded(
      [&] { return load_config(dir() / "link.toml", (dir() / "link.toml").string()); }, fifo);
  ASSERT_TRUE(via_link.has_value());
  ASSERT_FALSE(via_link->ok());
  EXPECT_EQ(via_link->error().to_string(),
            (dir() / "link.toml").string() + ": refused: a FIFO, not a regular file");
}

// --config DIR used to be accepted as an empty configuration.
TEST_F(ConfigFile, ADirectoryIsAnErrorNamingIt) {
  auto c = load_config(dir(), dir().string());
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().kind, core::ErrorKind::invalid_argument);
  EXPECT_EQ(c.error().to_string(), dir().string() + ": refused: a directory, not a regular file");
}

TEST_F(ConfigFile, AHugeFileIsRefused) {
  const auto big = dir() / "vmtune.toml";
  std::ofstream(big) << "profile = \"auto\"\n";
  std::filesystem::resize_file(big, std::uintmax_t{8} << 30);  // sparse
  auto c = load_config(big, "/etc/vmtune/vmtune.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().kind, core::ErrorKind::io_error);
  EXPECT_EQ(c.error().to_string(), "/etc/vmtune/vmtune.toml: file larger than 1048576 bytes");
}

// The whole path, as cron would run it: `vmtune audit --config FIFO|DIR` stops at once with the
// reason, whatever the machine (the configuration is read before anything is collected).
TEST_F(ConfigFile, AuditWithAFifoOrADirectoryAsConfigFailsAtOnceNamingIt) {
  const auto fifo = dir() / "fifo.toml";
  ASSERT_TRUE(test::make_fifo(fifo));
  const auto err = dir() / "stderr";
  // timeout(1) turns a hang into exit status 124 instead of a stuck ctest.
  const auto run = [&](const std::filesystem::path& config) {
    return test::run_command("timeout 60 " + test::vmtune_binary().string() + " audit --config '" +
                                 config.string() + "' >/dev/null",
                             err.string());
  };
  auto r = run(fifo);
  EXPECT_EQ(r.exit_code, 4 /* unreadable input, rule or configuration file */);
  EXPECT_EQ(test::slurp(err), "vmtune audit: cannot read configuration: " + fifo.string() +
                                  ": refused: a FIFO, not a regular file\n");
  r = run(dir());
  EXPECT_EQ(r.exit_code, 4 /* unreadable input, rule or configuration file */);
  EXPECT_EQ(test::slurp(err), "vmtune audit: cannot read configuration: " + dir().string() +
                                  ": refused: a directory, not a regular file\n");
}

TEST_F(ConfigFile, AMissingFileIsMissing) {
  auto c = load_config(dir() / "absent.toml", "/etc/vmtune/vmtune.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().kind, core::ErrorKind::missing);
  EXPECT_EQ(c.error().to_string(), "/etc/vmtune/vmtune.toml: configuration file not found");
}

}  // namespace
}  // namespace vmtune::rules
