// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// What the rules engine produces: findings with evidence and recommendations, and the rules it
// could not evaluate with the reason. Plain data; front ends render it, app/ may apply it.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/context.hpp"

namespace vmtune::rules {

enum class Severity { info, warning, critical };
const char* to_string(Severity s) noexcept;
/// "info" | "warning" | "critical" -> Severity; nullopt otherwise.
std::optional<Severity> severity_from_string(const std::string& s) noexcept;

/// A named measured value shown to the user ("swap_in_rate = 412 pages/s").
struct Evidence {
  std::string name;              ///< as named in the rule
  std::string expression;        ///< the rule's expression text
  std::optional<double> number;  ///< numeric value, when numeric
  std::string text;              ///< string value, or the formatted number
  std::string unit;              ///< "bytes", "pages", "pages/s", "%", "" ...
};

enum class RecommendationKind {
  sysctl,          ///< key "vm.swappiness"
  thp,             ///< key "enabled" | "defrag" | "shmem_enabled" | "khugepaged/defrag" ...
  hugetlb,         ///< key "hugepages-2048kB" (value: nr_hugepages)
  postgresql,      ///< key "huge_pages", "shared_buffers" ... (postgresql.conf)
  kernel_cmdline,  ///< key "transparent_hugepage", "hugepages" ...
  cgroup,          ///< key "memory.high" (with `target` naming the cgroup)
};
const char* to_string(RecommendationKind k) noexcept;

/// Where today's value of a key comes from (sysctl.d provenance).
struct Provenance {
  std::string
      source;  ///< "kernel default" or the file that sets it, e.g. "/etc/sysctl.d/99-x.conf"
  int line = 0;
  /// Other files that set the same key to a *different* value (earlier in apply order).
  struct Conflict {
    std::string file;
    int line = 0;
    std::string value;
  };
  std::vector<Conflict> conflicts;
};

/// A value the kernel derives from the key, before and after the change (DOMAIN.md §6).
struct PredictedEffect {
  std::string name;  ///< "nr_dirty_threshold", "zone Normal min watermark", "CommitLimit" ...
  double before = 0;
  double after = 0;
  std::string unit;  ///< "bytes", "pages"
};

struct Recommendation {
  RecommendationKind kind = RecommendationKind::sysctl;
  std::string key;
  std::string target;    ///< cgroup path for cgroup advice; empty otherwise
  std::string current;   ///< today's value as text; empty when unknown
  std::string proposed;  ///< the value to set, as text
  /// vm.* and THP keys are host-wide: inside a container they are advice for the host admin.
  bool host_level = true;
  std::string note;  ///< e.g. how a conflict between rules was resolved
  /// The one line that applies it now ("sysctl -w vm.swappiness=10"); set by
  /// plan::attach_apply_lines, empty until then.
  std::string apply;
  std::optional<Provenance> provenance;
  std::vector<PredictedEffect> effects;
};

struct Finding {
  std::string rule_id;  ///< "R-SWAP-1"
  std::string title;
  /// What the finding is about when a rule runs once per subject: the PostgreSQL instance's
  /// label ("/var/lib/postgresql/15/main (port 5432, pid 812)"); empty for host-wide findings.
  /// Untrusted text.
  std::string subject;
  Severity severity = Severity::info;
  std::vector<Evidence> evidence;
  std::string rationale;
  std::vector<std::string> references;  ///< documentation addresses
  std::vector<Recommendation> recommendations;
  std::string rule_file;  ///< where the rule came from
};

/// A rule that could not be evaluated, and why ("needs /proc/pressure/memory: missing").
struct NotEvaluated {
  std::string rule_id;
  std::string title;
  std::string reason;
  std::string subject;  ///< as Finding::subject
};

/// Where vmtune runs (model/context.hpp); an Evaluation says in which context it was made.
using AuditContext = model::Context;

struct Evaluation {
  std::vector<Finding> findings;  ///< most severe first
  std::vector<NotEvaluated> not_evaluated;
  std::vector<std::string> notes;  ///< engine notes: conflict resolutions, context
  AuditContext context;            ///< set by rules::audit()
};

}  // namespace vmtune::rules
