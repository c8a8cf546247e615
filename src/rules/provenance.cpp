// SPDX-License-Identifier: GPL-2.0-or-later
#include "rules/provenance.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <map>

namespace vmtune::rules {
namespace {

std::string base_name(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string where(const std::string& file, int line) {
  return file + ":" + std::to_string(line);
}

}  // namespace

std::string normalize_sysctl_value(const std::string& value) {
  std::string out;
  bool blank = false;
  for (char c : value) {
    if (c == ' ' || c == '\t') {
      blank = true;
      continue;
    }
    if (blank && !out.empty()) out += ' ';
    blank = false;
    out += c;
  }
  return out;
}

bool sysctl_key_matches(const std::string& pattern, const std::string& key) {
  if (pattern == key) return true;
  if (pattern.find_first_of("*?[") == std::string::npos) return false;
  return ::fnmatch(pattern.c_str(), key.c_str(), 0) == 0;
}

const model::SysctlAssignment* effective_assignment(const model::SysctlConf& conf,
                                                    const std::string& key) {
  const model::SysctlAssignment* last = nullptr;
  for (const auto& a : conf.assignments) {
    if (sysctl_key_matches(a.key, key)) last = &a;
  }
  return last;
}

Provenance provenance_for(const model::SysctlConf& conf, const std::string& key) {
  Provenance p;
  const auto* winner = effective_assignment(conf, key);
  if (winner == nullptr) {
    p.source = "kernel default";
    return p;
  }
  p.source = winner->file;
  p.line = winner->line;
  const std::string value = normalize_sysctl_value(winner->value);
  for (const auto& a : conf.assignments) {
    if (&a == winner) break;
    if (!sysctl_key_matches(a.key, key)) continue;
    if (normalize_sysctl_value(a.value) == value) continue;
    p.conflicts.push_back(Provenance::Conflict{a.file, a.line, a.value});
  }
  return p;
}

std::vector<KeyConflict> find_conflicts(const model::SysctlConf& conf) {
  std::map<std::string, KeyConflict> by_key;
  for (const auto& a : conf.assignments) {
    auto& k = by_key[a.key];
    k.key = a.key;
    k.settings.push_back(Provenance::Conflict{a.file, a.line, a.value});
  }
  std::vector<KeyConflict> out;
  for (auto& [key, k] : by_key) {
    const std::string first = normalize_sysctl_value(k.settings.front().value);
    const bool differ = std::any_of(k.settings.begin(), k.settings.end(), [&](const auto& s) {
      return normalize_sysctl_value(s.value) != first;
    });
    if (differ) out.push_back(std::move(k));
  }
  return out;
}

void attach_provenance(Evaluation& eval, const model::Sample& sample) {
  if (!sample.sysctl_conf.value) return;
  const auto& conf = *sample.sysctl_conf.value;
  const model::Sysctl* live = sample.sysctl.value ? &*sample.sysctl.value : nullptr;

  for (auto& f : eval.findings) {
    for (auto& r : f.recommendations) {
      if (r.kind != RecommendationKind::sysctl) continue;
      r.provenance = provenance_for(conf, r.key);
      const auto* winner = effective_assignment(conf, r.key);
      if (winner == nullptr || live == nullptr) continue;
      const auto it = live->values.find(r.key);
      if (it == live->values.end()) continue;
      if (normalize_sysctl_value(it->second) != normalize_sysctl_value(winner->value)) {
        std::string note = "today's value " + it->second + " differs from " + winner->value +
                           " set by " + where(winner->file, winner->line) +
                           ": it was changed at run time since boot";
        r.note = r.note.empty() ? note : r.note + "; " + note;
      }
    }
  }

  for (const auto& k : find_conflicts(conf)) {
    std::string note = "sysctl " + k.key + " is set to different values:";
    for (std::size_t i = 0; i < k.settings.size(); ++i) {
      note += (i == 0 ? " " : ", ") + where(k.settings[i].file, k.settings[i].line) + " sets " +
              k.settings[i].value;
    }
    note += "; " + base_name(k.settings.back().file) + " wins (applied last)";
    eval.notes.push_back(std::move(note));
  }
  for (const auto& m : conf.masked) eval.notes.push_back("sysctl.d file not applied: " + m);
}

}  // namespace vmtune::rules
