// SPDX-License-Identifier: GPL-2.0-or-later
#include "collect/sysctl.hpp"

#include <filesystem>
#include <system_error>

#include "collect/source_util.hpp"
#include "core/escape.hpp"
#include "core/parse.hpp"

namespace vmtune::collect {
namespace {

constexpr std::size_t kMaxSysctlBytes = 64u << 10;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// True when the file has no read permission bit for anyone: /proc/sys write-only knobs.
// procfs checks these mode bits itself (proc_sys_permission), so root cannot read them either.
bool write_only(const core::RootFs& fs, const std::string& rel) {
  std::error_code ec;
  const auto st = std::filesystem::status(fs.real(core::Tree::proc, rel), ec);
  if (ec) return false;
  using std::filesystem::perms;
  const auto p = st.permissions();
  return (p & (perms::owner_read | perms::group_read | perms::others_read)) == perms::none &&
         (p & (perms::owner_write | perms::group_write | perms::others_write)) != perms::none;
}

bool is_regular(const core::RootFs& fs, const std::string& rel) {
  std::error_code ec;
  return std::filesystem::is_regular_file(fs.real(core::Tree::proc, rel), ec);
}

}  // namespace

const std::vector<std::string>& sysctl_kernel_keys() {
  static const std::vector<std::string> keys = {"kernel/shmmax", "kernel/shmall", "kernel/shmmni",
                                                "kernel/numa_balancing", "kernel/osrelease"};
  return keys;
}

std::string sysctl_name(std::string_view rel) {
  std::string out(rel);
  for (auto& c : out) {
    if (c == '/') c = '.';
  }
  return out;
}

core::Result<std::string> parse_sysctl_value(std::string_view text,
                                             const std::string& logical_path,
                                             const std::string& key) {
  int line = 1;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      ++line;
      continue;
    }
    if ((c < 0x20 && !is_space(static_cast<char>(c))) || c == 0x7f) {
      return core::make_error(core::ErrorKind::parse_error, logical_path,
                              "unexpected control byte in \"" +
                                  core::escape_text(core::trim(text).substr(0, 80)) + "\"",
                              line, key);
    }
  }
  std::string out;
  out.reserve(text.size());
  bool pending_space = false;
  for (const char c : core::trim(text)) {
    if (is_space(c)) {
      pending_space = true;
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
  }
  return out;
}

void read_sysctl(const core::RootFs& fs, model::Sample& sample) {
  model::Sysctl out;
  std::vector<core::Error> bad;
  std::vector<std::string> rels;  // relative to /proc

  auto names = fs.list_dir(core::Tree::proc, "sys/vm");
  std::optional<core::Error> list_error;
  if (names) {
    for (const auto& n : *names) rels.push_back("sys/vm/" + n);
  } else {
    list_error = names.error();
  }
  for (const auto& k : sysctl_kernel_keys()) rels.push_back("sys/" + k);

  for (const auto& rel : rels) {
    const bool from_vm = rel.rfind("sys/vm/", 0) == 0;
    if (from_vm && !is_regular(fs, rel)) continue;  // the vm directory is flat; skip the odd dir
    if (write_only(fs, rel)) continue;
    const std::string key = sysctl_name(std::string_view(rel).substr(4));
    auto text = fs.read_text(core::Tree::proc, rel, kMaxSysctlBytes);
    if (!text) {
      bad.push_back(text.error());
      continue;
    }
    auto value = parse_sysctl_value(*text, fs.logical(core::Tree::proc, rel), key);
    if (!value) {
      bad.push_back(value.error());
      continue;
    }
    out.values.insert_or_assign(key, std::move(*value));
  }

  if (list_error) {
    if (out.values.empty()) return fail_source(sample, sample.sysctl, "sysctl", *list_error);
    bad.insert(bad.begin(), *list_error);
  }
  set_source(sample, sample.sysctl, "sysctl", std::move(out), bad);
}

}  // namespace vmtune::collect
