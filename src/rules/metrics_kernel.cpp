// SPDX-License-Identifier: GPL-2.0-or-later
// Registry tables for the kernel's files: host, thp, psi, zones, buddy, numa, swaps, and the
// keyed sections meminfo.*, vmstat.*, sysctl.*, thp.khugepaged.* and hugepages.*.
#include <algorithm>
#include <cctype>
#include <utility>

#include "rules/metrics_registry.hpp"

namespace vmtune::rules::registry {
namespace {

using model::absent_field;
using model::field_damage;
using model::needs;
using model::Snapshot;

// ---- host ---------------------------------------------------------------------------------------

/// Major (idx 0) or minor (idx 1) number of the kernel release ("6.1.0-18-amd64" -> 6, 1).
Getter kernel_part(int idx) {
  return [idx](const EvalContext& c) {
    const auto& r = c.snapshot.current.host.kernel_release;
    int parts[2] = {-1, -1};
    std::size_t pos = 0;
    for (int i = 0; i < 2; ++i) {
      std::size_t e = pos;
      while (e < r.size() && std::isdigit(static_cast<unsigned char>(r[e]))) ++e;
      if (e == pos || e - pos > 6) break;
      parts[i] = std::stoi(r.substr(pos, e - pos));
      if (e >= r.size() || r[e] != '.') break;
      pos = e + 1;
    }
    if (parts[idx] < 0) return Eval::absent("kernel release unknown");
    return Eval::of(static_cast<double>(parts[idx]));
  };
}

/// A host text fact; absent ("<what> unknown") when empty.
Getter host_text(std::string model::HostInfo::*field, std::string what) {
  return [field, what](const EvalContext& c) {
    const auto& v = c.snapshot.current.host.*field;
    if (v.empty()) return Eval::absent(what + " unknown");
    return Eval::of(v);
  };
}

// ---- thp ----------------------------------------------------------------------------------------

Getter thp_text(std::string model::Thp::*field, std::string name) {
  return [field, name](const EvalContext& c) {
    const auto* t = get(c.snapshot.current.thp);
    if (t == nullptr) return Eval::absent(needs(c.snapshot.current.thp, "thp"));
    if ((t->*field).empty()) {
      if (auto r = field_damage(c.snapshot, "thp", name)) return Eval::absent(std::move(*r));
      return Eval::absent("THP " + name + " not reported");
    }
    return Eval::of(t->*field);
  };
}

Eval thp_pmd_size(const EvalContext& c) {
  const auto* t = get(c.snapshot.current.thp);
  if (t == nullptr) return Eval::absent(needs(c.snapshot.current.thp, "thp"));
  if (!t->hpage_pmd_size) {
    if (auto r = field_damage(c.snapshot, "thp", "hpage_pmd_size")) {
      return Eval::absent(std::move(*r));
    }
  }
  return opt(t->hpage_pmd_size, "THP hpage_pmd_size");
}

// ---- psi ----------------------------------------------------------------------------------------

enum class PsiField { avg10, avg60, avg300, total };

Getter psi(bool some, PsiField field) {
  return [some, field](const EvalContext& c) {
    const std::string kind = some ? "some" : "full";
    const auto* p = get(c.snapshot.current.psi);
    if (p == nullptr) return Eval::absent(needs(c.snapshot.current.psi, "psi"));
    const auto& line = some ? p->some : p->full;
    if (!line) {
      if (auto r = model::psi_damage(c.snapshot, "psi", kind)) return Eval::absent(std::move(*r));
      return Eval::absent("PSI memory has no '" + kind + "' line");
    }
    switch (field) {
      case PsiField::avg10:
        return Eval::of(line->avg10);
      case PsiField::avg60:
        return Eval::of(line->avg60);
      case PsiField::avg300:
        return Eval::of(line->avg300);
      case PsiField::total:
        break;
    }
    return num(line->total_us);
  };
}

// ---- zones --------------------------------------------------------------------------------------

/// Σ over zones of one watermark or size (pages).
Getter zone_sum(std::optional<std::uint64_t> model::Zone::*field, std::string key) {
  return [field, key](const EvalContext& c) {
    const auto* zs = get(c.snapshot.current.zones);
    if (zs == nullptr) return Eval::absent(needs(c.snapshot.current.zones, "zoneinfo"));
    if (auto r = model::zone_damage(c.snapshot, key)) return Eval::absent(std::move(*r));
    std::uint64_t sum = 0;
    for (const auto& z : *zs) sum += (z.*field).value_or(0);
    return num(sum);
  };
}

/// The number of zones `pred` accepts.
Getter zone_count(bool (*pred)(const model::Zone&), std::string key) {
  return [pred, key](const EvalContext& c) {
    const auto* zs = get(c.snapshot.current.zones);
    if (zs == nullptr) return Eval::absent(needs(c.snapshot.current.zones, "zoneinfo"));
    if (auto r = model::zone_damage(c.snapshot, key)) return Eval::absent(std::move(*r));
    std::uint64_t n = 0;
    for (const auto& z : *zs) n += pred(z) ? 1 : 0;
    return num(n);
  };
}

// ---- buddyinfo ----------------------------------------------------------------------------------

enum class Buddy { free_pages, order9_blocks, unusable_index9 };

Getter buddy(Buddy what) {
  return [what](const EvalContext& c) {
    const auto* bs = get(c.snapshot.current.buddyinfo);
    if (bs == nullptr) return Eval::absent(needs(c.snapshot.current.buddyinfo, "buddyinfo"));
    // A damaged line drops its zone: totals over the rest would understate free memory.
    if (auto r = model::any_damage(c.snapshot, "buddyinfo")) return Eval::absent(std::move(*r));
    std::vector<std::uint64_t> total;
    for (const auto& z : *bs) {
      if (total.size() < z.free_blocks.size()) total.resize(z.free_blocks.size(), 0);
      for (std::size_t i = 0; i < z.free_blocks.size(); ++i) total[i] += z.free_blocks[i];
    }
    if (what == Buddy::free_pages) {
      double pages = 0;
      for (std::size_t i = 0; i < total.size() && i < 63; ++i) {
        pages += static_cast<double>(total[i]) * static_cast<double>(1ULL << i);
      }
      return Eval::of(pages);
    }
    if (what == Buddy::order9_blocks) {  // 2 MiB on x86-64
      std::uint64_t n = 0;
      for (std::size_t i = 9; i < total.size(); ++i) n += total[i];
      return num(n);
    }
    const auto idx = model::unusable_free_index(total);
    if (idx.size() <= 9) return Eval::absent("buddyinfo has no order-9 column or no free memory");
    return Eval::of(idx[9]);
  };
}

// ---- numa ---------------------------------------------------------------------------------------

Eval numa_nodes(const EvalContext& c) {
  const auto* n = get(c.snapshot.current.numa);
  if (n == nullptr) return Eval::absent(needs(c.snapshot.current.numa, "numa"));
  return num(static_cast<std::uint64_t>(n->nodes.size()));
}

/// The lowest (or highest) MemFree / MemTotal over NUMA nodes, percent.
Getter node_free(bool want_min) {
  return [want_min](const EvalContext& c) {
    const auto* n = get(c.snapshot.current.numa);
    if (n == nullptr) return Eval::absent(needs(c.snapshot.current.numa, "numa"));
    // A node whose meminfo is damaged would be skipped, and it may be the extreme one.
    if (auto r = model::damage(c.snapshot, "numa", [](const model::Unavailable& u) {
          return ends_with(u.path, "/meminfo") &&
                 (u.field.empty() || u.field == "MemTotal" || u.field == "MemFree");
        })) {
      return Eval::absent(std::move(*r));
    }
    std::optional<double> best;
    for (const auto& node : n->nodes) {
      const auto t = node.meminfo.find("MemTotal");
      const auto f = node.meminfo.find("MemFree");
      if (t == node.meminfo.end() || f == node.meminfo.end() || t->second == 0) continue;
      const double pct = 100.0 * static_cast<double>(f->second) / static_cast<double>(t->second);
      if (!best || (want_min ? pct < *best : pct > *best)) best = pct;
    }
    if (!best) return Eval::absent("no NUMA node reports MemTotal and MemFree");
    return Eval::of(*best);
  };
}

// ---- swaps --------------------------------------------------------------------------------------

/// Σ over swap devices of `value(device)`.
Getter swaps(double (*value)(const model::SwapDevice&)) {
  return [value](const EvalContext& c) {
    const auto* sw = get(c.snapshot.current.swaps);
    if (sw == nullptr) return Eval::absent(needs(c.snapshot.current.swaps, "swaps"));
    // A damaged row drops its device: counts and sizes over the rest would be wrong.
    if (auto r = model::any_damage(c.snapshot, "swaps")) return Eval::absent(std::move(*r));
    double v = 0;
    for (const auto& dev : *sw) v += value(dev);
    return Eval::of(v);
  };
}

bool is_zram(const model::SwapDevice& d) { return d.filename.find("zram") != std::string::npos; }

// ---- keyed sections -----------------------------------------------------------------------------

Eval sysctl(const Snapshot& s, const std::string& key) {
  const auto* v = get(s.current.sysctl);
  if (v == nullptr) return Eval::absent(needs(s.current.sysctl, "sysctl"));
  const auto it = v->values.find(key);
  if (it == v->values.end()) return Eval::absent(absent_field(s, "sysctl", key));
  return text_value(it->second, "sysctl " + key);
}

Eval khugepaged(const Snapshot& s, const std::string& key) {
  const auto* t = get(s.current.thp);
  if (t == nullptr) return Eval::absent(needs(s.current.thp, "thp"));
  const auto it = t->khugepaged.find(key);
  if (it == t->khugepaged.end()) {
    if (auto r = field_damage(s, "thp", "khugepaged/" + key)) return Eval::absent(std::move(*r));
    return Eval::absent("thp.khugepaged." + key + " is absent on this kernel");
  }
  return text_value(it->second, "THP khugepaged/" + key);
}

}  // namespace

Table host_metrics() {
  return {
      {"host.page_size", Type::number, "bytes",
       [](const EvalContext& c) { return num(c.snapshot.current.host.page_size); }},
      {"host.cpus", Type::number, "",
       [](const EvalContext& c) {
         const auto cpus = c.snapshot.current.host.cpus;
         if (cpus == 0) return Eval::absent("CPU count unknown");
         return num(cpus);
       }},
      {"host.kernel_release", Type::string, "",
       host_text(&model::HostInfo::kernel_release, "kernel release")},
      {"host.kernel_major", Type::number, "", kernel_part(0)},
      {"host.kernel_minor", Type::number, "", kernel_part(1)},
      {"host.arch", Type::string, "", host_text(&model::HostInfo::arch, "architecture")},
  };
}

Table thp_metrics() {
  return {
      {"thp.enabled", Type::string, "", thp_text(&model::Thp::enabled, "enabled")},
      {"thp.defrag", Type::string, "", thp_text(&model::Thp::defrag, "defrag")},
      {"thp.shmem_enabled", Type::string, "",
       thp_text(&model::Thp::shmem_enabled, "shmem_enabled")},
      {"thp.hpage_pmd_size", Type::number, "bytes", thp_pmd_size},
  };
}

Table psi_metrics() {
  Table t;
  for (const bool some : {true, false}) {
    const std::string kind = some ? "psi.some." : "psi.full.";
    t.push_back({kind + "avg10", Type::number, "%", psi(some, PsiField::avg10)});
    t.push_back({kind + "avg60", Type::number, "%", psi(some, PsiField::avg60)});
    t.push_back({kind + "avg300", Type::number, "%", psi(some, PsiField::avg300)});
    t.push_back({kind + "total", Type::number, "us", psi(some, PsiField::total)});
  }
  return t;
}

Table zone_metrics() {
  using Z = model::Zone;
  return {
      {"zones.min_pages", Type::number, "pages", zone_sum(&Z::min, "min")},
      {"zones.low_pages", Type::number, "pages", zone_sum(&Z::low, "low")},
      {"zones.high_pages", Type::number, "pages", zone_sum(&Z::high, "high")},
      {"zones.boost_pages", Type::number, "pages", zone_sum(&Z::boost, "boost")},
      {"zones.managed_pages", Type::number, "pages", zone_sum(&Z::managed, "managed")},
      {"zones.free_pages", Type::number, "pages", zone_sum(&Z::free, "pages free")},
      {"zones.count", Type::number, "", zone_count([](const Z&) { return true; }, "zone")},
      {"zones.populated", Type::number, "",
       zone_count([](const Z& z) { return z.managed.value_or(0) > 0; }, "managed")},
      {"zones.boosted", Type::number, "",
       zone_count([](const Z& z) { return z.boost.value_or(0) > 0; }, "boost")},
      {"zones.unreclaimable", Type::number, "",
       zone_count([](const Z& z) { return z.node_unreclaimable.value_or(false); },
                  "node_unreclaimable")},
  };
}

Table buddy_metrics() {
  return {
      {"buddy.free_pages", Type::number, "pages", buddy(Buddy::free_pages)},
      {"buddy.order9_blocks", Type::number, "blocks", buddy(Buddy::order9_blocks)},
      {"buddy.unusable_index9", Type::number, "", buddy(Buddy::unusable_index9)},
  };
}

Table numa_metrics() {
  return {
      {"numa.nodes", Type::number, "", numa_nodes},
      {"numa.min_free_pct", Type::number, "%", node_free(true)},
      {"numa.max_free_pct", Type::number, "%", node_free(false)},
  };
}

Table swap_metrics() {
  using D = model::SwapDevice;
  return {
      {"swaps.count", Type::number, "", swaps([](const D&) { return 1.0; })},
      {"swaps.size", Type::number, "bytes",
       swaps([](const D& d) { return static_cast<double>(d.size); })},
      {"swaps.used", Type::number, "bytes",
       swaps([](const D& d) { return static_cast<double>(d.used); })},
      {"swaps.zram", Type::number, "", swaps([](const D& d) { return is_zram(d) ? 1.0 : 0.0; })},
      {"swaps.disk", Type::number, "", swaps([](const D& d) { return is_zram(d) ? 0.0 : 1.0; })},
  };
}

std::vector<KeyedSection> kernel_keyed_sections() {
  const auto getter = [](Eval (*read)(const Snapshot&, const std::string&)) {
    return [read](const std::string& key) -> Getter {
      return [read, key](const EvalContext& c) { return read(c.snapshot, key); };
    };
  };
  const auto measure = [](model::Measure (*read)(const Snapshot&, const std::string&)) {
    return [read](const std::string& key) -> Getter {
      return [read, key](const EvalContext& c) { return from(read(c.snapshot, key)); };
    };
  };
  auto meminfo = keyed("meminfo.", "a /proc/meminfo field", field_names().meminfo);
  meminfo.unit = [](const std::string& key) {
    return key.rfind("HugePages_", 0) == 0 ? "pages" : "bytes";
  };
  meminfo.make = measure(model::meminfo_field);
  auto vmstat = keyed("vmstat.", "a /proc/vmstat counter", field_names().vmstat);
  vmstat.make = measure(model::vmstat_field);
  vmstat.make_rate = measure(model::vmstat_rate);
  auto sysctls = keyed("sysctl.", "a sysctl vmtune reads", field_names().sysctl);
  sysctls.type = Type::any;
  sysctls.make = getter(sysctl);
  auto khuge = keyed("thp.khugepaged.", "a file of transparent_hugepage/khugepaged",
                     field_names().khugepaged);
  khuge.type = Type::any;
  khuge.make = getter(khugepaged);
  return {meminfo, vmstat, sysctls, khuge};
}

// ---- hugepages.<size>kB.<field> -----------------------------------------------------------------

namespace {

/// The value of `field` in the pool of `want` bytes, or why not.
Eval pool_field(const Snapshot& s, std::optional<std::uint64_t> bytes, const std::string& size,
                const std::string& field) {
  const auto* ps = get(s.current.hugepages);
  if (ps == nullptr) return Eval::absent(needs(s.current.hugepages, "hugepages"));
  std::uint64_t want = 0;
  if (bytes) {
    want = *bytes;
  } else {
    const auto hp = model::meminfo_field(s, "Hugepagesize");
    if (!hp.ok()) return from(hp);
    want = static_cast<std::uint64_t>(*hp);
  }
  const auto* p = pool_by_size(s, want);
  if (p == nullptr) {
    return Eval::absent("no hugetlb pool of size " +
                        format_number(static_cast<double>(want / 1024)) + "kB");
  }
  if (field == "page_size") return num(p->page_size);
  const auto& v = field == "nr"        ? p->nr
                  : field == "free"    ? p->free
                  : field == "resv"    ? p->resv
                  : field == "surplus" ? p->surplus
                                       : p->overcommit;
  if (!v) {
    const std::string file = field == "overcommit" ? "nr_overcommit_hugepages"
                             : field == "nr"       ? "nr_hugepages"
                                                   : field + "_hugepages";
    const std::string dir = "/hugepages-" + std::to_string(p->page_size / 1024) + "kB/" + file;
    if (auto r = model::damage(s, "hugepages", [&](const model::Unavailable& u) {
          return u.field == file && ends_with(u.path, dir);
        })) {
      return Eval::absent(std::move(*r));
    }
  }
  return opt(v, "hugepages-" + size + " " + field);
}

/// hugepages.pools (count) or hugepages.total_bytes (Σ nr × page size).
Eval pools_total(const Snapshot& s, bool pools) {
  const auto* ps = get(s.current.hugepages);
  if (ps == nullptr) return Eval::absent(needs(s.current.hugepages, "hugepages"));
  if (!pools) {
    if (auto r = field_damage(s, "hugepages", "nr_hugepages")) return Eval::absent(std::move(*r));
  }
  double v = 0;
  for (const auto& p : *ps) v += pools ? 1.0 : static_cast<double>(p.nr.value_or(0) * p.page_size);
  return Eval::of(v);
}

}  // namespace

std::optional<core::Result<MetricRef>> hugepages_metric(const std::string& name) {
  static const std::string kPrefix = "hugepages.";
  if (name.rfind(kPrefix, 0) != 0) return std::nullopt;
  const auto rest = name.substr(kPrefix.size());
  if (rest == "pools" || rest == "total_bytes") {
    const bool pools = rest == "pools";
    return core::Result<MetricRef>(
        MetricRef{name, Type::number, pools ? "" : "bytes",
                  [pools](const EvalContext& c) { return pools_total(c.snapshot, pools); }});
  }
  const auto dot = rest.find('.');
  if (dot == std::string::npos) {
    return core::Result<MetricRef>(
        name_error("unknown metric '" + name +
                   "': expected hugepages.<size>kB.<field>, hugepages.default.<field>, "
                   "hugepages.pools or hugepages.total_bytes"));
  }
  const auto size = rest.substr(0, dot);
  const auto field = rest.substr(dot + 1);
  static const std::set<std::string> kFields = {"nr",      "free",       "resv",
                                                "surplus", "overcommit", "page_size"};
  if (kFields.count(field) == 0) {
    return core::Result<MetricRef>(
        name_error("unknown hugepages field '" + field + "' in '" + name +
                   "': expected nr, free, resv, surplus, overcommit or page_size"));
  }
  std::optional<std::uint64_t> bytes;
  if (size != "default") {
    const auto n = size.size() > 2 && ends_with(size, "kB")
                       ? parse_number(size.substr(0, size.size() - 2))
                       : std::nullopt;
    if (!n || *n <= 0 || *n > 1e15) {
      return core::Result<MetricRef>(name_error("bad hugepage size '" + size + "' in '" + name +
                                                "': expected <n>kB (e.g. 2048kB) or default"));
    }
    bytes = static_cast<std::uint64_t>(*n) * 1024;
  }
  return core::Result<MetricRef>(MetricRef{name, Type::number,
                                           field == "page_size" ? "bytes" : "pages",
                                           [bytes, field, size](const EvalContext& c) {
                                             return pool_field(c.snapshot, bytes, size, field);
                                           }});
}

}  // namespace vmtune::rules::registry
