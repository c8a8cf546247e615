// SPDX-License-Identifier: GPL-2.0-or-later
// The metric registry: one table per section (metrics_registry.hpp says which file holds
// which), resolved here. Every name a rule uses must resolve when the rule loads: an unknown
// name is an error with a "did you mean" when one known name is close.
#include "rules/metrics.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <utility>

#include "rules/metrics_registry.hpp"

namespace vmtune::rules {

// ---- helpers shared by the tables ---------------------------------------------------------------

namespace registry {

core::Error name_error(std::string message) {
  return core::make_error(core::ErrorKind::invalid_argument, "", std::move(message));
}

Eval opt(const std::optional<std::uint64_t>& v, const std::string& what) {
  if (!v) return Eval::absent(what + " not reported");
  return num(*v);
}

Eval text_value(const std::string& text, const std::string& what) {
  if (text.empty()) return Eval::absent(what + " is empty (not measured)");
  if (auto x = parse_number(text)) return Eval::of(*x);
  return Eval::of(text);
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

const model::HugePagePool* pool_by_size(const model::Snapshot& s, std::uint64_t bytes) {
  const auto* pools = get(s.current.hugepages);
  if (pools == nullptr) return nullptr;
  for (const auto& p : *pools) {
    if (p.page_size == bytes) return &p;
  }
  return nullptr;
}

}  // namespace registry

namespace {

using namespace registry;  // NOLINT(google-build-using-namespace): this file is the registry

struct Registry {
  std::map<std::string, Entry> fixed;  ///< fixed names and derived metrics
  std::vector<KeyedSection> keyed;
  std::vector<std::string> sections;
};

Entry derived_entry(const model::DerivedField& f) {
  const auto field = f.field;
  return Entry{std::string(f.name), Type::number, std::string(f.unit),
               [field](const EvalContext& c) { return from(c.snapshot.derived.*field); }};
}

Registry build() {
  Registry r;
  for (auto* table : {host_metrics, config_metrics, thp_metrics, psi_metrics, zone_metrics,
                      buddy_metrics, numa_metrics, swap_metrics, cgroup_metrics, process_metrics,
                      postgres_metrics, bpf_metrics}) {
    for (auto& e : table()) r.fixed.emplace(e.name, std::move(e));
  }
  for (const auto& f : model::derived_fields())
    r.fixed.emplace(std::string(f.name), derived_entry(f));
  for (auto* sections : {kernel_keyed_sections, cgroup_keyed_sections, postgres_keyed_sections}) {
    for (auto& k : sections()) r.keyed.push_back(std::move(k));
  }
  r.sections = {"meminfo",   "vmstat",   "sysctl", "thp",    "psi",    "hugepages",
                "zones",     "buddy",    "numa",   "swaps",  "host",   "cgroups",
                "processes", "postgres", "bpf",    "config", "context"};
  return r;
}

const Registry& reg() {
  static const Registry r = build();
  return r;
}

MetricRef ref(const std::string& name, const Entry& e) {
  return MetricRef{name, e.type, e.unit, e.get};
}

// ---- did you mean -------------------------------------------------------------------------------

/// Optimal-string-alignment distance (insertions, deletions, substitutions, transpositions of
/// two neighbours), ignoring case: "Dirtty" is 1 from "Dirty", "dirty" 0.
std::size_t distance(std::string_view a, std::string_view b) {
  const auto lower = [](char ch) { return std::tolower(static_cast<unsigned char>(ch)); };
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
          lower(a[i - 2]) == lower(b[j - 1])) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

/// The candidate nearest `word`, when it is near enough to be the one meant: at most 1 edit
/// for words up to 4 characters, 2 up to 12, 3 beyond. The first of equally near ones.
template <typename Range>
std::optional<std::string> closest(const std::string& word, const Range& candidates) {
  if (word.empty() || word.size() > 100) return std::nullopt;
  const std::size_t limit = word.size() <= 4 ? 1 : word.size() <= 12 ? 2 : 3;
  std::optional<std::string> best;
  std::size_t best_d = limit + 1;
  for (const auto& c : candidates) {
    const std::string_view cand(c);
    const std::size_t gap =
        cand.size() > word.size() ? cand.size() - word.size() : word.size() - cand.size();
    if (gap >= best_d) continue;
    const std::size_t dist = distance(word, cand);
    if (dist < best_d) {
      best_d = dist;
      best = std::string(cand);
    }
  }
  return best;
}

/// " (did you mean 'x'?)", or nothing.
std::string did_you_mean(const std::optional<std::string>& name) {
  return name ? " (did you mean '" + *name + "'?)" : std::string();
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

/// The keys after `prefix` of every fixed name and every known key of a keyed section.
std::vector<std::string> keys_under(const std::string& prefix) {
  std::vector<std::string> out;
  for (const auto& [name, e] : reg().fixed) {
    if (name.rfind(prefix, 0) == 0) out.push_back(name.substr(prefix.size()));
  }
  for (const auto& k : reg().keyed) {
    if (k.prefix.rfind(prefix, 0) != 0) continue;
    const auto sub = k.prefix.substr(prefix.size());
    for (const auto& key : *k.known) out.push_back(sub + key);
  }
  return out;
}

// ---- resolution ---------------------------------------------------------------------------------

/// A name in a keyed section: known, dynamic, or an error naming the section's kind of key.
core::Result<MetricRef> keyed_metric(const KeyedSection& k, const std::string& name,
                                     const std::string& shown, bool rate) {
  const auto key = name.substr(k.prefix.size());
  if (key.empty()) return name_error("metric '" + name + "' needs a key after '" + k.prefix + "'");
  if (k.known->count(key) == 0 && !(k.dynamic && k.dynamic(key))) {
    const auto near = closest(key, *k.known);
    return name_error("unknown metric '" + name + "'" +
                      did_you_mean(near ? std::optional(k.prefix + *near) : std::nullopt) + ": " +
                      key + " is not " + k.what);
  }
  if (rate) return MetricRef{shown, Type::number, "/s", k.make_rate(key)};
  return MetricRef{name, k.type, k.unit ? k.unit(key) : std::string(), k.make(key)};
}

const KeyedSection* keyed_section(const std::string& name) {
  for (const auto& k : reg().keyed) {
    if (name.rfind(k.prefix, 0) == 0) return &k;
  }
  return nullptr;
}

core::Result<MetricRef> unknown_name(const std::string& name) {
  std::vector<std::string> derived;
  for (const auto& f : derived_metrics()) derived.push_back(f);
  return name_error("unknown name '" + name + "'" + did_you_mean(closest(name, derived)) +
                    ": expected a constant, a derived metric (" + joined(derived) +
                    ") or <section>.<key>");
}

core::Result<MetricRef> unknown_section(const std::string& name, const std::string& section) {
  std::optional<std::string> near;
  if (auto s = closest(section, reg().sections)) {
    const std::string fixed = *s + name.substr(section.size());
    if (lookup_metric(fixed).ok()) near = fixed;
  }
  return name_error("unknown metric section '" + section + "' in '" + name + "'" +
                    did_you_mean(near) + ": expected one of " + joined(reg().sections));
}

core::Result<MetricRef> unknown_in_section(const std::string& name, const std::string& section) {
  const std::string prefix = section + ".";
  const auto near = closest(name.substr(prefix.size()), keys_under(prefix));
  std::vector<std::string> fixed;
  for (const auto& [n, e] : reg().fixed) {
    if (n.rfind(prefix, 0) == 0) fixed.push_back(n);
  }
  return name_error("unknown metric '" + name + "'" +
                    did_you_mean(near ? std::optional(prefix + *near) : std::nullopt) +
                    (fixed.empty() ? std::string() : ": expected one of " + joined(fixed)));
}

}  // namespace

std::vector<std::string> metric_sections() { return reg().sections; }

std::vector<std::string> derived_metrics() {
  std::vector<std::string> out;
  for (const auto& f : model::derived_fields()) out.emplace_back(f.name);
  std::sort(out.begin(), out.end());
  return out;
}

core::Result<MetricRef> lookup_metric(std::string_view name_view) {
  const std::string name(name_view);
  const auto dot = name.find('.');
  if (dot == std::string::npos) {
    const auto it = reg().fixed.find(name);
    if (it != reg().fixed.end()) return ref(name, it->second);
    return unknown_name(name);
  }
  const auto section = name.substr(0, dot);
  const auto& sections = reg().sections;
  if (std::find(sections.begin(), sections.end(), section) == sections.end()) {
    return unknown_section(name, section);
  }
  if (const auto* k = keyed_section(name)) return keyed_metric(*k, name, name, false);
  if (auto h = hugepages_metric(name)) return std::move(*h);
  if (auto b = bpf_metric(name)) return std::move(*b);
  const auto it = reg().fixed.find(name);
  if (it != reg().fixed.end()) return ref(name, it->second);
  return unknown_in_section(name, section);
}

namespace {

Eval psi_total_rate(const model::Snapshot& s, bool some) {
  if (!s.current.psi.ok()) return Eval::absent(model::needs(s.current.psi, "psi"));
  if (!s.rates) return Eval::absent(model::no_rates_reason(s));
  const auto& r = some ? s.rates->psi_some_us_per_sec : s.rates->psi_full_us_per_sec;
  if (r) return Eval::of(*r);
  if (auto d = model::psi_damage(s, "psi", some ? "some" : "full", true)) {
    return Eval::absent(std::move(*d));
  }
  return Eval::absent("PSI total not in both samples");
}

}  // namespace

core::Result<MetricRef> lookup_rate(std::string_view name_view) {
  const std::string name(name_view);
  const std::string shown = "rate(" + name + ")";
  const auto* k = keyed_section(name);
  if (k != nullptr && k->make_rate && name.size() > k->prefix.size()) {
    return keyed_metric(*k, name, shown, true);
  }
  if (name == "psi.some.total" || name == "psi.full.total") {
    const bool some = name == "psi.some.total";
    return MetricRef{shown, Type::number, "us/s",
                     [some](const EvalContext& c) { return psi_total_rate(c.snapshot, some); }};
  }
  return name_error(
      "rate() needs a cumulative counter: vmstat.<counter>, psi.some.total, "
      "psi.full.total, cgroups.worst.events.<key> or cgroups.worst.stat.<key>; got '" +
      name + "'");
}

std::optional<std::string> current_setting(RecommendationKind kind, const std::string& key,
                                           const std::string& target, const model::Snapshot& s) {
  switch (kind) {
    case RecommendationKind::sysctl: {
      const auto* v = get(s.current.sysctl);
      if (v == nullptr) return std::nullopt;
      const auto it = v->values.find(key);
      if (it == v->values.end() || it->second.empty()) return std::nullopt;
      return it->second;
    }
    case RecommendationKind::thp: {
      const auto* t = get(s.current.thp);
      if (t == nullptr) return std::nullopt;
      std::string v;
      if (key == "enabled")
        v = t->enabled;
      else if (key == "defrag")
        v = t->defrag;
      else if (key == "shmem_enabled")
        v = t->shmem_enabled;
      else if (key.rfind("khugepaged/", 0) == 0) {
        const auto it = t->khugepaged.find(key.substr(11));
        if (it != t->khugepaged.end()) v = it->second;
      }
      if (v.empty()) return std::nullopt;
      return v;
    }
    case RecommendationKind::hugetlb: {
      // "hugepages-2048kB"
      if (key.rfind("hugepages-", 0) != 0 || key.size() < 13) return std::nullopt;
      auto n = parse_number(key.substr(10, key.size() - 12));
      if (!n) return std::nullopt;
      const auto* p = pool_by_size(s, static_cast<std::uint64_t>(*n) * 1024);
      if (p == nullptr || !p->nr) return std::nullopt;
      return std::to_string(*p->nr);
    }
    case RecommendationKind::postgresql: {
      const model::PgInstance* i = target.empty() ? pg_first(s) : nullptr;
      if (const auto* pg = get(s.current.postgres); pg != nullptr && !target.empty()) {
        for (const auto& inst : pg->instances) {
          if (model::pg_instance_label(inst) == target) i = &inst;
        }
      }
      if (i == nullptr) return std::nullopt;
      const auto it = i->settings.find(key);
      if (it == i->settings.end()) return std::nullopt;
      return it->second;
    }
    case RecommendationKind::cgroup: {
      const auto* g = get(s.current.cgroups);
      if (g == nullptr) return std::nullopt;
      for (const auto& c : g->groups) {
        if (c.path != target) continue;
        std::optional<std::uint64_t> v;
        if (key == "memory.high")
          v = c.high;
        else if (key == "memory.max")
          v = c.max;
        else if (key == "memory.low")
          v = c.low;
        else if (key == "memory.min")
          v = c.min;
        else if (key == "memory.swap.max")
          v = c.swap_max;
        if (!v) return std::nullopt;
        return *v == kUnlimited ? std::string("max") : std::to_string(*v);
      }
      return std::nullopt;
    }
    case RecommendationKind::kernel_cmdline:
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace vmtune::rules
