// SPDX-License-Identifier: GPL-2.0-or-later
#include "collect/sysctl.hpp"

#include "collect/source_util.hpp"
#include "core/parse.hpp"

namespace vmtune::collect {
namespace {

constexpr std::size_t kMaxSysctlBytes = 64u << 10;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// True when the file has no read permission bit for anyone: /proc/sys write-only knobs.
// procfs checks these mode bits itself (proc_sys_permission), so root cannot read them either.
bool write_only(const core::RootFs& fs, const std::string& rel) {
  const auto info = fs.stat(core::Tree::proc, rel);
  if (!info) return false;
  return (info->mode & 0444) == 0 && (info->mode & 0222) != 0;
}

bool is_regular(const core::RootFs& fs, const std::string& rel) {
  const auto info = fs.stat(core::Tree::proc, rel);
  return info && info->type == core::FileType::regular;
}

}  // namespace

bool sysctl_is_numeric(std::string_view key) noexcept {
  if (key.substr(0, 3) == "vm.") {
    // vm.numa_zonelist_order prints a word ("Node", "Default"); vm.stat_refresh reads empty.
    return key != "vm.numa_zonelist_order" && key != "vm.stat_refresh";
  }
  return key == "kernel.shmmax" || key == "kernel.shmall" || key == "kernel.shmmni" ||
         key == "kernel.numa_balancing";
}

bool sysctl_may_be_empty(std::string_view key) noexcept { return key == "vm.stat_refresh"; }

std::optional<core::Error> check_sysctl_numbers(std::string_view text,
                                                const std::string& logical_path,
                                                const std::string& key, int first_line) {
  std::size_t words = 0;
  for (const auto& line : core::split_lines(text)) {
    for (const auto word : core::split_ws(line.text)) {
      ++words;
      // Signed: a few knobs are plain ints with no lower bound (proc_dointvec); unsigned up
      // to 2^64-1: kernel.shmmax's default is 18446744073692774399.
      core::NumberProblem why{};
      if (core::parse_u64(word, &why)) continue;
      if (why == core::NumberProblem::negative && core::parse_i64(word, &why)) continue;
      return core::field_error(logical_path, first_line + line.number - 1, key,
                               "an integer (or integers separated by blanks)",
                               core::to_string(why));
    }
  }
  if (words == 0) {
    return core::field_error(logical_path, first_line, key, "an integer",
                             core::to_string(core::NumberProblem::empty));
  }
  return std::nullopt;
}

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

core::Result<std::string> parse_sysctl_value(std::string_view text, const std::string& logical_path,
                                             const std::string& key) {
  int line = 1;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      ++line;
      continue;
    }
    if ((c < 0x20 && !is_space(static_cast<char>(c))) || c == 0x7f) {
      return core::field_error(logical_path, line, key, "text", "unexpected control byte");
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
  if (sysctl_is_numeric(key)) {
    if (auto e = check_sysctl_numbers(text, logical_path, key, 1)) return std::move(*e);
  } else if (out.empty() && !sysctl_may_be_empty(key)) {
    // An empty read of a file that always has content is damage (a snapshot extracted onto a
    // full disk), never an empty setting.
    return core::field_error(logical_path, 1, key, "a value",
                             core::to_string(core::NumberProblem::empty));
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
      auto err = std::move(text).error();
      if (err.field.empty()) err.field = key;  // so a rule needing the key can name the reason
      bad.push_back(std::move(err));
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
