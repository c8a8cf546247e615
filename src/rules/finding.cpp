// SPDX-License-Identifier: GPL-2.0-or-later
#include "rules/finding.hpp"

namespace vmtune::rules {

const char* to_string(Severity s) noexcept {
  switch (s) {
    case Severity::info: return "info";
    case Severity::warning: return "warning";
    case Severity::critical: return "critical";
  }
  return "info";
}

std::optional<Severity> severity_from_string(const std::string& s) noexcept {
  if (s == "info") return Severity::info;
  if (s == "warning") return Severity::warning;
  if (s == "critical") return Severity::critical;
  return std::nullopt;
}

const char* to_string(RecommendationKind k) noexcept {
  switch (k) {
    case RecommendationKind::sysctl: return "sysctl";
    case RecommendationKind::thp: return "thp";
    case RecommendationKind::hugetlb: return "hugetlb";
    case RecommendationKind::postgresql: return "postgresql";
    case RecommendationKind::kernel_cmdline: return "kernel_cmdline";
    case RecommendationKind::cgroup: return "cgroup";
  }
  return "sysctl";
}

}  // namespace vmtune::rules
