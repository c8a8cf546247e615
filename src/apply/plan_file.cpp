// SPDX-License-Identifier: GPL-2.0-or-later
#include "apply/plan_file.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <regex>

#include "core/escape.hpp"
#include "core/file.hpp"
#include "core/parse.hpp"
#include "plan/limits.hpp"

namespace vmtune::apply {
namespace {

using Json = nlohmann::json;
using rules::RecommendationKind;

struct Where {
  const std::string& logical;
  std::string at;  ///< "steps[0].changes[1]"
  core::Error error(const std::string& field, const std::string& message) const {
    return core::make_error(core::ErrorKind::parse_error, logical, message, 0,
                            at + (field.empty() ? "" : "." + field));
  }
};

std::optional<RecommendationKind> kind_of(const std::string& s) {
  for (const auto k : {RecommendationKind::sysctl, RecommendationKind::thp,
                       RecommendationKind::hugetlb, RecommendationKind::postgresql,
                       RecommendationKind::kernel_cmdline, RecommendationKind::cgroup}) {
    if (s == rules::to_string(k)) return k;
  }
  return std::nullopt;
}

/// How a key of each kind must be spelled: nothing that could name another file.
bool key_ok(RecommendationKind kind, const std::string& key) {
  static const std::regex sysctl(R"((vm|kernel)\.[a-z0-9_\-]{1,64})");
  static const std::regex thp(R"((enabled|defrag|shmem_enabled|khugepaged/[a-z_]{1,40}))");
  static const std::regex hugetlb(R"((node[0-9]{1,4}/)?hugepages-[0-9]{1,10}kB)");
  static const std::regex cgroup(R"(memory\.(high|max|low|min|swap\.max))");
  static const std::regex word(R"([A-Za-z0-9_.\-]{1,64})");
  switch (kind) {
    case RecommendationKind::sysctl:
      return std::regex_match(key, sysctl);
    case RecommendationKind::thp:
      return std::regex_match(key, thp);
    case RecommendationKind::hugetlb:
      return std::regex_match(key, hugetlb);
    case RecommendationKind::cgroup:
      return std::regex_match(key, cgroup);
    case RecommendationKind::postgresql:
    case RecommendationKind::kernel_cmdline:
      return std::regex_match(key, word);
  }
  return false;
}

bool printable(const std::string& s, std::size_t max) {
  return s.size() <= max &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return c >= 0x20 && c < 0x7f; });
}

/// A cgroup path a write may follow: absolute, plain words, no "..".
bool cgroup_path_ok(const std::string& p) {
  static const std::regex path(R"((/[A-Za-z0-9_.@:+,=\-]{1,255}){0,32}|/)");
  return std::regex_match(p, path) && p.find("/..") == std::string::npos &&
         p.find("/./") == std::string::npos;
}

core::Result<std::string> text(const Json& j, const char* field, const Where& w,
                               std::size_t max = 4096) {
  if (!j.contains(field) || !j[field].is_string()) return w.error(field, "expected a string");
  auto s = core::unescape_text(j[field].get<std::string>());
  if (s.size() > max) return w.error(field, "longer than " + std::to_string(max) + " bytes");
  return s;
}

/// A huge-page pool of more than 90 % of memory would leave the machine without memory.
std::optional<std::string> pool_too_big(const plan::Change& c, const Machine& m) {
  std::uint64_t page = 0;
  if (c.kind == RecommendationKind::sysctl && c.key == "vm.nr_hugepages") {
    page = m.huge_page_size;
  } else if (c.kind == RecommendationKind::hugetlb) {
    // "hugepages-2048kB" or "node1/hugepages-2048kB" (key_ok checked the spelling)
    const auto size = c.key.substr(c.key.find('/') + 1);
    page = std::stoull(size.substr(10, size.size() - 12)) * 1024;
  } else {
    return std::nullopt;
  }
  const auto pages = core::parse_u64(c.proposed);
  if (!pages) return "expected a number of pages";
  if (m.mem_total == 0 || page == 0) return std::nullopt;
  if (static_cast<long double>(*pages) * page > 0.9L * m.mem_total) {
    return "a pool of " + c.proposed + " pages is more than 90 % of this machine's memory";
  }
  return std::nullopt;
}

core::Result<plan::Change> change_from(const Json& j, const Where& w, const Machine& machine) {
  if (!j.is_object()) return w.error("", "expected an object");
  plan::Change c;
  auto kind = text(j, "kind", w, 32);
  if (!kind) return std::move(kind).error();
  const auto k = kind_of(*kind);
  if (!k) return w.error("kind", "unknown kind \"" + core::escape_text(*kind) + "\"");
  c.kind = *k;
  auto key = text(j, "key", w, 128);
  if (!key) return std::move(key).error();
  if (!key_ok(c.kind, *key)) return w.error("key", "not a " + *kind + " key vmtune writes");
  c.key = *key;
  for (auto [field, out] : {std::pair{"target", &c.target}, std::pair{"current", &c.current},
                            std::pair{"proposed", &c.proposed}, std::pair{"evidence", &c.evidence},
                            std::pair{"note", &c.note}}) {
    auto v = text(j, field, w);
    if (!v) return std::move(v).error();
    *out = std::move(*v);
  }
  if (!printable(c.proposed, 256) || c.proposed.empty()) {
    return w.error("proposed", "expected one line of printable text");
  }
  if (c.kind == RecommendationKind::cgroup && !cgroup_path_ok(c.target)) {
    return w.error("target", "not a plain cgroup path");
  }
  if (c.kind == RecommendationKind::sysctl) {
    const auto v = plan::parse_kernel_release(machine.kernel_release);
    // Only keys whose bounds vmtune knows: never kernel.core_pattern, modules_disabled & co.
    if (plan::find_limit(c.key, v.value_or(plan::KernelVersion{})) == nullptr) {
      return w.error("key", "not a key vmtune proposes");
    }
    if (auto why = plan::check_value(c.key, c.proposed, v ? v->major : 0, v ? v->minor : 0)) {
      return w.error("proposed", *why);
    }
  }
  if (auto why = pool_too_big(c, machine)) return w.error("proposed", *why);
  if (j.contains("rules")) {
    static const std::regex id(R"([A-Z][A-Z0-9\-]{0,31})");
    if (!j["rules"].is_array() || j["rules"].size() > 16) {
      return w.error("rules", "expected up to 16 rule ids such as R-SWAP-1");
    }
    for (const auto& r : j["rules"]) {
      if (!r.is_string() || !std::regex_match(r.get<std::string>(), id)) {
        return w.error("rules", "expected rule ids such as R-SWAP-1");
      }
      c.rules.push_back(r.get<std::string>());
    }
  }
  rules::Recommendation rec;
  rec.kind = c.kind;
  rec.key = c.key;
  rec.target = c.target;
  rec.proposed = c.proposed;
  const model::Snapshot none;  // the default cgroup mount, /sys/fs/cgroup
  c.path = plan::live_path(rec, none);
  c.apply_line = plan::apply_line(rec, none);
  return c;
}

}  // namespace

core::Result<plan::Plan> parse_plan(const std::string& text_in, const std::string& logical,
                                    const Machine& machine) {
  const Json doc = Json::parse(text_in, nullptr, false);
  const Where top{logical, ""};
  if (doc.is_discarded() || !doc.is_object()) return top.error("", "not a JSON object");
  if (!doc.contains("steps") || !doc["steps"].is_array() || doc["steps"].size() > 16) {
    return top.error("steps", "expected an array of at most 16 steps");
  }
  plan::Plan plan;
  for (std::size_t i = 0; i < doc["steps"].size(); ++i) {
    const auto& s = doc["steps"][i];
    const Where ws{logical, "steps[" + std::to_string(i) + "]"};
    if (!s.is_object() || !s.contains("changes") || !s["changes"].is_array() ||
        s["changes"].size() > 256) {
      return ws.error("changes", "expected an array of at most 256 changes");
    }
    plan::Step step;
    auto title = text(s, "title", ws, 256);
    if (!title) return std::move(title).error();
    if (!printable(*title, 256)) return ws.error("title", "expected one line of printable text");
    step.title = *title;
    for (std::size_t k = 0; k < s["changes"].size(); ++k) {
      const Where wc{logical, ws.at + ".changes[" + std::to_string(k) + "]"};
      auto c = change_from(s["changes"][k], wc, machine);
      if (!c) return std::move(c).error();
      step.changes.push_back(std::move(*c));
    }
    plan.steps.push_back(std::move(step));
  }
  return plan;
}

core::Result<plan::Plan> read_plan(const std::string& path, const Machine& machine) {
  // What root applies must not be changeable by anyone else: the file belongs to this user
  // (root) and only it may write it.
  core::OpenPolicy policy;
  policy.follow_final_link = false;
  policy.max_bytes = 1u << 20;
  policy.owner = ::geteuid();
  auto fd = core::open_regular(path, path, policy);
  if (!fd) return std::move(fd).error();
  struct stat st {};
  if (::fstat(fd->get(), &st) != 0 || (st.st_mode & 022) != 0) {
    return core::make_error(core::ErrorKind::permission_denied, path,
                            "refused: writable by group or others (chmod go-w)");
  }
  auto text = core::read_all(fd->get(), path, policy.max_bytes);
  if (!text) return std::move(text).error();
  return parse_plan(*text, path, machine);
}

}  // namespace vmtune::apply
