// SPDX-License-Identifier: GPL-2.0-or-later
#include "collect/psi.hpp"

#include "collect/source_util.hpp"
#include "core/parse.hpp"

namespace vmtune::collect {
namespace {

// The message names the expected format and the problem, never the line's content.
core::Error bad_field(const std::string& path, const core::Line& line, std::string field,
                      std::string_view expected, std::string_view problem) {
  return core::field_error(path, line.number, std::move(field), expected, problem);
}

// Parses "avg10=0.10 avg60=2.00 avg300=3.85 total=15" (the words after "some"/"full").
// Unknown key=value words are ignored (a future kernel may add some); the four known ones
// are required.
core::Result<model::PsiLine> parse_psi_line(const std::vector<std::string_view>& words,
                                            const std::string& path, const core::Line& line) {
  model::PsiLine out;
  bool have[4] = {false, false, false, false};
  for (std::size_t i = 1; i < words.size(); ++i) {
    const auto w = words[i];
    const auto eq = w.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      return bad_field(path, line, std::string(words[0]), "\"key=value\" words",
                       "a word without '='");
    }
    const auto key = w.substr(0, eq);
    const auto val = w.substr(eq + 1);
    const std::string field = std::string(words[0]) + "." + std::string(key);
    if (key == "total") {
      core::NumberProblem why{};
      const auto v = core::parse_u64(val, &why);
      if (!v) return bad_field(path, line, field, "total=<microseconds>", core::to_string(why));
      out.total_us = *v;
      have[3] = true;
      continue;
    }
    double* slot = nullptr;
    int idx = -1;
    if (key == "avg10") {
      slot = &out.avg10;
      idx = 0;
    } else if (key == "avg60") {
      slot = &out.avg60;
      idx = 1;
    } else if (key == "avg300") {
      slot = &out.avg300;
      idx = 2;
    } else {
      continue;
    }
    core::NumberProblem why{};
    const auto v = core::parse_double(val, &why);
    if (!v || *v < 0 || *v > 100) {
      return bad_field(path, line, field, "a percentage 0..100",
                       v ? "out of range" : core::to_string(why));
    }
    *slot = *v;
    have[idx] = true;
  }
  static const char* const kNames[4] = {"avg10", "avg60", "avg300", "total"};
  for (int i = 0; i < 4; ++i) {
    if (!have[i]) {
      return bad_field(path, line, std::string(words[0]) + "." + kNames[i],
                       std::string(kNames[i]) + "=<value>", "missing");
    }
  }
  return out;
}

}  // namespace

core::Result<model::Psi> parse_psi(std::string_view text, const std::string& logical_path,
                                   std::vector<core::Error>* bad) {
  model::Psi out;
  std::vector<core::Error> local;
  auto& errs = bad != nullptr ? *bad : local;
  for (const auto& line : core::split_lines(text)) {
    const auto words = core::split_ws(line.text);
    if (words.empty()) continue;
    std::optional<model::PsiLine>* target = nullptr;
    if (words[0] == "some") {
      target = &out.some;
    } else if (words[0] == "full") {
      target = &out.full;
    } else {
      errs.push_back(
          bad_field(logical_path, line, "", "a \"some\" or \"full\" line", "unknown line"));
      continue;
    }
    auto parsed = parse_psi_line(words, logical_path, line);
    if (!parsed) {
      errs.push_back(parsed.error());
      continue;
    }
    *target = *parsed;
  }
  if (!out.some && !out.full) {
    return core::make_error(
        core::ErrorKind::parse_error, logical_path,
        core::trim(text).empty() ? "file is empty" : "no valid \"some\" or \"full\" line");
  }
  return out;
}

void read_psi(const core::RootFs& fs, model::Sample& sample) {
  auto text = fs.read_text(core::Tree::proc, "pressure/memory");
  if (!text) {
    auto err = text.error();
    if (err.kind == core::ErrorKind::missing) {
      err.message = "kernel without pressure stall information (CONFIG_PSI off): " + err.message;
    } else if (err.kind == core::ErrorKind::unsupported) {
      err.message =
          "pressure stall information disabled (psi=0 on the kernel command line): " + err.message;
    }
    return fail_source(sample, sample.psi, "psi", err);
  }
  std::vector<core::Error> bad;
  auto parsed = parse_psi(*text, fs.logical(core::Tree::proc, "pressure/memory"), &bad);
  if (!parsed) return fail_source(sample, sample.psi, "psi", parsed.error(), bad);
  set_source(sample, sample.psi, "psi", std::move(*parsed), bad);
}

}  // namespace vmtune::collect
