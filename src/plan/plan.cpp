// SPDX-License-Identifier: GPL-2.0-or-later
#include "plan/plan.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <optional>
#include <set>

#include "core/parse.hpp"
#include "plan/limits.hpp"

namespace vmtune::plan {
namespace {

using rules::RecommendationKind;

// Step order: what must be in place before the next step can use it.
enum StepId { kPool, kSysctl, kThp, kCgroup, kPostgres, kBoot, kSteps };

constexpr const char* kStepTitle[kSteps] = {
    "Reserve the huge-page pool",
    "Kernel memory settings (sysctl)",
    "Transparent huge pages",
    "Cgroup memory limits",
    "PostgreSQL settings (printed, never applied by vmtune)",
    "Boot parameters (kernel command line)",
};

bool is_pool_key(const rules::Recommendation& r) {
  return r.kind == RecommendationKind::hugetlb ||
         (r.kind == RecommendationKind::sysctl &&
          (r.key == "vm.nr_hugepages" || r.key == "vm.nr_overcommit_hugepages"));
}

StepId step_of(const rules::Recommendation& r) {
  if (is_pool_key(r)) return kPool;
  switch (r.kind) {
    case RecommendationKind::sysctl:
      return kSysctl;
    case RecommendationKind::thp:
      return kThp;
    case RecommendationKind::cgroup:
      return kCgroup;
    case RecommendationKind::postgresql:
      return kPostgres;
    case RecommendationKind::kernel_cmdline:
      return kBoot;
    case RecommendationKind::hugetlb:
      return kPool;
  }
  return kSysctl;
}

Disruption disruption_of(RecommendationKind k) {
  if (k == RecommendationKind::postgresql) return Disruption::restart_service;
  if (k == RecommendationKind::kernel_cmdline) return Disruption::reboot;
  return Disruption::none;
}

/// A shell word needs no quotes when it holds only these.
bool plain_word(const std::string& s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return std::isalnum(c) != 0 ||
           std::string_view("_./:=@%+,-").find(static_cast<char>(c)) != std::string_view::npos;
  });
}

/// A cgroup path that a shell line can carry as it is: printable ASCII words, no quotes.
bool safe_cgroup_path(const std::string& s) {
  return !s.empty() && s.front() == '/' && plain_word(s) && s.find("..") == std::string::npos;
}

std::string one_line_evidence(const rules::Finding& f) {
  std::string out;
  std::size_t n = 0;
  for (const auto& e : f.evidence) {
    if (n++ == 3) break;
    if (!out.empty()) out += "; ";
    out += e.name + " = " + e.text + (e.unit.empty() || e.unit == "%" ? e.unit : " " + e.unit);
  }
  return out;
}

std::string cgroup_root(const model::Snapshot& s) {
  std::string mount = "fs/cgroup";
  if (s.current.cgroups.value && !s.current.cgroups.value->v2_mount.empty()) {
    mount = s.current.cgroups.value->v2_mount;
  }
  return "/sys/" + mount;  // lint:logical-path (a path shown to the user, not opened)
}

/// The first instance's label, for a PostgreSQL recommendation that names none (rules written
/// before rules ran per instance).
std::string pg_label(const model::Snapshot& s) {
  const auto* pg = s.current.postgres.value ? &*s.current.postgres.value : nullptr;
  if (pg == nullptr || pg->instances.empty()) return "PostgreSQL";
  return model::pg_instance_label(pg->instances.front());
}

/// The instance a PostgreSQL change targets (by label); null when none matches.
const model::PgInstance* pg_instance(const model::Snapshot& s, const std::string& label) {
  const auto* pg = s.current.postgres.value ? &*s.current.postgres.value : nullptr;
  if (pg == nullptr) return nullptr;
  for (const auto& i : pg->instances) {
    if (model::pg_instance_label(i) == label) return &i;
  }
  return nullptr;
}

/// Why a recommendation cannot be applied as it stands on this kernel; empty when it can.
std::string problem_of(const rules::Recommendation& r, const model::Snapshot& s) {
  const auto printable = [](const std::string& v) {
    return std::all_of(v.begin(), v.end(), [](unsigned char c) { return c >= 0x20 && c < 0x7f; });
  };
  if (!printable(r.proposed) || !printable(r.key)) {
    return "the key or value is not one line of printable text";
  }
  if (r.kind == RecommendationKind::sysctl) {
    const auto* sysctl = s.current.sysctl.value ? &*s.current.sysctl.value : nullptr;
    if (sysctl != nullptr && sysctl->values.find(r.key) == sysctl->values.end() &&
        r.key.rfind("vm.", 0) == 0) {
      return r.key + " is not under /proc/sys on this kernel";
    }
    const auto kernel = parse_kernel_release(s.current.host.kernel_release);
    if (auto why = check_value(r.key, r.proposed, kernel ? kernel->major : 0,
                               kernel ? kernel->minor : 0)) {
      return *why;
    }
  }
  if (r.kind == RecommendationKind::kernel_cmdline) {
    if (auto why = check_boot_value(r.key, r.proposed)) return *why;
  }
  return {};
}

/// Free blocks of at least `order` pages, counted in blocks of that order, over every zone.
std::optional<std::uint64_t> free_blocks_of_order(const model::Snapshot& s, std::size_t order) {
  if (!s.current.buddyinfo.value) return std::nullopt;
  std::uint64_t n = 0;
  for (const auto& z : *s.current.buddyinfo.value) {
    for (std::size_t k = order; k < z.free_blocks.size(); ++k) {
      n += z.free_blocks[k] << (k - order);
    }
  }
  return n;
}

std::optional<std::uint64_t> meminfo(const model::Snapshot& s, const char* key) {
  if (!s.current.meminfo.value) return std::nullopt;
  const auto& f = s.current.meminfo.value->fields;
  const auto it = f.find(key);
  if (it == f.end()) return std::nullopt;
  return it->second;
}

/// When a runtime pool increase needs more free huge-page-sized blocks than the buddy
/// allocator has (fragmented memory), the boot parameters that reserve it at boot instead.
std::vector<Change> boot_reservation(const Change& pool, const model::Snapshot& s) {
  const auto want = core::parse_u64(pool.proposed);
  const auto have = meminfo(s, "HugePages_Total");
  const auto size = meminfo(s, "Hugepagesize");  // bytes
  const auto page = s.current.host.page_size;
  if (!want || !have || !size || *want <= *have || page == 0 || *size < page) return {};
  const auto order = static_cast<std::size_t>(std::log2(static_cast<double>(*size / page)));
  const auto free = free_blocks_of_order(s, order);
  if (!free || *free >= *want - *have) return {};
  const std::string why = fmt::format(
      "raising the pool by {} pages needs {} free {} KiB blocks; the buddy allocator has {} "
      "(fragmented memory): reserve the pool at boot instead, or compact memory first "
      "(echo 1 > /proc/sys/vm/compact_memory) and try again",
      *want - *have, *want - *have, *size / 1024, *free);
  std::vector<Change> out;
  for (const auto& [key, value] :
       {std::pair<std::string, std::string>{"hugepagesz", fmt::format("{}M", *size >> 20)},
        std::pair<std::string, std::string>{"hugepages", pool.proposed}}) {
    Change c;
    c.kind = RecommendationKind::kernel_cmdline;
    c.key = key;
    c.proposed = value;
    c.rules = pool.rules;
    c.severity = pool.severity;
    c.evidence = pool.evidence;
    c.disruption = Disruption::reboot;
    c.note = why;
    c.apply_line = "kernel command line: " + key + "=" + value + " (then reboot)";
    out.push_back(std::move(c));
  }
  return out;
}

Change make_change(const rules::Finding& f, const rules::Recommendation& r,
                   const model::Snapshot& s) {
  Change c;
  c.kind = r.kind;
  c.key = r.key;
  c.target = r.kind == RecommendationKind::postgresql && r.target.empty() ? pg_label(s) : r.target;
  c.current = r.current;
  c.proposed = r.proposed;
  c.path = live_path(r, s);
  c.rules = {f.rule_id};
  c.severity = f.severity;
  c.evidence = one_line_evidence(f);
  c.host_level = r.host_level;
  c.disruption = disruption_of(r.kind);
  c.apply_line = apply_line(r, s);
  c.note = r.note;
  c.problem = problem_of(r, s);
  return c;
}

/// A PostgreSQL memory setting as bytes: "16384" (in units of `unit`), "128MB", "4GB", "512kB".
std::optional<double> pg_bytes(const std::string& text, double unit) {
  std::size_t end = 0;
  while (end < text.size() && std::isdigit(static_cast<unsigned char>(text[end])) != 0) ++end;
  const auto n = core::parse_u64(text.substr(0, end));
  if (!n) return std::nullopt;
  const std::string suffix = text.substr(end);
  const double v = static_cast<double>(*n);
  if (suffix.empty()) return v * unit;
  if (suffix == "kB") return v * 1024;
  if (suffix == "MB") return v * 1024 * 1024;
  if (suffix == "GB") return v * 1024 * 1024 * 1024;
  if (suffix == "TB") return v * 1024 * 1024 * 1024 * 1024;
  return std::nullopt;
}

/// When the plan both reserves a huge-page pool for PostgreSQL and changes shared_buffers, the
/// pool is sized for the new shared_buffers: otherwise, with huge_pages = on, the server the plan
/// restarts cannot map its segment and does not start.
void size_pool_for_shared_buffers(std::vector<Step>& steps, const model::Snapshot& s) {
  Change* pool = nullptr;
  for (auto& c : steps[kPool].changes) {
    if (c.key == "vm.nr_hugepages") pool = &c;
  }
  const auto want = pool == nullptr ? std::nullopt : core::parse_u64(pool->proposed);
  const auto page = meminfo(s, "Hugepagesize");
  if (!want || !page || *page == 0) return;
  // PostgreSQL's shared memory changes by a little more than shared_buffers: each 8 kB buffer
  // also has a descriptor, an I/O condition variable and a checkpoint sort slot (about 1.5 %
  // together, PostgreSQL 15), and the pool keeps R-PG-HP-1's 2 % margin on top. A smaller
  // shared_buffers frees only the buffers themselves (rounded down): the pool never comes up
  // short.
  constexpr double kGrowth = 1.04;
  std::int64_t delta = 0;
  std::string why;
  for (const auto& c : steps[kPostgres].changes) {
    if (c.key != "shared_buffers") continue;
    const auto* inst = pg_instance(s, c.target);
    if (inst == nullptr) inst = pg_instance(s, pg_label(s));
    if (inst == nullptr) continue;
    const auto& values = inst->setting_values;
    const auto cur = values.find("shared_buffers");
    const auto block = values.find("block_size");
    const auto next = pg_bytes(c.proposed, block == values.end() ? 8192.0 : block->second);
    if (cur == values.end() || !next || *next == cur->second) continue;
    const double bytes = *next - cur->second;
    const auto pages =
        bytes > 0
            ? static_cast<std::int64_t>(std::ceil(bytes * kGrowth / static_cast<double>(*page)))
            : -static_cast<std::int64_t>(std::floor(-bytes / static_cast<double>(*page)));
    if (pages == 0) continue;
    delta += pages;
    why += fmt::format("{}{}{} pages for shared_buffers = {} of {} (proposed below)",
                       why.empty() ? "" : "; ", pages > 0 ? "+" : "-", std::llabs(pages),
                       c.proposed, c.target);
  }
  if (delta == 0) return;
  const auto next_pool = std::max<std::int64_t>(0, static_cast<std::int64_t>(*want) + delta);
  pool->proposed = std::to_string(next_pool);
  pool->note = pool->note.empty() ? why : pool->note + "; " + why;
  rules::Recommendation r;
  r.key = pool->key;
  r.proposed = pool->proposed;
  pool->apply_line = apply_line(r, s);
}

/// NUMA nodes with memory, by id.
std::vector<unsigned> memory_nodes(const model::Snapshot& s) {
  std::vector<unsigned> out;
  if (!s.current.numa.value) return out;
  for (const auto& n : s.current.numa.value->nodes) {
    const auto it = n.meminfo.find("MemTotal");
    if (it != n.meminfo.end() && it->second > 0 && n.id >= 0)
      out.push_back(static_cast<unsigned>(n.id));
  }
  std::sort(out.begin(), out.end());
  return out;
}

/// The nodes PostgreSQL's postmasters may allocate from (the union over every instance), when
/// that is fewer than `nodes`; empty when any instance may use every node or is not known.
std::vector<unsigned> postgres_nodes(const model::Snapshot& s, const std::vector<unsigned>& nodes) {
  const auto* pg = s.current.postgres.value ? &*s.current.postgres.value : nullptr;
  if (pg == nullptr || pg->instances.empty() || !s.current.processes.value) return {};
  std::set<unsigned> used;
  for (const auto& inst : pg->instances) {
    const int pid = inst.postmaster_pid;
    const auto p =
        std::find_if(s.current.processes.value->begin(), s.current.processes.value->end(),
                     [pid](const model::Process& x) { return x.pid == pid; });
    if (pid <= 0 || p == s.current.processes.value->end()) return {};
    const auto allowed = core::parse_id_list(p->mems_allowed, 4095);
    if (!allowed) return {};
    used.insert(allowed->begin(), allowed->end());
  }
  std::vector<unsigned> out;
  std::set_intersection(nodes.begin(), nodes.end(), used.begin(), used.end(),
                        std::back_inserter(out));
  return out.size() < nodes.size() ? out : std::vector<unsigned>{};
}

/// On a NUMA host where PostgreSQL may allocate only from some nodes (numactl --membind, a
/// cpuset), huge pages on the other nodes are of no use to it, yet vm.nr_hugepages spreads the
/// pool over every node (hugetlbpage.rst, "Interaction of Task Memory Policy with Huge Page
/// Allocation/Freeing"). The pool is then reserved per node, on the nodes it may use.
void pool_on_postgres_nodes(std::vector<Step>& steps, const model::Snapshot& s) {
  auto& changes = steps[kPool].changes;
  const auto pool = std::find_if(changes.begin(), changes.end(),
                                 [](const Change& c) { return c.key == "vm.nr_hugepages"; });
  const auto size = meminfo(s, "Hugepagesize");
  if (pool == changes.end() || !size || *size < 1024) return;
  const auto want = core::parse_u64(pool->proposed);
  const auto nodes = memory_nodes(s);
  const auto allowed = postgres_nodes(s, nodes);
  if (!want || nodes.size() < 2 || allowed.empty()) return;
  const Change whole = *pool;
  changes.erase(pool);
  const std::string size_dir = fmt::format("hugepages-{}kB", *size / 1024);
  std::string node_names;
  for (const auto id : allowed) node_names += (node_names.empty() ? "" : ",") + std::to_string(id);
  for (std::size_t i = 0; i < allowed.size(); ++i) {
    Change c = whole;
    c.kind = RecommendationKind::hugetlb;
    c.key = fmt::format("node{}/{}", allowed[i], size_dir);
    // An even split, the first nodes taking the remainder.
    c.proposed = std::to_string(*want / allowed.size() + (i < *want % allowed.size() ? 1 : 0));
    c.current.clear();
    for (const auto& n : s.current.numa.value->nodes) {
      if (n.id < 0 || static_cast<unsigned>(n.id) != allowed[i]) continue;
      for (const auto& hp : n.hugepages) {
        if (hp.page_size == *size && hp.nr) c.current = std::to_string(*hp.nr);
      }
    }
    rules::Recommendation r;
    r.kind = c.kind;
    r.key = c.key;
    r.proposed = c.proposed;
    c.path = live_path(r, s);
    c.apply_line = apply_line(r, s);
    const std::string why = fmt::format(
        "PostgreSQL may allocate only from node(s) {} (Mems_allowed_list of its postmaster), and "
        "vm.nr_hugepages would spread the {} pages over every node: reserved on those nodes",
        node_names, whole.proposed);
    c.note = whole.note.empty() ? why : whole.note + "; " + why;
    changes.push_back(std::move(c));
  }
}

std::vector<std::string> checks_for(StepId id, const Step& step) {
  std::vector<std::string> out;
  for (const auto& c : step.changes) {
    if (id == kPool && c.kind == RecommendationKind::hugetlb && c.key.starts_with("node")) {
      out.push_back("cat " + c.path + "  # expect " + c.proposed);
    }
    if (id == kPool && c.key == "vm.nr_hugepages") {
      out.push_back("grep HugePages_Total /proc/meminfo  # expect " + c.proposed +
                    "; fewer means fragmented memory, see the boot parameters");
    }
    if (id == kPostgres && c.key == "huge_pages" && c.proposed == "on") {
      out.push_back(
          "only after the huge-page pool above is granted: with huge_pages = on PostgreSQL "
          "refuses to start when the pool is short");
    }
  }
  if (id == kPostgres) out.push_back("restart the instance, then check with SHOW <setting>;");
  if (id == kBoot) out.push_back("update the boot loader (e.g. update-grub) and reboot");
  return out;
}

}  // namespace

const char* to_string(Disruption d) noexcept {
  switch (d) {
    case Disruption::none:
      return "none";
    case Disruption::restart_service:
      return "restart";
    case Disruption::reboot:
      return "reboot";
  }
  return "none";
}

std::vector<const Change*> Plan::changes() const {
  std::vector<const Change*> out;
  for (const auto& s : steps) {
    for (const auto& c : s.changes) out.push_back(&c);
  }
  return out;
}

std::string shell_quote(const std::string& s) {
  if (plain_word(s)) return s;
  std::string out = "'";
  for (const char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::string live_path(const rules::Recommendation& r, const model::Snapshot& s) {
  switch (r.kind) {
    case RecommendationKind::sysctl: {
      std::string rel = r.key;
      std::replace(rel.begin(), rel.end(), '.', '/');
      return "/proc/sys/" + rel;  // lint:logical-path
    }
    case RecommendationKind::thp:
      return "/sys/kernel/mm/transparent_hugepage/" + r.key;  // lint:logical-path
    case RecommendationKind::hugetlb:
      if (r.key.starts_with("node")) {  // "node1/hugepages-2048kB": one NUMA node's pool
        const auto slash = r.key.find('/');
        return "/sys/devices/system/node/" + r.key.substr(0, slash) +  // lint:logical-path
               "/hugepages" + r.key.substr(slash) + "/nr_hugepages";
      }
      return "/sys/kernel/mm/hugepages/" + r.key + "/nr_hugepages";  // lint:logical-path
    case RecommendationKind::cgroup:
      return cgroup_root(s) + (r.target == "/" ? std::string() : r.target) + "/" + r.key;
    case RecommendationKind::postgresql:
    case RecommendationKind::kernel_cmdline:
      return {};
  }
  return {};
}

std::string apply_line(const rules::Recommendation& r, const model::Snapshot& s) {
  switch (r.kind) {
    case RecommendationKind::sysctl:
      return "sysctl -w " + shell_quote(r.key + "=" + r.proposed);
    case RecommendationKind::thp:
    case RecommendationKind::hugetlb:
      return "echo " + shell_quote(r.proposed) + " > " + live_path(r, s);
    case RecommendationKind::cgroup:
      if (!safe_cgroup_path(r.target)) {
        return "write " + r.proposed + " to " + r.key +
               " of the cgroup named above (its path has characters a shell line cannot carry "
               "safely)";
      }
      return "echo " + shell_quote(r.proposed) + " > " + live_path(r, s);
    case RecommendationKind::postgresql: {
      std::string v;
      for (const char c : r.proposed) v += c == '\'' ? std::string("''") : std::string(1, c);
      return "ALTER SYSTEM SET " + r.key + " = '" + v + "';  -- then restart PostgreSQL";
    }
    case RecommendationKind::kernel_cmdline:
      return "kernel command line: " + r.key + "=" + r.proposed + " (then reboot)";
  }
  return {};
}

void attach_apply_lines(rules::Evaluation& evaluation, const model::Snapshot& snapshot) {
  for (auto& f : evaluation.findings) {
    for (auto& r : f.recommendations) r.apply = apply_line(r, snapshot);
  }
}

Plan make_plan(const rules::Evaluation& evaluation, const model::Snapshot& snapshot) {
  std::vector<Step> steps(kSteps);
  for (int i = 0; i < kSteps; ++i) steps[i].title = kStepTitle[i];
  for (const auto& f : evaluation.findings) {  // most severe first
    for (const auto& r : f.recommendations) {
      auto& step = steps[step_of(r)];
      auto same = std::find_if(step.changes.begin(), step.changes.end(), [&](const Change& c) {
        return c.kind == r.kind && c.key == r.key &&
               (c.target == r.target ||
                (r.kind == RecommendationKind::postgresql && r.target.empty()));
      });
      if (same != step.changes.end()) {
        if (std::find(same->rules.begin(), same->rules.end(), f.rule_id) == same->rules.end()) {
          same->rules.push_back(f.rule_id);
        }
        continue;
      }
      step.changes.push_back(make_change(f, r, snapshot));
    }
  }
  size_pool_for_shared_buffers(steps, snapshot);
  pool_on_postgres_nodes(steps, snapshot);
  for (const auto& c : steps[kPool].changes) {
    if (c.key != "vm.nr_hugepages") continue;
    for (auto& b : boot_reservation(c, snapshot)) steps[kBoot].changes.push_back(std::move(b));
  }
  Plan plan;
  for (int i = 0; i < kSteps; ++i) {
    auto& step = steps[i];
    if (step.changes.empty()) continue;
    for (const auto& c : step.changes) {
      step.disruption = std::max(step.disruption, c.disruption);
    }
    step.checks = checks_for(static_cast<StepId>(i), step);
    plan.steps.push_back(std::move(step));
  }
  return plan;
}

}  // namespace vmtune::plan
