// SPDX-License-Identifier: GPL-2.0-or-later
#include "model/lookup.hpp"

#include <utility>

namespace vmtune::model {

std::string needs_entry(const Unavailable& u) {
  std::string out = "needs " + u.path;
  if (u.line > 0) out += ":" + std::to_string(u.line);
  out += ": ";
  if (!u.field.empty()) out += "field \"" + u.field + "\": ";
  return out + u.reason;
}

std::optional<std::string> damage(const Snapshot& s, const std::string& source,
                                  const UnavailableFilter& accept, bool previous_too) {
  const auto scan = [&](const Sample& sample) -> std::optional<std::string> {
    for (const auto& u : sample.unavailable) {
      if (u.source == source && accept(u)) return needs_entry(u);
    }
    return std::nullopt;
  };
  if (auto r = scan(s.current)) return r;
  if (previous_too && s.previous) return scan(*s.previous);
  return std::nullopt;
}

std::optional<std::string> field_damage(const Snapshot& s, const std::string& source,
                                        const std::string& field, bool previous_too) {
  return damage(
      s, source, [&](const Unavailable& u) { return u.field == field; }, previous_too);
}

std::optional<std::string> any_damage(const Snapshot& s, const std::string& source,
                                      bool previous_too) {
  return damage(
      s, source, [](const Unavailable&) { return true; }, previous_too);
}

std::optional<std::string> zone_damage(const Snapshot& s, const std::string& field) {
  return damage(s, "zoneinfo", [&](const Unavailable& u) {
    return u.field == field || u.field == "zone" || u.field.empty();
  });
}

std::optional<std::string> psi_damage(const Snapshot& s, const std::string& source,
                                      const std::string& kind, bool previous_too) {
  return damage(
      s, source,
      [&](const Unavailable& u) {
        return u.field.empty() || u.field == kind || u.field.rfind(kind + ".", 0) == 0;
      },
      previous_too);
}

std::string absent_field(const Snapshot& s, const std::string& source, const std::string& field,
                         bool previous_too) {
  if (auto r = field_damage(s, source, field, previous_too)) return std::move(*r);
  std::string otherwise = source + "." + field + " is absent on this kernel";
  // A line without a recognisable key may have been this field.
  if (auto r = damage(
          s, source, [](const Unavailable& u) { return u.field.empty() && u.line > 0; },
          previous_too)) {
    return otherwise + "; " + *r;
  }
  return otherwise;
}

std::string no_rates_reason(const Snapshot& s) {
  if (!s.previous) return "needs two samples a window apart (rates; counters only with --window 0)";
  return "needs two samples with a positive interval between them (rates)";
}

namespace {

Measure counter_field(const Snapshot& s, const Counters* fields, const std::string& source,
                      const std::string& key) {
  const auto it = fields->find(key);
  if (it == fields->end()) return Measure::absent(absent_field(s, source, key));
  return Measure::of(static_cast<double>(it->second));
}

}  // namespace

Measure meminfo_field(const Snapshot& s, const std::string& key) {
  const auto& src = s.current.meminfo;
  if (!src.value) return Measure::absent(needs(src, "meminfo"));
  return counter_field(s, &src.value->fields, "meminfo", key);
}

Measure vmstat_field(const Snapshot& s, const std::string& key) {
  const auto& src = s.current.vmstat;
  if (!src.value) return Measure::absent(needs(src, "vmstat"));
  return counter_field(s, &src.value->counters, "vmstat", key);
}

Measure vmstat_rate(const Snapshot& s, const std::string& key) {
  const auto& src = s.current.vmstat;
  if (!src.value) return Measure::absent(needs(src, "vmstat"));
  if (!s.rates) return Measure::absent(no_rates_reason(s));
  const auto it = s.rates->vmstat.find(key);
  if (it != s.rates->vmstat.end()) return Measure::of(it->second);
  if (auto r = field_damage(s, "vmstat", key, true)) return Measure::absent(std::move(*r));
  if (src.value->counters.count(key) == 0) {
    return Measure::absent(absent_field(s, "vmstat", key));
  }
  return Measure::absent("vmstat " + key + " is not in both samples, or went backwards");
}

Measure vmstat_rate_prefix(const Snapshot& s, const std::string& prefix) {
  const auto& src = s.current.vmstat;
  if (!src.value) return Measure::absent(needs(src, "vmstat"));
  if (!s.rates) return Measure::absent(no_rates_reason(s));
  // A damaged counter of the family would make the sum silently smaller.
  if (auto r = damage(
          s, "vmstat", [&](const Unavailable& u) { return u.field.rfind(prefix, 0) == 0; }, true)) {
    return Measure::absent(std::move(*r));
  }
  double sum = 0;
  bool any = false;
  for (const auto& [k, v] : s.rates->vmstat) {
    if (k.rfind(prefix, 0) == 0) {
      sum += v;
      any = true;
    }
  }
  if (!any) return Measure::absent("vmstat has no " + prefix + "* counters on this kernel");
  return Measure::of(sum);
}

}  // namespace vmtune::model
