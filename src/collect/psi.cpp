// SPDX-License-Identifier: GPL-2.0-or-later
#include "collect/psi.hpp"

#include "collect/source_util.hpp"
#include "core/parse.hpp"

namespace vmtune::collect {
namespace {

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
      return core::field_error(path, line, std::string(words[0]), "\"key=value\" words",
                               "a word without '='");
    }
    const auto key = w.substr(0, eq);
    const auto val = w.substr(eq + 1);
    const std::string field = std::string(words[0]) + "." + std::string(key);
    if (key == "total") {
      core::NumberProblem why{};
      const auto v = core::parse_u64(val, &why);
      if (!v)
        return core::field_error(path, line, field, "total=<microseconds>", core::to_string(why));
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
      return core::field_error(path, line, field, "a percentage 0..100",
                               v ? "out of range" : core::to_string(why));
    }
    *slot = *v;
    have[idx] = true;
  }
  static const char* const kNames[4] = {"avg10", "avg60", "avg300", "total"};
  for (int i = 0; i < 4; ++i) {
    if (!have[i]) {
      return core::field_error(path, line, std::string(words[0]) + "." + kNames[i],
                               std::string(kNames[i]) + "=<value>", "missing");
    }
  }
  return out;
}

// Says which kernel option the missing or refused file points to.
core::Error explain_psi_read_error(core::Error err) {
  if (err.kind == core::ErrorKind::missing) {
    err.message = "kernel without pressure stall information (CONFIG_PSI off): " + err.message;
  } else if (err.kind == core::ErrorKind::unsupported) {
    err.message =
        "pressure stall information disabled (psi=0 on the kernel command line): " + err.message;
  }
  return err;
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
          core::field_error(logical_path, line, "", "a \"some\" or \"full\" line", "unknown line"));
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
    return core::nothing_parsed(logical_path, text, "no valid \"some\" or \"full\" line");
  }
  return out;
}

void read_psi(const core::RootFs& fs, model::Sample& sample) {
  collect_file(sample, sample.psi, "psi", fs, core::Tree::proc, "pressure/memory", parse_psi,
               &explain_psi_read_error);
}

}  // namespace vmtune::collect
