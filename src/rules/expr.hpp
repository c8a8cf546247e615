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

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "rules/value.hpp"

namespace vmtune::rules {

struct EvalContext;  // rules/metrics.hpp
struct Node;

/// Names an expression may use besides metrics: the rule's named constants.
class Expr;
struct Scope {
  const std::map<std::string, Value>* constants = nullptr;
  /// False for constant definitions: only literals and earlier constants are allowed.
  bool allow_metrics = true;
  /// Named sub-expressions ([rule.let]) usable by name, evaluated where they are used.
  const std::map<std::string, Expr>* lets = nullptr;
};

class Expr {
 public:
  Expr() = default;
  /// Parses and type-checks `text`. Errors name line 1 and the 1-based column inside `text`
  /// (the loader maps them to the rule file's line and column), and what was expected.
  static core::Result<Expr> parse(std::string_view text, const Scope& scope);

  const std::string& text() const noexcept { return text_; }
  Type type() const noexcept { return type_; }
  bool empty() const noexcept { return root_ == nullptr; }
  /// Evaluates against a snapshot. Never throws; a missing metric gives Eval::absent.
  Eval evaluate(const EvalContext& ctx) const;
  /// The parsed tree, shared by expressions that use this one by name.
  const std::shared_ptr<const Node>& root() const noexcept { return root_; }

 private:
  std::string text_;
  Type type_ = Type::any;
  std::shared_ptr<const Node> root_;
};

}  // namespace vmtune::rules
