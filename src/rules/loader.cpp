// SPDX-License-Identifier: GPL-2.0-or-later
#include "rules/loader.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <system_error>
#include <utility>

#include "core/file.hpp"
#include "core/parse.hpp"
#include "model/derive.hpp"
#include "rules/metrics.hpp"

namespace vmtune::rules {
namespace {

struct TableEntry {
  std::string name;
  const toml::node* node = nullptr;
  toml::source_position name_pos;
};

// The entries of a TOML table in source order (toml++ iterates tables sorted by key), so a
// constant or `let` may use the ones written above it.
std::vector<TableEntry> entries_in_source_order(const toml::table& table) {
  std::vector<TableEntry> out;
  for (auto&& [k, v] : table) out.push_back({std::string(k.str()), &v, k.source().begin});
  std::sort(out.begin(), out.end(), [](const TableEntry& a, const TableEntry& b) {
    const auto pa = a.node->source().begin;
    const auto pb = b.node->source().begin;
    return pa.line != pb.line ? pa.line < pb.line : pa.column < pb.column;
  });
  return out;
}

using core::ErrorKind;

/// Maps positions of toml++ nodes, and offsets inside their string values, to file positions.
class SourceMap {
 public:
  explicit SourceMap(std::string_view text) {
    std::size_t start = 0;
    for (std::size_t i = 0; i <= text.size(); ++i) {
      if (i == text.size() || text[i] == '\n') {
        lines_.push_back(text.substr(start, i - start));
        start = i + 1;
      }
    }
  }

  /// Position of byte `offset` of the decoded string value starting at `begin` (its opening
  /// quote). Escapes in basic strings count as one character; good enough for expressions,
  /// which rarely contain any.
  std::pair<int, int> locate(const toml::source_position& begin, std::size_t offset) const {
    int line = static_cast<int>(begin.line);
    int col = static_cast<int>(begin.column);
    if (line < 1 || static_cast<std::size_t>(line) > lines_.size()) return {line, col};
    std::size_t li = static_cast<std::size_t>(line - 1);
    std::size_t ci = static_cast<std::size_t>(col > 0 ? col - 1 : 0);
    const auto raw = lines_[li];
    bool basic = true;
    std::size_t delim = 1;
    if (raw.substr(ci, 3) == "\"\"\"")
      delim = 3;
    else if (raw.substr(ci, 3) == "'''") {
      delim = 3;
      basic = false;
    } else if (ci < raw.size() && raw[ci] == '\'')
      basic = false;
    else if (ci >= raw.size() || raw[ci] != '"')
      return {line, col};  // not a string
    ci += delim;
    if (delim == 3 && ci >= lines_[li].size()) {  // a newline right after """ is trimmed
      ++li;
      ci = 0;
    }
    for (std::size_t k = 0; k < offset; ++k) {
      if (li >= lines_.size()) break;
      const auto cur = lines_[li];
      if (ci >= cur.size()) {  // the newline itself is one character of the value
        ++li;
        ci = 0;
        continue;
      }
      if (basic && cur[ci] == '\\' && ci + 1 < cur.size()) {
        ci += (cur[ci + 1] == 'u') ? 6 : (cur[ci + 1] == 'U') ? 10 : 2;
        continue;
      }
      ++ci;
    }
    return {static_cast<int>(li + 1), static_cast<int>(ci + 1)};
  }

 private:
  std::vector<std::string_view> lines_;
};

bool is_identifier(const std::string& name) {
  return !name.empty() && (std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_') &&
         std::all_of(name.begin(), name.end(), [](char ch) {
           return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_';
         });
}

bool is_rule_id(const std::string& id) {
  return !id.empty() && std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

bool is_keyword(const std::string& name) {
  return name == "true" || name == "false" || name == "and" || name == "or" || name == "not";
}

class Loader {
 public:
  Loader(std::string_view text, std::string path) : map_(text), path_(std::move(path)) {}

  core::Result<std::vector<Rule>> run(std::string_view text) {
    toml::table doc;
    try {
      doc = toml::parse(text, path_);
    } catch (const toml::parse_error& e) {
      return core::make_error(
          ErrorKind::invalid_argument, path_, "TOML syntax error: " + std::string(e.description()),
          static_cast<int>(e.source().begin.line), {}, static_cast<int>(e.source().begin.column));
    }
    std::vector<Rule> out;
    for (auto&& [k, v] : doc) {
      if (k.str() != "rule") {
        return err(k.source().begin, std::string(k.str()),
                   "unknown top-level key: expected [[rule]] tables only");
      }
    }
    const auto* rules = doc.get("rule");
    if (rules == nullptr) return out;  // an empty file is fine
    const auto* arr = rules->as_array();
    if (arr == nullptr || !arr->is_array_of_tables()) {
      return err(rules->source().begin, "rule", "expected [[rule]] (an array of tables)");
    }
    for (const auto& node : *arr) {
      auto r = rule(*node.as_table());
      if (!r) return std::move(r).error();
      out.push_back(std::move(*r));
    }
    return out;
  }

 private:
  core::Error err(const toml::source_position& at, std::string field, std::string message) const {
    return core::make_error(ErrorKind::invalid_argument, path_, std::move(message),
                            static_cast<int>(at.line), std::move(field),
                            static_cast<int>(at.column));
  }

  core::Result<std::string> string_field(const toml::table& t, const char* key, bool required,
                                         const toml::source_position& table_pos) const {
    const auto* n = t.get(key);
    if (n == nullptr) {
      if (required) return err(table_pos, key, "missing required field");
      return std::string();
    }
    if (!n->is_string()) return err(n->source().begin, key, "expected a string");
    return std::string(n->as_string()->get());
  }

  core::Result<std::vector<std::string>> string_list(const toml::node* n, const char* key) const {
    std::vector<std::string> out;
    if (n == nullptr) return out;
    const auto* a = n->as_array();
    if (a == nullptr) return err(n->source().begin, key, "expected an array of strings");
    for (const auto& e : *a) {
      if (!e.is_string()) return err(e.source().begin, key, "expected a string");
      out.emplace_back(e.as_string()->get());
    }
    return out;
  }

  /// Parses an expression held in string node `n`, mapping error columns into the file.
  core::Result<Expr> expr(const toml::node& n, const std::string& field, const Scope& scope) const {
    if (!n.is_string()) return err(n.source().begin, field, "expected an expression in a string");
    const std::string text(n.as_string()->get());
    auto e = Expr::parse(text, scope);
    if (!e) {
      const auto offset = static_cast<std::size_t>(std::max(0, e.error().column - 1));
      const auto [line, col] = map_.locate(n.source().begin, offset);
      return core::make_error(ErrorKind::invalid_argument, path_, e.error().message, line, field,
                              col);
    }
    return e;
  }

  core::Result<Expr> condition(const toml::node& n, const std::string& field,
                               const Scope& scope) const {
    auto e = expr(n, field, scope);
    if (!e) return e;
    if (e->type() != Type::boolean && e->type() != Type::any) {
      const auto [line, col] = map_.locate(n.source().begin, 0);
      return core::make_error(
          ErrorKind::invalid_argument, path_,
          std::string("expected a boolean condition, got a ") + to_string(e->type()), line, field,
          col);
    }
    return e;
  }

  core::Status check_keys(const toml::table& t, std::initializer_list<const char*> allowed,
                          const std::string& where) const {
    for (auto&& [k, v] : t) {
      const std::string key(k.str());
      if (std::find_if(allowed.begin(), allowed.end(), [&](const char* a) { return key == a; }) ==
          allowed.end()) {
        std::string list;
        for (const char* a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
        return err(k.source().begin, key,
                   "unknown field in " + where + ": expected one of " + list);
      }
    }
    return core::ok_status();
  }

  core::Result<Rule> rule(const toml::table& t) {
    if (auto st = check_keys(t,
                             {"id", "title", "severity", "severity_if", "profiles", "requires",
                              "constants", "let", "when", "evidence", "recommend", "rationale",
                              "references", "always_report", "symptoms", "for_each"},
                             "[[rule]]");
        !st) {
      return std::move(st).error();
    }
    Rule r;
    r.file = path_;
    if (auto st = header(t, r); !st) return std::move(st).error();
    if (auto st = constants(t, r); !st) return std::move(st).error();
    if (const auto* ar = t.get("always_report")) {
      if (!ar->is_boolean())
        return err(ar->source().begin, "always_report", "expected true or false");
      r.always_report = ar->as_boolean()->get();
    }
    if (const auto* fe = t.get("for_each")) {
      if (!fe->is_string() || fe->as_string()->get() != "postgres_instance") {
        return err(fe->source().begin, "for_each", "expected \"postgres_instance\"");
      }
      r.per_postgres_instance = true;
    }
    const Scope scope{&r.constants, true, &r.lets};
    if (auto st = lets(t, scope, r); !st) return std::move(st).error();
    if (auto st = requires_and_when(t, scope, r); !st) return std::move(st).error();
    if (auto st = tables(t, "severity_if", scope, &Loader::severity_step, r.severity_if); !st) {
      return std::move(st).error();
    }
    if (auto st = tables(t, "evidence", scope, &Loader::evidence, r.evidence); !st) {
      return std::move(st).error();
    }
    if (auto st = tables(t, "recommend", scope, &Loader::recommend, r.recommend); !st) {
      return std::move(st).error();
    }
    return r;
  }

  /// id (and its position), title, severity, rationale, references and profiles.
  core::Status header(const toml::table& t, Rule& r) const {
    const auto pos = t.source().begin;
    auto id = string_field(t, "id", true, pos);
    if (!id) return std::move(id).error();
    const auto id_pos = t.get("id")->source().begin;
    r.id = *id;
    r.line = static_cast<int>(id_pos.line);
    r.column = static_cast<int>(id_pos.column);
    if (!is_rule_id(r.id)) {
      return err(id_pos, "id", "expected an id of letters, digits, '-', '_' and '.'");
    }
    auto title = string_field(t, "title", true, pos);
    if (!title) return std::move(title).error();
    r.title = *title;
    auto sev = severity(t);
    if (!sev) return std::move(sev).error();
    r.severity = *sev;
    auto rationale = string_field(t, "rationale", true, pos);
    if (!rationale) return std::move(rationale).error();
    r.rationale = std::string(core::trim(*rationale));
    auto refs = string_list(t.get("references"), "references");
    if (!refs) return std::move(refs).error();
    r.references = *refs;
    auto profiles = profile_list(t);
    if (!profiles) return std::move(profiles).error();
    r.profiles = *profiles;
    auto symptoms = symptom_list(t);
    if (!symptoms) return std::move(symptoms).error();
    r.symptoms = symptoms->empty() ? std::vector<std::string>{"memory_pressure"} : *symptoms;
    return core::ok_status();
  }

  core::Result<std::vector<std::string>> symptom_list(const toml::table& t) const {
    auto names = string_list(t.get("symptoms"), "symptoms");
    if (!names) return names;
    for (std::size_t i = 0; i < names->size(); ++i) {
      if (std::find(kSymptoms.begin(), kSymptoms.end(), (*names)[i]) == kSymptoms.end()) {
        std::string list;
        for (const auto s : kSymptoms) list += (list.empty() ? "" : ", ") + std::string(s);
        return err((*t.get("symptoms")->as_array())[i].source().begin, "symptoms",
                   "unknown symptom '" + (*names)[i] + "': expected one of " + list);
      }
    }
    return names;
  }

  /// The required "severity" field of table `t`.
  core::Result<Severity> severity(const toml::table& t) const {
    auto name = string_field(t, "severity", true, t.source().begin);
    if (!name) return std::move(name).error();
    if (auto s = severity_from_string(*name)) return *s;
    return err(t.get("severity")->source().begin, "severity", "expected info, warning or critical");
  }

  core::Result<std::vector<std::string>> profile_list(const toml::table& t) const {
    auto profiles = string_list(t.get("profiles"), "profiles");
    if (!profiles) return profiles;
    for (std::size_t i = 0; i < profiles->size(); ++i) {
      const auto& p = (*profiles)[i];
      if (p != "database" && p != "general" && p != "latency") {
        return err((*t.get("profiles")->as_array())[i].source().begin, "profiles",
                   "unknown profile '" + p + "': expected database, general or latency");
      }
    }
    return profiles;
  }

  // Constants, in source order so a constant may use the ones above it.
  core::Status constants(const toml::table& t, Rule& r) const {
    const auto* c = t.get("constants");
    if (c == nullptr) return core::ok_status();
    const auto* ct = c->as_table();
    if (ct == nullptr)
      return err(c->source().begin, "constants", "expected a table [rule.constants]");
    for (const auto& [name, node, name_pos] : entries_in_source_order(*ct)) {
      if (!is_identifier(name)) {
        return err(name_pos, name, "expected a constant name of letters, digits and '_'");
      }
      if (lookup_metric(name).ok() || is_keyword(name)) {
        return err(name_pos, name, "constant name '" + name + "' hides a metric or keyword");
      }
      auto v = constant(name, *node, r.constants);
      if (!v) return std::move(v).error();
      r.constants[name] = std::move(*v);
    }
    return core::ok_status();
  }

  /// The value of constant `name`: a literal, or an expression over the constants above it.
  core::Result<Value> constant(const std::string& name, const toml::node& node,
                               const std::map<std::string, Value>& above) const {
    if (const auto* i = node.as_integer()) return Value(static_cast<double>(i->get()));
    if (const auto* f = node.as_floating_point()) return Value(f->get());
    if (const auto* b = node.as_boolean()) return Value(b->get());
    if (!node.is_string()) {
      return err(node.source().begin, name,
                 "expected a number, a boolean or an expression string for a constant");
    }
    static const model::Snapshot kEmpty;
    auto e = expr(node, name, Scope{&above, false});
    if (!e) return std::move(e).error();
    auto v = e->evaluate(EvalContext{kEmpty, "general", std::nullopt});
    if (!v.ok()) return err(node.source().begin, name, "constant cannot be computed: " + v.missing);
    return *v.value;
  }

  // [rule.let], in source order so a let may use the ones above it.
  core::Status lets(const toml::table& t, const Scope& scope, Rule& r) const {
    const auto* l = t.get("let");
    if (l == nullptr) return core::ok_status();
    const auto* lt = l->as_table();
    if (lt == nullptr) return err(l->source().begin, "let", "expected a table [rule.let]");
    for (const auto& [name, node, name_pos] : entries_in_source_order(*lt)) {
      if (!is_identifier(name))
        return err(name_pos, name, "expected a name of letters, digits and '_'");
      if (r.constants.count(name) || lookup_metric(name).ok() || is_keyword(name)) {
        return err(name_pos, name, "name '" + name + "' hides a constant, metric or keyword");
      }
      auto e = expr(*node, "let." + name, scope);
      if (!e) return std::move(e).error();
      r.lets[name] = std::move(*e);
    }
    return core::ok_status();
  }

  core::Status requires_and_when(const toml::table& t, const Scope& scope, Rule& r) const {
    if (const auto* req = t.get("requires")) {
      const auto* a = req->as_array();
      if (a == nullptr)
        return err(req->source().begin, "requires", "expected an array of metric names");
      for (const auto& e : *a) {
        auto x = expr(e, "requires", scope);
        if (!x) return std::move(x).error();
        r.requires_.push_back(std::move(*x));
      }
    }
    const auto* when = t.get("when");
    if (when == nullptr) return err(t.source().begin, "when", "missing required field");
    auto w = condition(*when, "when", scope);
    if (!w) return std::move(w).error();
    r.when = std::move(*w);
    return core::ok_status();
  }

  /// Parses each table of the optional array of tables [[rule.<key>]] with `parse`.
  template <typename T>
  core::Status tables(const toml::table& t, const char* key, const Scope& scope,
                      core::Result<T> (Loader::*parse)(const toml::table&, const Scope&) const,
                      std::vector<T>& out) const {
    const auto* n = t.get(key);
    if (n == nullptr) return core::ok_status();
    const auto* a = n->as_array();
    if (a == nullptr || !a->is_array_of_tables()) {
      return err(n->source().begin, key, std::string("expected [[rule.") + key + "]] tables");
    }
    for (const auto& e : *a) {
      auto x = (this->*parse)(*e.as_table(), scope);
      if (!x) return std::move(x).error();
      out.push_back(std::move(*x));
    }
    return core::ok_status();
  }

  core::Result<SeverityStep> severity_step(const toml::table& st, const Scope& scope) const {
    if (auto ck = check_keys(st, {"when", "severity"}, "[[rule.severity_if]]"); !ck) {
      return std::move(ck).error();
    }
    SeverityStep step;
    const auto* sw = st.get("when");
    if (sw == nullptr) return err(st.source().begin, "when", "missing required field");
    auto c = condition(*sw, "severity_if.when", scope);
    if (!c) return std::move(c).error();
    step.when = std::move(*c);
    auto level = severity(st);
    if (!level) return std::move(level).error();
    step.severity = *level;
    return step;
  }

  core::Result<EvidenceSpec> evidence(const toml::table& et, const Scope& scope) const {
    if (auto ck = check_keys(et, {"name", "expr", "unit"}, "[[rule.evidence]]"); !ck) {
      return std::move(ck).error();
    }
    EvidenceSpec spec;
    auto name = string_field(et, "name", true, et.source().begin);
    if (!name) return std::move(name).error();
    spec.name = *name;
    auto unit = string_field(et, "unit", false, et.source().begin);
    if (!unit) return std::move(unit).error();
    spec.unit = *unit;
    const auto* x = et.get("expr");
    if (x == nullptr) return err(et.source().begin, "expr", "missing required field");
    auto e = expr(*x, "evidence.expr", scope);
    if (!e) return std::move(e).error();
    spec.expr = std::move(*e);
    return spec;
  }

  core::Result<RecommendSpec> recommend(const toml::table& t, const Scope& scope) const {
    const auto pos = t.source().begin;
    if (auto ck = check_keys(t, {"kind", "key", "value", "only_if", "target", "current", "note"},
                             "[[rule.recommend]]");
        !ck) {
      return std::move(ck).error();
    }
    RecommendSpec spec;
    spec.line = static_cast<int>(pos.line);
    auto kind = recommendation_kind(t);
    if (!kind) return std::move(kind).error();
    spec.kind = *kind;
    auto key = string_field(t, "key", true, pos);
    if (!key) return std::move(key).error();
    spec.key = *key;
    const auto key_pos = t.get("key")->source().begin;
    if (auto bad = check_key(spec.kind, spec.key)) return err(key_pos, "key", *bad);
    auto note = string_field(t, "note", false, pos);
    if (!note) return std::move(note).error();
    spec.note = *note;

    const auto* v = t.get("value");
    if (v == nullptr) return err(pos, "value", "missing required field");
    auto value = recommend_value(*v, scope);
    if (!value) return std::move(value).error();
    spec.value = std::move(*value);
    if (const auto* o = t.get("only_if")) {
      auto e = condition(*o, "only_if", scope);
      if (!e) return std::move(e).error();
      spec.only_if = std::move(*e);
    }
    if (const auto* tg = t.get("target")) {
      auto e = expr(*tg, "target", scope);
      if (!e) return std::move(e).error();
      spec.target = std::move(*e);
    } else if (spec.kind == RecommendationKind::cgroup) {
      return err(pos, "target", "missing required field: a cgroup recommendation names its cgroup");
    }
    if (const auto* c = t.get("current")) {
      auto e = expr(*c, "current", scope);
      if (!e) return std::move(e).error();
      spec.current = std::move(*e);
    }
    return spec;
  }

  core::Result<RecommendationKind> recommendation_kind(const toml::table& t) const {
    auto kind = string_field(t, "kind", true, t.source().begin);
    if (!kind) return std::move(kind).error();
    static const std::pair<const char*, RecommendationKind> kKinds[] = {
        {"sysctl", RecommendationKind::sysctl},
        {"thp", RecommendationKind::thp},
        {"hugetlb", RecommendationKind::hugetlb},
        {"postgresql", RecommendationKind::postgresql},
        {"kernel_cmdline", RecommendationKind::kernel_cmdline},
        {"cgroup", RecommendationKind::cgroup}};
    for (const auto& [name, k] : kKinds) {
      if (*kind == name) return k;
    }
    return err(t.get("kind")->source().begin, "kind",
               "expected sysctl, thp, hugetlb, postgresql, kernel_cmdline or cgroup");
  }

  /// A recommended value: a TOML number is taken as written, a string is an expression.
  core::Result<Expr> recommend_value(const toml::node& v, const Scope& scope) const {
    if (const auto* i = v.as_integer()) return Expr::parse(std::to_string(i->get()), scope);
    if (const auto* f = v.as_floating_point()) return Expr::parse(format_number(f->get()), scope);
    return expr(v, "value", scope);
  }

  static std::optional<std::string> check_key(RecommendationKind kind, const std::string& key) {
    if (key.empty()) return "expected a non-empty key";
    switch (kind) {
      case RecommendationKind::sysctl:
        if (key.find('.') == std::string::npos || key.find('/') != std::string::npos) {
          return "expected a sysctl name such as vm.swappiness";
        }
        break;
      case RecommendationKind::thp:
        if (key != "enabled" && key != "defrag" && key != "shmem_enabled" &&
            key.rfind("khugepaged/", 0) != 0 && key.rfind("hugepages-", 0) != 0) {
          return "expected enabled, defrag, shmem_enabled, khugepaged/<file> or "
                 "hugepages-<size>kB/<file>";
        }
        break;
      case RecommendationKind::hugetlb:
        if (key.rfind("hugepages-", 0) != 0 || key.size() < 13 ||
            key.substr(key.size() - 2) != "kB") {
          return "expected hugepages-<size>kB, e.g. hugepages-2048kB";
        }
        break;
      case RecommendationKind::cgroup:
        if (key.rfind("memory.", 0) != 0) return "expected a cgroup v2 memory.* file name";
        break;
      case RecommendationKind::postgresql:
      case RecommendationKind::kernel_cmdline:
        break;
    }
    return std::nullopt;
  }

  SourceMap map_;
  std::string path_;
};

}  // namespace

core::Result<std::vector<Rule>> parse_rule_file(std::string_view text, const std::string& path) {
  Loader l(text, path);
  return l.run(text);
}

core::Result<std::vector<Rule>> load_rule_file(const std::filesystem::path& path,
                                               bool follow_links) {
  core::OpenPolicy policy;
  policy.follow_final_link = follow_links;
  policy.max_bytes = kMaxRuleFileBytes;
  auto text = core::read_file(path, path.string(), policy);
  if (!text) return std::move(text).error();
  return parse_rule_file(*text, path.string());
}

namespace {

const char* describe(std::filesystem::file_type t) noexcept {
  using std::filesystem::file_type;
  switch (t) {
    case file_type::directory:
      return "a directory";
    case file_type::fifo:
      return "a FIFO";
    case file_type::socket:
      return "a socket";
    case file_type::block:
      return "a block device";
    case file_type::character:
      return "a character device";
    case file_type::symlink:
      return "a symbolic link";
    case file_type::not_found:
      return "a dangling symbolic link";
    default:
      return "of unknown type";
  }
}

/// The regular *.toml files of rule directory `dir`, sorted; the other *.toml entries are
/// listed in `notes`, sorted too.
core::Result<std::vector<std::filesystem::path>> rule_files(const RuleDir& dir,
                                                            std::vector<std::string>* notes) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<fs::path> files;
  const std::size_t first_note = notes != nullptr ? notes->size() : 0;
  fs::directory_iterator entries(dir.path, ec);
  for (; !ec && entries != fs::directory_iterator(); entries.increment(ec)) {
    const auto& e = *entries;
    if (e.path().extension() != ".toml") continue;
    std::error_code tec;
    const auto type = dir.follow_links ? e.status(tec).type() : e.symlink_status(tec).type();
    if (type == fs::file_type::regular) {
      files.push_back(e.path());
    } else if (notes != nullptr) {
      notes->push_back(e.path().string() + ": skipped: " +
                       (type == fs::file_type::none && tec
                            ? tec.message()
                            : std::string(describe(type)) + ", not a regular file"));
    }
  }
  if (ec) return core::make_error(ErrorKind::io_error, dir.path.string(), ec.message());
  std::sort(files.begin(), files.end());
  if (notes != nullptr) {
    std::sort(notes->begin() + static_cast<std::ptrdiff_t>(first_note), notes->end());
  }
  return files;
}

}  // namespace

core::Result<std::vector<Rule>> load_rule_dirs(const std::vector<RuleDir>& dirs,
                                               std::vector<std::string>* notes) {
  namespace fs = std::filesystem;
  std::vector<Rule> out;
  std::map<std::string, std::pair<std::string, int>> seen;
  for (const auto& dir : dirs) {
    // stat, never open: nothing here can block on a FIFO. opendir() in rule_files() opens with
    // O_DIRECTORY, so a directory swapped for a FIFO in between fails instead of blocking.
    std::error_code ec;
    const auto st = fs::status(dir.path, ec);
    if (st.type() == fs::file_type::not_found) {
      if (dir.optional) continue;
      return core::make_error(ErrorKind::missing, dir.path.string(), "rule directory not found");
    }
    if (ec) return core::make_error(ErrorKind::io_error, dir.path.string(), ec.message());
    if (st.type() != fs::file_type::directory) {
      return core::make_error(
          ErrorKind::invalid_argument, dir.path.string(),
          std::string("refused: ") +
              (st.type() == fs::file_type::regular ? "a regular file" : describe(st.type())) +
              ", not a rule directory");
    }
    auto files = rule_files(dir, notes);
    if (!files) return std::move(files).error();
    for (const auto& f : *files) {
      auto rules = load_rule_file(f, dir.follow_links);
      if (!rules) return std::move(rules).error();
      for (auto& r : *rules) {
        const auto it = seen.find(r.id);
        if (it != seen.end()) {
          return core::make_error(ErrorKind::invalid_argument, r.file,
                                  "duplicate rule id '" + r.id + "' (first defined at " +
                                      it->second.first + ":" + std::to_string(it->second.second) +
                                      ")",
                                  r.line, "id", r.column);
        }
        seen[r.id] = {r.file, r.line};
        out.push_back(std::move(r));
      }
    }
  }
  return out;
}

}  // namespace vmtune::rules
