// SPDX-License-Identifier: GPL-2.0-or-later
#include "collect/swaps.hpp"

#include <limits>

#include "collect/source_util.hpp"
#include "core/parse.hpp"

namespace vmtune::collect {
namespace {

bool is_octal(char c) { return c >= '0' && c <= '7'; }

}  // namespace

std::string unescape_octal(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 3 < text.size() && is_octal(text[i + 1]) && is_octal(text[i + 2]) &&
        is_octal(text[i + 3])) {
      const int v = (text[i + 1] - '0') * 64 + (text[i + 2] - '0') * 8 + (text[i + 3] - '0');
      if (v <= 0xff) {
        out.push_back(static_cast<char>(v));
        i += 3;
        continue;
      }
    }
    out.push_back(text[i]);
  }
  return out;
}

core::Result<std::vector<model::SwapDevice>> parse_swaps(std::string_view text,
                                                         const std::string& logical_path,
                                                         std::vector<core::Error>* bad) {
  std::vector<model::SwapDevice> out;
  std::vector<core::Error> local;
  auto& errs = bad != nullptr ? *bad : local;
  bool header = false;
  for (const auto& line : core::split_lines(text)) {
    const auto parts = core::split_ws(line.text);
    if (parts.empty()) continue;
    if (!header && out.empty() && parts[0] == "Filename") {
      header = true;
      continue;
    }
    if (parts.size() != 5) {
      errs.push_back(core::field_error(logical_path, line, "",
                                       "\"<filename> <type> <size kB> <used kB> <priority>\"",
                                       parts.size() < 5 ? "too few columns" : "too many columns"));
      continue;
    }
    model::SwapDevice d;
    d.filename = unescape_octal(parts[0]);
    d.type = std::string(parts[1]);
    core::NumberProblem size_why = core::NumberProblem::out_of_range;
    core::NumberProblem used_why = core::NumberProblem::out_of_range;
    core::NumberProblem prio_why{};
    const auto size = core::parse_u64(parts[2], &size_why);
    const auto used = core::parse_u64(parts[3], &used_why);
    const auto prio = core::parse_i64(parts[4], &prio_why);
    constexpr std::uint64_t kMaxKib = std::numeric_limits<std::uint64_t>::max() / 1024;
    if (!size || *size > kMaxKib) {
      errs.push_back(
          core::field_error(logical_path, line, "Size", "a size in kB", core::to_string(size_why)));
      continue;
    }
    if (!used || *used > kMaxKib) {
      errs.push_back(core::field_error(logical_path, line, "Used", "a used amount in kB",
                                       core::to_string(used_why)));
      continue;
    }
    if (!prio) {
      errs.push_back(core::field_error(logical_path, line, "Priority", "a signed priority",
                                       core::to_string(prio_why)));
      continue;
    }
    d.size = *size * 1024;
    d.used = *used * 1024;
    d.priority = *prio;
    out.push_back(std::move(d));
  }
  if (!header && out.empty()) {
    return core::make_error(core::ErrorKind::parse_error, logical_path,
                            core::trim(text).empty()
                                ? "file is empty (the kernel always prints a header line)"
                                : "no header line and no valid swap row");
  }
  return out;
}

void read_swaps(const core::RootFs& fs, model::Sample& sample) {
  collect_file(sample, sample.swaps, "swaps", fs, core::Tree::proc, "swaps", parse_swaps);
}

}  // namespace vmtune::collect
