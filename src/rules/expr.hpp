// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// Rule expressions: a small hand-written recursive-descent parser, a load-time type checker and
// an evaluator over a model::Snapshot (through the metric registry, rules/metrics.hpp).
//
// Grammar (lowest precedence first):
//   expr    := and ('or' and)*
//   and     := not ('and' not)*
//   not     := 'not' not | cmp
//   cmp     := sum (('=='|'!='|'<'|'<='|'>'|'>=') sum)?
//   sum     := product (('+'|'-') product)*
//   product := unary (('*'|'/'|'%') unary)*
//   unary   := '-' unary | primary
//   primary := NUMBER [KiB|MiB|GiB|TiB] | 'string' | "string" | true | false | '(' expr ')'
//            | NAME '(' [expr (',' expr)*] ')' | NAME | `quoted name`
// NAME is letters, digits, '_' and '.', e.g. meminfo.MemTotal; a metric name with other
// characters (meminfo.`Active(file)`, sysctl.vm.page-cluster) is written in backticks.
// Functions: min, max, clamp(x, lo, hi), round_to(x, m), ceil_to(x, m), floor_to(x, m),
// ceil, floor, round, abs, sqrt, rate(counter), has(expr), if(cond, a, b).
//
// `and`, `or` and `if` evaluate lazily, so `has(x) and x > 5` is safe when x is missing.
// A missing metric anywhere else makes the whole expression missing, with the metric's reason.
//
// Rule files are untrusted input, so an expression is bounded when it is parsed, before anything
// recurses over it: at most kMaxExprDepth levels of nesting and kMaxExprSize operands and
// operators (man 5 vmtune-rules, EXPRESSIONS, Limits). Chains of one operator (a + b - c,
// a and b and c) are one node with many operands, so width never becomes depth. A [rule.let]
// binding is evaluated once per LetMemo (once per sample in the engine), however often it is
// used.

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/result.hpp"
#include "rules/value.hpp"

namespace vmtune::rules {

struct EvalContext;  // rules/metrics.hpp
struct Node;

/// Most levels of nesting in one expression. Each pair of parentheses, function call, `not` and
/// unary '-' adds a level, and a [rule.let] name counts as its expression in parentheses. The
/// deepest catalogue expression has 9 levels (kernel_default in rules/watermarks.toml).
inline constexpr int kMaxExprDepth = 64;
/// Most operands and operators in one expression text: every number, string, name, function
/// call and operator counts one. The largest catalogue expression has 26.
inline constexpr int kMaxExprSize = 1000;

/// Names an expression may use besides metrics: the rule's named constants.
class Expr;
struct Scope {
  const std::map<std::string, Value>* constants = nullptr;
  /// False for constant definitions: only literals and earlier constants are allowed.
  bool allow_metrics = true;
  /// Named sub-expressions ([rule.let]) usable by name, evaluated once per LetMemo.
  const std::map<std::string, Expr>* lets = nullptr;
};

/// The values of the [rule.let] bindings already computed against one EvalContext, so each
/// binding is evaluated once however many expressions use it and however often. Valid for that
/// one context (one snapshot, profile and configuration) only: use a new memo for another.
class LetMemo {
 public:
  LetMemo() = default;
  /// Number of bindings computed so far.
  std::size_t size() const noexcept { return values_.size(); }

 private:
  friend class Expr;
  std::unordered_map<const Node*, Eval> values_;
};

class Expr {
 public:
  Expr() = default;
  /// Parses and type-checks `text`. Errors name line 1 and the 1-based column inside `text`
  /// (the loader maps them to the rule file's line and column), and what was expected. An
  /// expression deeper than kMaxExprDepth or larger than kMaxExprSize is an error at the token
  /// that crosses the limit; parsing stops there, so no input can exhaust the stack.
  static core::Result<Expr> parse(std::string_view text, const Scope& scope);

  const std::string& text() const noexcept { return text_; }
  Type type() const noexcept { return type_; }
  bool empty() const noexcept { return root_ == nullptr; }
  /// Nesting depth, counting the depth of the lets it uses (1 for `a + b`, at most
  /// kMaxExprDepth).
  int depth() const noexcept { return depth_; }
  /// Operands and operators in the text (at most kMaxExprSize).
  int size() const noexcept { return size_; }
  /// Evaluates against a snapshot. Never throws; a missing metric gives Eval::absent. Each let
  /// used is evaluated once for this call.
  Eval evaluate(const EvalContext& ctx) const;
  /// Same, reusing and filling `memo` for the lets: pass one memo to every expression of a rule
  /// evaluated against the same `ctx` and each let is evaluated once for all of them.
  Eval evaluate(const EvalContext& ctx, LetMemo& memo) const;
  /// Evaluates a condition: a boolean, or missing with the reason, also when a value whose type
  /// is known only at run time is not a boolean ("sysctl.vm.swappiness is '60', not a boolean").
  Eval evaluate_condition(const EvalContext& ctx, LetMemo& memo) const;
  /// The parsed tree, shared by expressions that use this one by name.
  const std::shared_ptr<const Node>& root() const noexcept { return root_; }

 private:
  std::string text_;
  Type type_ = Type::any;
  int depth_ = 0;
  int size_ = 0;
  std::shared_ptr<const Node> root_;
};

}  // namespace vmtune::rules
