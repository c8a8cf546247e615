// SPDX-License-Identifier: GPL-2.0-or-later
// Rule expressions generated from a grammar driven by the fuzzer's bytes, so that the shapes a
// byte-level fuzzer never reaches are explored: nesting past kMaxExprDepth, chains past
// kMaxExprSize, [rule.let] bindings that use each other (doubling chains that are exponential
// without memoisation, and chains deeper than the limit), function calls with right and wrong
// arity, strings, comparisons, and/or/not, type mismatches and a few stray bytes. Each
// expression is parsed and evaluated on a small fixed snapshot, directly and, for some inputs,
// inside a rule file through the loader and the engine.
//
// Checked: no crash, no stack overflow, no hang; a parse error is on line 1 at a column inside
// the text; a parsed expression is within the limits; evaluation is deterministic, with or
// without a shared LetMemo; a boolean (number) expression evaluates to a boolean (number); the
// engine's evidence for the expression is what direct evaluation gives.
#include <fuzzer/FuzzedDataProvider.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "model/derive.hpp"
#include "rules/engine.hpp"
#include "rules/expr.hpp"
#include "rules/loader.hpp"
#include "rules/metrics.hpp"

namespace vmtune::rules {
namespace {

// ----------------------------------------------------------------------------------------------
// The fixed world: a snapshot of two samples 10 s apart, and the names the grammar may use.

model::Sample sample(std::uint64_t scanned, double at) {
  model::Sample s;
  s.monotonic_s = at;
  s.meminfo.state = model::SourceState::ok;
  s.meminfo.value = model::MemInfo{{{"MemTotal", 16ull << 30},
                                    {"MemAvailable", 8ull << 30},
                                    {"MemFree", 2ull << 30},
                                    {"Active(file)", 1ull << 30},
                                    {"SwapTotal", 0},
                                    {"SwapFree", 0},
                                    {"PageTables", 64ull << 20}}};
  s.vmstat.state = model::SourceState::ok;
  s.vmstat.value = model::VmStat{{{"pgscan_direct", scanned},
                                  {"pgfault", scanned * 7},
                                  {"allocstall_normal", scanned / 100},
                                  {"nr_free_pages", 524288}}};
  s.sysctl.state = model::SourceState::ok;
  s.sysctl.value = model::Sysctl{{{"vm.swappiness", "60"},
                                  {"vm.dirty_ratio", "20"},
                                  {"vm.page-cluster", "3"},
                                  {"vm.overcommit_memory", "abc"},
                                  {"vm.lowmem_reserve_ratio", "256\t256\t32\t0\t0"}}};
  s.thp.state = model::SourceState::ok;
  s.thp.value = model::Thp{};
  s.thp.value->enabled = "madvise";
  s.thp.value->defrag = "never";
  s.psi.state = model::SourceState::missing;
  s.psi.error = core::make_error(core::ErrorKind::missing, "/proc/pressure/memory",
                                 "No such file or directory");
  return s;
}

struct World {
  model::Snapshot snap = model::make_snapshot(sample(5000, 110), sample(1000, 100));
  std::map<std::string, Value> constants{{"limit", 10.0}, {"mode", std::string("never")}};
  std::vector<std::string> names[4];  // by Type: number, boolean, string, any
  std::vector<std::string> counters = {"vmstat.pgscan_direct", "vmstat.pgfault",
                                       "vmstat.nr_free_pages", "psi.some.total"};

  World() {
    std::vector<std::string> candidates = {"meminfo.MemTotal",
                                           "meminfo.MemAvailable",
                                           "meminfo.SwapTotal",
                                           "meminfo.`Active(file)`",
                                           "meminfo.Dirty",
                                           "meminfo.PageTables",
                                           "vmstat.pgscan_direct",
                                           "vmstat.nr_free_pages",
                                           "vmstat.absent_counter",
                                           "psi.some.avg10",
                                           "psi.full.avg60",
                                           "sysctl.vm.swappiness",
                                           "sysctl.vm.dirty_ratio",
                                           "sysctl.`vm.page-cluster`",
                                           "sysctl.vm.overcommit_memory",
                                           "sysctl.vm.lowmem_reserve_ratio",
                                           "sysctl.vm.absent",
                                           "thp.enabled",
                                           "thp.defrag",
                                           "config.profile"};
    for (const auto& d : derived_metrics()) candidates.push_back(d);
    for (const auto& c : candidates) {
      std::string plain;
      for (char ch : c) {
        if (ch != '`') plain += ch;
      }
      auto m = lookup_metric(plain);
      if (m) names[static_cast<int>(m->type)].push_back(c);
    }
    for (int t = 0; t < 4; ++t) {
      if (names[t].empty()) names[t].push_back(t == 1 ? "true" : t == 2 ? "'x'" : "1");
    }
  }
};

const World& world() {
  static const World w;
  return w;
}

// ----------------------------------------------------------------------------------------------
// The generator.

struct Let {
  std::string name;
  Type type;
};

class Gen {
 public:
  Gen(FuzzedDataProvider& in, const std::vector<Let>& lets, long budget)
      : in_(in), lets_(lets), budget_(budget) {}

  std::string expr(Type want, int depth) {
    if (budget_ <= 0 || depth > kMaxGenDepth || in_.remaining_bytes() == 0) return leaf(want);
    // Now and then, the wrong type or a stray token: type and syntax errors.
    const auto roll = in_.ConsumeIntegral<std::uint8_t>();
    if (roll == 0) return stray();
    if (roll < 8) want = static_cast<Type>(roll % 4);
    switch (want) {
      case Type::number:
        return number(depth);
      case Type::boolean:
        return boolean(depth);
      case Type::string:
        return string(depth);
      case Type::any:
        return in_.ConsumeBool() ? number(depth) : boolean(depth);
    }
    return leaf(want);
  }

 private:
  static constexpr int kMaxGenDepth = 12;

  std::string emit(std::string s) {
    budget_ -= static_cast<long>(s.size());
    return s;
  }

  std::string leaf(Type want) {
    const World& w = world();
    if (want == Type::boolean) return emit(in_.ConsumeBool() ? "true" : "false");
    if (want == Type::string) return emit(quoted());
    if (auto l = let_of(want)) return emit(*l);
    if (in_.ConsumeBool()) return emit(pick(w.names[static_cast<int>(Type::number)]));
    return emit(literal());
  }

  std::optional<std::string> let_of(Type want) {
    if (lets_.empty() || !in_.ConsumeBool()) return std::nullopt;
    // Prefer recent lets: they are the deep and the doubling ones.
    const std::size_t back = in_.ConsumeIntegralInRange<std::size_t>(0, lets_.size() - 1) % 4;
    const Let& l = lets_[lets_.size() - 1 - std::min(back, lets_.size() - 1)];
    if (l.type == want || l.type == Type::any || want == Type::any) return l.name;
    return std::nullopt;
  }

  template <typename T>
  const T& pick(const std::vector<T>& v) {
    return v[in_.ConsumeIntegralInRange<std::size_t>(0, v.size() - 1)];
  }

  std::string literal() {
    switch (in_.ConsumeIntegralInRange(0, 7)) {
      case 0:
        return std::to_string(in_.ConsumeIntegral<std::uint32_t>());
      case 1:
        return std::to_string(in_.ConsumeIntegralInRange(0, 999)) + "." +
               std::to_string(in_.ConsumeIntegralInRange(0, 999));
      case 2:
        return std::to_string(in_.ConsumeIntegralInRange(1, 9)) + "e" +
               std::to_string(in_.ConsumeIntegralInRange(-320, 320));
      case 3:
        return "1_000_000";
      case 4: {
        static const char* const kUnits[] = {"KiB", "MiB", "GiB", "TiB"};
        return std::to_string(in_.ConsumeIntegralInRange(0, 4096)) +
               kUnits[in_.ConsumeIntegralInRange(0, 3)];
      }
      case 5:
        return ".5";
      case 6:
        return "limit";
      default:
        return "0";
    }
  }

  std::string quoted() {
    std::string body;
    const auto n = in_.ConsumeIntegralInRange(0, 12);
    for (int i = 0; i < n; ++i) {
      const char c = static_cast<char>(in_.ConsumeIntegralInRange(0x20, 0x7e));
      if (c != '\'') body += c;
    }
    return "'" + body + "'";
  }

  std::string stray() {
    // ASCII only: a rule file must be UTF-8, so other bytes would fail only the file path.
    static const char* const kStray[] = {"=",       "#",    "`",    ",",   ")",     "(",
                                         "and",     "not",  "\"",   "'",   "1.2.3", "12XB",
                                         "rate(1)", "min(", "\x01", "\x7f"};
    return emit(kStray[in_.ConsumeIntegralInRange<std::size_t>(0, std::size(kStray) - 1)]);
  }

  // `first (op next)*` with n operands; wide when the input asks for it.
  std::string chain(int depth, Type operand, const std::vector<const char*>& ops) {
    const int n = in_.ConsumeIntegral<std::uint8_t>() < 192 ? in_.ConsumeIntegralInRange(2, 5)
                                                            : in_.ConsumeIntegralInRange(2, 1200);
    std::string s = expr(operand, depth + 1);
    for (int i = 1; i < n && budget_ > 0; ++i) {
      s += emit(std::string(" ") + pick(ops) + " ");
      s += expr(operand, depth + 1);
    }
    return s;
  }

  // `k` levels of one wrapper around one inner expression, k up to twice the limit.
  std::string deep(int depth, Type want) {
    const int k = in_.ConsumeIntegralInRange(1, 2 * kMaxExprDepth + 8);
    std::string open;
    std::string close;
    const int kind = in_.ConsumeIntegralInRange(0, 5);
    for (int i = 0; i < k && budget_ > 0; ++i) {
      static const char* const kBool[][2] = {{"(", ")"}, {"not ", ""}, {"if(true, ", ", false)"}};
      static const char* const kNum[][2] = {
          {"(", ")"},    {"-", ""}, {"abs(", ")"}, {"min(1, ", ")"}, {"if(1 < 2, ", ", 0)"},
          {"(1 + ", ")"}};
      const auto& wrap = want == Type::boolean ? kBool[kind % 3] : kNum[kind];
      open += emit(wrap[0]);
      close += emit(wrap[1]);
    }
    return open + expr(want, depth + 1) + close;
  }

  std::string call(int depth) {
    static const std::vector<std::pair<const char*, int>> kFns = {
        {"min", -1}, {"max", -1},  {"clamp", 3}, {"round_to", 2}, {"ceil_to", 2}, {"floor_to", 2},
        {"ceil", 1}, {"floor", 1}, {"round", 1}, {"abs", 1},      {"sqrt", 1}};
    const auto& [name, arity] = pick(kFns);
    int n = arity < 0 ? in_.ConsumeIntegralInRange(2, 6) : arity;
    if (in_.ConsumeIntegral<std::uint8_t>() < 8) n = in_.ConsumeIntegralInRange(0, 4);  // wrong
    std::string s = emit(std::string(name) + "(");
    for (int i = 0; i < n; ++i) {
      if (i > 0) s += emit(", ");
      s += expr(Type::number, depth + 1);
    }
    return s + emit(")");
  }

  std::string number(int depth) {
    const World& w = world();
    switch (in_.ConsumeIntegralInRange(0, 10)) {
      case 0:
        return emit(literal());
      case 1:
        return emit(pick(w.names[static_cast<int>(Type::number)]));
      case 2:
        return emit(pick(w.names[static_cast<int>(Type::any)]));
      case 3:
        return emit("-") + expr(Type::number, depth + 1);
      case 4:
        return emit("(") + expr(Type::number, depth + 1) + emit(")");
      case 5:
        return chain(depth, Type::number, {"+", "-", "*", "/", "%"});
      case 6:
        return call(depth);
      case 7:
        return emit("if(") + expr(Type::boolean, depth + 1) + emit(", ") +
               expr(Type::number, depth + 1) + emit(", ") + expr(Type::number, depth + 1) +
               emit(")");
      case 8:
        return emit("rate(" + pick(w.counters) + ")");
      case 9:
        return deep(depth, Type::number);
      default: {
        if (auto l = let_of(Type::number)) return emit(*l);
        return emit(literal());
      }
    }
  }

  std::string boolean(int depth) {
    static const std::vector<const char*> kCmp = {"==", "!=", "<", "<=", ">", ">="};
    const World& w = world();
    switch (in_.ConsumeIntegralInRange(0, 10)) {
      case 0:
        return emit(in_.ConsumeBool() ? "true" : "false");
      case 1:
        return expr(Type::number, depth + 1) + emit(std::string(" ") + pick(kCmp) + " ") +
               expr(Type::number, depth + 1);
      case 2:
        return expr(Type::string, depth + 1) + emit(std::string(" ") + pick(kCmp) + " ") +
               expr(Type::string, depth + 1);
      case 3:
        return emit("not ") + expr(Type::boolean, depth + 1);
      case 4:
        return chain(depth, Type::boolean, {in_.ConsumeBool() ? "and" : "or"});
      case 5:
        return chain(depth, Type::boolean, {"and", "or"});
      case 6:
        return emit("has(") + expr(Type::any, depth + 1) + emit(")");
      case 7:
        return emit("(") + expr(Type::boolean, depth + 1) + emit(")");
      case 8:
        return emit("if(") + expr(Type::boolean, depth + 1) + emit(", ") +
               expr(Type::boolean, depth + 1) + emit(", ") + expr(Type::boolean, depth + 1) +
               emit(")");
      case 9:
        return deep(depth, Type::boolean);
      default: {
        if (auto l = let_of(Type::boolean)) return emit(*l);
        return emit(pick(w.names[static_cast<int>(Type::boolean)]));
      }
    }
  }

  std::string string(int depth) {
    const World& w = world();
    switch (in_.ConsumeIntegralInRange(0, 4)) {
      case 0:
        return emit(quoted());
      case 1:
        return emit(pick(w.names[static_cast<int>(Type::string)]));
      case 2:
        return emit("mode");
      case 3:
        return emit("if(") + expr(Type::boolean, depth + 1) + emit(", ") +
               expr(Type::string, depth + 1) + emit(", ") + expr(Type::string, depth + 1) +
               emit(")");
      default:
        return emit("\"" + std::string(in_.ConsumeBool() ? "never" : "") + "\"");
    }
  }

  FuzzedDataProvider& in_;
  const std::vector<Let>& lets_;
  long budget_;  ///< characters left; keeps one input fast
};

// ----------------------------------------------------------------------------------------------
// Checks.

[[noreturn]] void fail(const char* what, const std::string& text) {
  std::fprintf(stderr, "rule_expr_fuzz: %s\n  expression: %.400s\n", what, text.c_str());
  std::abort();
}

bool same(const Eval& a, const Eval& b) {
  if (a.ok() != b.ok()) return false;
  if (!a.ok()) return a.missing == b.missing;
  if (a.value->index() != b.value->index()) return false;
  if (const auto* x = std::get_if<double>(&*a.value)) {
    const double y = std::get<double>(*b.value);
    return (std::isnan(*x) && std::isnan(y)) || *x == y;
  }
  return *a.value == *b.value;
}

void check_parse_error(const core::Error& e, const std::string& text) {
  if (e.line != 1 || e.column < 1 || static_cast<std::size_t>(e.column) > text.size() + 1 ||
      e.message.empty()) {
    fail("parse error outside the text", text);
  }
}

void check_value(const Expr& e, const Eval& v, const std::string& text) {
  if (!v.ok()) {
    if (v.missing.empty()) fail("missing value without a reason", text);
    return;
  }
  if (e.type() == Type::boolean && !std::holds_alternative<bool>(*v.value)) {
    fail("boolean expression gave a non-boolean", text);
  }
  if (e.type() == Type::number && !std::holds_alternative<double>(*v.value)) {
    fail("number expression gave a non-number", text);
  }
  if (e.type() == Type::string && !std::holds_alternative<std::string>(*v.value)) {
    fail("string expression gave a non-string", text);
  }
}

std::string toml_basic(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

// The deepest trees the limits allow, checked once under the sanitizers before fuzzing: each
// must parse and evaluate (no stack overflow at the limit), and one level more must not parse.
void check_worst_cases() {
  const World& w = world();
  const EvalContext ctx{w.snap, "database", std::nullopt};
  std::map<std::string, Expr> lets;
  const Scope scope{&w.constants, true, &lets};
  const auto must = [&](const std::string& text, bool parses) {
    auto e = Expr::parse(text, scope);
    if (e.ok() != parses) fail(parses ? "worst case refused" : "beyond the limit accepted", text);
    if (e && !e->evaluate(ctx).ok()) fail("worst case did not evaluate", text);
  };
  const int k = kMaxExprDepth - 1;  // nesting tokens below the top level
  // Three tree levels (sum, product, unary) per nesting level, plus a paren level.
  const auto sum_levels = [&](int n) {
    return repeat("1 + 2 * -(", n / 2) + "meminfo.MemTotal" + repeat(")", n / 2);
  };
  must(sum_levels(k - 1), true);
  must(sum_levels(k + 1), false);
  must(repeat("(false or true and ", k) + "true" + repeat(")", k), true);
  must(repeat("(false or true and ", k + 1) + "true" + repeat(")", k + 1), false);
  must(repeat("not (false or true and ", k / 2) + "true" + repeat(")", k / 2), true);
  must(repeat("if(true, ", k) + "1" + repeat(", 0)", k), true);
  must(repeat("if(true, ", k + 1) + "1" + repeat(", 0)", k + 1), false);
  // A chain of lets as deep as allowed, each level using the one below twice.
  lets.emplace("d0", *Expr::parse("meminfo.MemTotal", scope));
  for (int i = 1; i < kMaxExprDepth; ++i) {
    const std::string prev = "d" + std::to_string(i - 1);
    auto e = Expr::parse(prev + " + 2 * " + prev, scope);
    if (!e) fail("let chain refused", e.error().message);
    lets.emplace("d" + std::to_string(i), std::move(*e));
  }
  must("d" + std::to_string(kMaxExprDepth - 2) + " > 0", true);
  must("(d" + std::to_string(kMaxExprDepth - 1) + ")", false);
  // The widest chains.
  must("1" + repeat(" + 1", kMaxExprSize / 2 - 1), true);
  must("true" + repeat(" and true", kMaxExprSize / 2 - 1), true);
  must("1" + repeat(" + 1", kMaxExprSize / 2), false);
}

}  // namespace
}  // namespace vmtune::rules

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  vmtune::rules::check_worst_cases();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace vmtune::rules;
  FuzzedDataProvider in(data, size);
  const World& w = world();
  const bool through_file = in.ConsumeIntegral<std::uint8_t>() < 64;  // one in four
  const Type top = in.ConsumeBool() ? Type::boolean : Type::number;

  // Lets, each able to use the ones before it. Doubling (l(k) = l(k-1) + l(k-1)) and stacking
  // (l(k) = l(k-1) + 1) chains reach 2^n work without memoisation and cross the depth limit.
  std::map<std::string, Expr> lets;
  std::vector<Let> order;
  std::vector<std::string> let_texts;
  const Scope scope{&w.constants, true, &lets};
  const int n_lets = in.ConsumeIntegralInRange(0, 80);
  for (int i = 0; i < n_lets && in.remaining_bytes() > 0; ++i) {
    std::string text;
    const auto prev = order.empty() ? std::string() : order.back().name;
    switch (prev.empty() ? 2 : in.ConsumeIntegralInRange(0, 3)) {
      case 0:
        text = prev + " + " + prev;
        break;
      case 1:
        text = prev + (order.back().type == Type::boolean ? " and true" : " + 1");
        break;
      default: {
        Gen g(in, order, 512);
        text = g.expr(in.ConsumeBool() ? Type::number : Type::boolean, 0);
      }
    }
    auto e = Expr::parse(text, scope);
    if (!e) {
      check_parse_error(e.error(), text);
      continue;
    }
    if (e->depth() > kMaxExprDepth || e->size() > kMaxExprSize) fail("let beyond limits", text);
    const std::string name = "l" + std::to_string(i);
    order.push_back({name, e->type()});
    let_texts.push_back(text);
    lets.emplace(name, std::move(*e));
  }

  Gen g(in, order, 8 * 1024);  // enough to cross kMaxExprSize
  const std::string text = g.expr(top, 0);
  // RULE_EXPR_FUZZ_PRINT=1 shows what an input generates (to read a reproducer).
  static const bool print = std::getenv("RULE_EXPR_FUZZ_PRINT") != nullptr;
  if (print) {
    for (std::size_t i = 0; i < order.size(); ++i) {
      std::fprintf(stderr, "let %s = %.300s\n", order[i].name.c_str(), let_texts[i].c_str());
    }
    std::fprintf(stderr, "expr (%zu bytes) = %.600s\n", text.size(), text.c_str());
  }
  const EvalContext ctx{w.snap, "database", 16.0 * (1ull << 30)};
  auto e = Expr::parse(text, scope);
  if (print) {
    std::fprintf(
        stderr, "=> %s\n",
        e ? ("depth " + std::to_string(e->depth()) + ", size " + std::to_string(e->size()) + ": " +
             [&] {
               const auto v = e->evaluate(ctx);
               return v.ok() ? to_text(*v.value) : "missing: " + v.missing;
             }())
                .c_str()
          : e.error().to_string().c_str());
  }
  std::optional<Eval> direct;
  if (!e) {
    check_parse_error(e.error(), text);
  } else {
    if (e->depth() > kMaxExprDepth || e->size() > kMaxExprSize) fail("beyond limits", text);
    const Eval fresh = e->evaluate(ctx);
    LetMemo memo;
    const Eval memoised = e->evaluate(ctx, memo);
    const Eval again = e->evaluate(ctx, memo);
    if (!same(fresh, memoised) || !same(memoised, again))
      fail("evaluation not deterministic", text);
    if (memo.size() > lets.size()) fail("memo holds more than the lets", text);
    check_value(*e, fresh, text);
    direct = fresh;
  }

  if (through_file) {
    // The same lets and expression in a rule file: evidence must match direct evaluation.
    std::string file =
        "[[rule]]\nid = \"F-1\"\ntitle = \"t\"\nseverity = \"info\"\nrationale = \"r\"\n"
        "when = \"true\"\n[rule.constants]\nlimit = 10\nmode = \"'never'\"\n[rule.let]\n";
    for (std::size_t i = 0; i < order.size(); ++i) {
      file += order[i].name + " = " + toml_basic(let_texts[i]) + "\n";
    }
    file += "[[rule.evidence]]\nname = \"e\"\nexpr = " + toml_basic(text) + "\n";
    auto rules = parse_rule_file(file, "rules/fuzz.toml");
    if (!rules) {
      const auto& err = rules.error();
      if (err.path != "rules/fuzz.toml" || err.line < 1 || err.column < 1) {
        fail("rule file error without a position", text);
      }
      if (direct) fail("expression parsed directly but not in a rule file", text);
    } else {
      if (!direct) fail("expression parsed in a rule file but not directly", text);
      const Engine engine(std::move(*rules));
      vmtune::rules::Config config;
      config.profile = "database";
      config.db_reserved_bytes = 16ull << 30;
      const auto ev = engine.evaluate(w.snap, config);
      if (ev.findings.size() != 1 || ev.findings[0].evidence.size() != 1) {
        fail("rule with when = true gave no finding", text);
      }
      const auto& shown = ev.findings[0].evidence[0].text;
      const std::string want =
          direct->ok() ? to_text(*direct->value) : "unavailable: " + direct->missing;
      if (shown != want) fail("engine evidence differs from direct evaluation", text);
    }
  }

  if (through_file && e && (e->type() == Type::boolean || e->type() == Type::any)) {
    // The expression as a condition (when, severity_if, only_if): the engine must agree with
    // evaluate_condition, also when a run-time-typed value is not a boolean.
    std::string file =
        "[[rule]]\nid = \"F-2\"\ntitle = \"t\"\nseverity = \"info\"\nrationale = \"r\"\n"
        "when = " +
        toml_basic(text) + "\n[rule.constants]\nlimit = 10\nmode = \"'never'\"\n[rule.let]\n";
    for (std::size_t i = 0; i < order.size(); ++i) {
      file += order[i].name + " = " + toml_basic(let_texts[i]) + "\n";
    }
    file += "[[rule.severity_if]]\nwhen = " + toml_basic(text) +
            "\nseverity = \"critical\"\n[[rule.recommend]]\nkind = \"sysctl\"\n"
            "key = \"vm.swappiness\"\nvalue = 1\nonly_if = " +
            toml_basic(text) + "\n";
    auto rules = parse_rule_file(file, "rules/fuzz.toml");
    if (!rules) fail("condition parsed directly but not in a rule file", text);
    const Engine engine(std::move(*rules));
    vmtune::rules::Config config;
    config.profile = "database";
    config.db_reserved_bytes = 16ull << 30;
    const auto ev = engine.evaluate(w.snap, config);
    LetMemo memo;
    const Eval cond = e->evaluate_condition(ctx, memo);
    if (cond.ok() && !std::holds_alternative<bool>(*cond.value)) {
      fail("evaluate_condition gave a non-boolean", text);
    }
    if (!cond.ok()) {
      if (ev.not_evaluated.size() != 1 || ev.not_evaluated[0].reason != cond.missing) {
        fail("missing condition: rule not reported as not evaluated with the reason", text);
      }
    } else if (std::get<bool>(*cond.value)) {
      if (ev.findings.size() != 1 || ev.findings[0].severity != Severity::critical ||
          ev.findings[0].recommendations.size() != 1) {
        fail("true condition: no critical finding with its recommendation", text);
      }
    } else if (!ev.findings.empty() || !ev.not_evaluated.empty()) {
      fail("false condition gave a finding", text);
    }
  }
  return 0;
}
