// SPDX-License-Identifier: GPL-2.0-or-later
#include "rules/expr.hpp"

#include <fmt/format.h>
#include <fmt/printf.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <initializer_list>
#include <memory>
#include <unordered_map>
#include <utility>
#include <vector>

#include "rules/metrics.hpp"

namespace vmtune::rules {

const char* to_string(Type t) noexcept {
  switch (t) {
    case Type::number:
      return "number";
    case Type::boolean:
      return "boolean";
    case Type::string:
      return "string";
    case Type::any:
      return "any";
  }
  return "any";
}

std::string format_number(double x) {
  if (std::isnan(x)) return "nan";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  if (std::fabs(x) < 9.0e15 && x == std::floor(x)) return fmt::sprintf("%.0f", x);
  if (std::fabs(x) >= 1e15) return fmt::sprintf("%.6g", x);
  std::string s = fmt::sprintf("%.4f", x);
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  if (s == "0" || s == "-0") return fmt::sprintf("%.3g", x);  // very small: significant digits
  return s;
}

std::string to_text(const Value& v) {
  if (const auto* d = std::get_if<double>(&v)) return format_number(*d);
  if (const auto* b = std::get_if<bool>(&v)) return *b ? "true" : "false";
  return std::get<std::string>(v);
}

std::optional<double> parse_number(const std::string& text) noexcept {
  std::size_t b = 0;
  std::size_t e = text.size();
  while (b < e && std::isspace(static_cast<unsigned char>(text[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(text[e - 1]))) --e;
  if (b == e) return std::nullopt;
  const std::string t = text.substr(b, e - b);
  char* end = nullptr;
  const double v = std::strtod(t.c_str(), &end);
  if (end != t.c_str() + t.size() || std::isnan(v) || std::isinf(v)) return std::nullopt;
  // strtod accepts hex and "inf"; sysctl text never needs those.
  for (char c : t) {
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '+' ||
          c == 'e' || c == 'E')) {
      return std::nullopt;
    }
  }
  return v;
}

// ----------------------------------------------------------------------------------------------
// AST

// A tree whose height is bounded by the parser (kMaxExprDepth levels, a few nodes per level):
// evaluating it and destroying it recurse no deeper than that.
struct Node {
  // chain: `args[0] ops[0] args[1] ops[1] args[2] ...` of one precedence level (+ -, * / %, and,
  // or), evaluated left to right: a wide expression is a wide node, not a deep tree.
  enum class Kind { literal, metric, unary, binary, chain, call, ref };
  Kind kind = Kind::literal;
  std::size_t offset = 0;  ///< where it starts in the expression text
  Type type = Type::any;
  Value literal;
  MetricRef metric;
  std::string op;                ///< operator or function name; "and"/"or" for boolean chains
  std::vector<std::string> ops;  ///< chain: the operator before each of args[1..]
  std::vector<std::unique_ptr<Node>> args;
  std::shared_ptr<const Node> ref;  ///< a named sub-expression ([rule.let])
  std::string ref_text;             ///< ref: the let's expression text, for messages
};

namespace {

using core::ErrorKind;
using NodePtr = std::unique_ptr<Node>;

// ----------------------------------------------------------------------------------------------
// Tokens

enum class Tok { end, number, string, name, op, lparen, rparen, comma };

struct Token {
  Tok kind = Tok::end;
  std::size_t offset = 0;
  std::string text;  ///< name, string contents, operator, or number spelling
  double number = 0;
};

class Lexer {
 public:
  explicit Lexer(std::string_view s) : s_(s) {}

  // Returns false with error_ set on a bad character.
  bool next(Token& t) {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
    t = Token{};
    t.offset = pos_;
    if (pos_ >= s_.size()) return true;
    const char c = s_[pos_];
    if (std::isdigit(static_cast<unsigned char>(c)) ||
        (c == '.' && pos_ + 1 < s_.size() &&
         std::isdigit(static_cast<unsigned char>(s_[pos_ + 1])))) {
      return lex_number(t);
    }
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') return lex_name(t);
    if (c == '`') return lex_quoted_name(t);
    if (c == '\'' || c == '"') {
      const auto close = s_.find(c, pos_ + 1);
      if (close == std::string_view::npos) {
        return fail(pos_, std::string("unterminated string: expected a closing ") + c);
      }
      t.kind = Tok::string;
      t.text = std::string(s_.substr(pos_ + 1, close - pos_ - 1));
      pos_ = close + 1;
      return true;
    }
    if (c == '(') return single(t, Tok::lparen);
    if (c == ')') return single(t, Tok::rparen);
    if (c == ',') return single(t, Tok::comma);
    static const char* const kTwo[] = {"==", "!=", "<=", ">="};
    for (const char* op : kTwo) {
      if (s_.substr(pos_, 2) == op) {
        t.kind = Tok::op;
        t.text = op;
        pos_ += 2;
        return true;
      }
    }
    if (std::string_view("+-*/%<>").find(c) != std::string_view::npos) {
      t.kind = Tok::op;
      t.text = std::string(1, c);
      ++pos_;
      return true;
    }
    if (c == '=') return fail(pos_, "expected '==' for comparison, got '='");
    std::string shown(1, c);
    if (!std::isprint(static_cast<unsigned char>(c))) {
      shown = fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
    }
    return fail(pos_, "unexpected character '" + shown + "'");
  }

  std::size_t error_offset = 0;
  std::string error;

 private:
  bool single(Token& t, Tok k) {
    t.kind = k;
    t.text = std::string(1, s_[pos_]);
    ++pos_;
    return true;
  }
  bool fail(std::size_t at, std::string msg) {
    error_offset = at;
    error = std::move(msg);
    return false;
  }
  // A name, which may hold `quoted` parts.
  bool lex_name(Token& t) {
    std::size_t e = pos_;
    while (e < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[e])) || s_[e] == '_' ||
                             s_[e] == '.' || s_[e] == '`')) {
      if (s_[e] == '`') {  // a quoted part inside a name: meminfo.`Active(file)`
        const auto close = s_.find('`', e + 1);
        if (close == std::string_view::npos) return fail(e, "unterminated ` quote");
        e = close + 1;
        continue;
      }
      ++e;
    }
    t.kind = Tok::name;
    for (std::size_t i = pos_; i < e; ++i) {
      if (s_[i] != '`') t.text += s_[i];
    }
    pos_ = e;
    return true;
  }
  // A name that starts with a `quoted` part.
  bool lex_quoted_name(Token& t) {
    const auto close = s_.find('`', pos_ + 1);
    if (close == std::string_view::npos) return fail(pos_, "unterminated ` quote");
    std::size_t e = close + 1;
    t.kind = Tok::name;
    t.text = std::string(s_.substr(pos_ + 1, close - pos_ - 1));
    // A name may continue after the quote: `sysctl.vm`.x is unusual but harmless.
    while (e < s_.size() &&
           (std::isalnum(static_cast<unsigned char>(s_[e])) || s_[e] == '_' || s_[e] == '.')) {
      t.text += s_[e++];
    }
    if (t.text.empty()) return fail(pos_, "empty ` quoted name");
    pos_ = e;
    return true;
  }
  bool lex_number(Token& t) {
    std::size_t e = pos_;
    while (e < s_.size() &&
           (std::isdigit(static_cast<unsigned char>(s_[e])) || s_[e] == '.' || s_[e] == '_')) {
      ++e;
    }
    if (e < s_.size() && (s_[e] == 'e' || s_[e] == 'E')) {
      std::size_t k = e + 1;
      if (k < s_.size() && (s_[k] == '+' || s_[k] == '-')) ++k;
      if (k < s_.size() && std::isdigit(static_cast<unsigned char>(s_[k]))) {
        e = k;
        while (e < s_.size() && std::isdigit(static_cast<unsigned char>(s_[e]))) ++e;
      }
    }
    std::string spelled;
    for (std::size_t i = pos_; i < e; ++i) {
      if (s_[i] != '_') spelled += s_[i];
    }
    char* end = nullptr;
    double v = std::strtod(spelled.c_str(), &end);
    if (spelled.empty() || end != spelled.c_str() + spelled.size()) {
      return fail(pos_, "malformed number '" + std::string(s_.substr(pos_, e - pos_)) + "'");
    }
    // Optional binary unit suffix.
    static const std::pair<const char*, double> kUnits[] = {
        {"KiB", 1024.0}, {"MiB", 1048576.0}, {"GiB", 1073741824.0}, {"TiB", 1099511627776.0}};
    std::size_t u = e;
    while (u < s_.size() && std::isalpha(static_cast<unsigned char>(s_[u]))) ++u;
    if (u > e) {
      const auto suffix = s_.substr(e, u - e);
      bool found = false;
      for (const auto& [name, mult] : kUnits) {
        if (suffix == name) {
          v *= mult;
          found = true;
        }
      }
      if (!found) {
        return fail(e, "unknown unit '" + std::string(suffix) +
                           "' after a number: expected KiB, MiB, GiB or TiB");
      }
      e = u;
    }
    t.kind = Tok::number;
    t.number = v;
    t.text = std::string(s_.substr(pos_, e - pos_));
    pos_ = e;
    return true;
  }

  std::string_view s_;
  std::size_t pos_ = 0;
};

// ----------------------------------------------------------------------------------------------
// Parser + type checker

struct ParseError {
  std::size_t offset;
  std::string message;
};

bool numeric(Type t) { return t == Type::number || t == Type::any; }
bool boolish(Type t) { return t == Type::boolean || t == Type::any; }

std::string describe(const Token& t) {
  switch (t.kind) {
    case Tok::end:
      return "end of expression";
    case Tok::string:
      return "string '" + (t.text.size() > 40 ? t.text.substr(0, 37) + "..." : t.text) + "'";
    default:
      return "'" + (t.text.size() > 40 ? t.text.substr(0, 37) + "..." : t.text) + "'";
  }
}

// How a built-in function's arguments are checked, and what type its result has.
enum class Signature {
  numbers,   ///< every argument a number; a number
  any,       ///< any argument (has); a boolean
  branches,  ///< a condition and two branches of one type (if); the branches' type
  counter,   ///< a counter name, not an expression (rate); a number
};

struct Function {
  const char* name;
  std::size_t min_args;
  std::size_t max_args;  ///< above 100: no upper limit
  Signature signature = Signature::numbers;
};

// The built-in functions, in the order the "unknown function" message lists them.
constexpr Function kFunctions[] = {{"min", 2, 1000},
                                   {"max", 2, 1000},
                                   {"clamp", 3, 3},
                                   {"round_to", 2, 2},
                                   {"ceil_to", 2, 2},
                                   {"floor_to", 2, 2},
                                   {"ceil", 1, 1},
                                   {"floor", 1, 1},
                                   {"round", 1, 1},
                                   {"abs", 1, 1},
                                   {"sqrt", 1, 1},
                                   {"rate", 1, 1, Signature::counter},
                                   {"has", 1, 1, Signature::any},
                                   {"if", 3, 3, Signature::branches}};

const Function* find_function(const std::string& name) {
  for (const auto& f : kFunctions) {
    if (name == f.name) return &f;
  }
  return nullptr;
}

class Parser {
 public:
  Parser(std::string_view text, const Scope& scope) : lex_(text), scope_(scope) {}

  NodePtr parse_all() {
    advance();
    auto n = parse_or();
    if (!n) return nullptr;
    if (tok_.kind != Tok::end) {
      return fail(tok_.offset, "unexpected " + describe(tok_) +
                                   " after a complete expression: expected an operator or the end");
    }
    return n;
  }

  std::optional<ParseError> error;
  int depth() const noexcept { return max_level_; }
  int size() const noexcept { return size_; }

 private:
  // One level of nesting for as long as it lives. The level is checked before the parser
  // recurses into it, so `((((...` 5,000 deep stops at level kMaxExprDepth + 1.
  class Nested {
   public:
    Nested(Parser& p, std::size_t at) : p_(p) {
      ok_ = ++p_.level_ <= kMaxExprDepth;
      if (!ok_) {
        p_.fail(at, "expression nested too deeply: more than " + std::to_string(kMaxExprDepth) +
                        " levels of parentheses, function calls, 'not', unary '-' and lets");
      }
      p_.max_level_ = std::max(p_.max_level_, p_.level_);
    }
    ~Nested() { --p_.level_; }
    Nested(const Nested&) = delete;
    Nested& operator=(const Nested&) = delete;
    explicit operator bool() const noexcept { return ok_; }

   private:
    Parser& p_;
    bool ok_ = false;
  };

  // Counts one operand or operator; false (with the error set) past kMaxExprSize.
  bool grow(std::size_t at) {
    if (++size_ <= kMaxExprSize) return true;
    fail(at, "expression too large: more than " + std::to_string(kMaxExprSize) +
                 " operands and operators; split it into [rule.let] bindings");
    return false;
  }

  NodePtr fail(std::size_t at, std::string msg) {
    if (!error) error = ParseError{at, std::move(msg)};
    return nullptr;
  }
  void advance() {
    if (error) return;
    if (!lex_.next(tok_)) {
      error = ParseError{lex_.error_offset, lex_.error};
      tok_ = Token{};
      tok_.offset = lex_.error_offset;
    }
  }
  bool is_word(const char* w) const { return tok_.kind == Tok::name && tok_.text == w; }
  bool is_op(const char* o) const { return tok_.kind == Tok::op && tok_.text == o; }

  static NodePtr make(Node::Kind k, std::size_t off, Type type, std::string op = {}) {
    auto n = std::make_unique<Node>();
    n->kind = k;
    n->offset = off;
    n->type = type;
    n->op = std::move(op);
    return n;
  }

  NodePtr parse_or() { return parse_bool_chain("or", &Parser::parse_and); }
  NodePtr parse_and() { return parse_bool_chain("and", &Parser::parse_not); }

  // A chain `operand (word operand)*` of a boolean operator: one node, evaluated left to right.
  NodePtr parse_bool_chain(const char* word, NodePtr (Parser::*operand)()) {
    auto first = (this->*operand)();
    if (!first || !is_word(word)) return first;
    auto n = make(Node::Kind::chain, first->offset, Type::boolean, word);
    n->args.push_back(std::move(first));
    while (is_word(word)) {
      const auto at = tok_.offset;
      if (!grow(at)) return nullptr;
      advance();
      auto right = (this->*operand)();
      if (!right) return nullptr;
      if (n->args.size() == 1 && !check_bool(*n->args[0], word, at)) return nullptr;
      if (!check_bool(*right, word, at)) return nullptr;
      n->ops.emplace_back(word);
      n->args.push_back(std::move(right));
    }
    return n;
  }

  NodePtr parse_not() {
    if (is_word("not")) {
      const auto at = tok_.offset;
      Nested level(*this, at);
      if (!level || !grow(at)) return nullptr;
      advance();
      auto inner = parse_not();
      if (!inner) return nullptr;
      if (!check_bool(*inner, "not", at)) return nullptr;
      auto n = make(Node::Kind::unary, at, Type::boolean, "not");
      n->args.push_back(std::move(inner));
      return n;
    }
    return parse_cmp();
  }

  bool check_bool(const Node& n, const char* op, std::size_t at) {
    if (boolish(n.type)) return true;
    fail(n.offset, std::string("expected a boolean operand of '") + op + "' (at column " +
                       std::to_string(at + 1) + "), got a " + to_string(n.type));
    return false;
  }
  bool check_number(const Node& n, const std::string& what) {
    if (numeric(n.type)) return true;
    fail(n.offset, "expected a number " + what + ", got a " + to_string(n.type));
    return false;
  }

  NodePtr parse_cmp() {
    auto left = parse_sum();
    if (!left) return nullptr;
    static const char* const kCmp[] = {"==", "!=", "<", "<=", ">", ">="};
    for (const char* op : kCmp) {
      if (!is_op(op)) continue;
      const auto at = tok_.offset;
      const std::string o = op;
      if (!grow(at)) return nullptr;
      advance();
      auto right = parse_sum();
      if (!right) return nullptr;
      if (o == "==" || o == "!=") {
        const Type a = left->type;
        const Type b = right->type;
        if (a != Type::any && b != Type::any && a != b) {
          return fail(right->offset, "cannot compare a " + std::string(to_string(a)) + " with a " +
                                         to_string(b) + " using '" + o + "': expected a " +
                                         to_string(a));
        }
      } else {
        const bool strings = left->type == Type::string && right->type == Type::string;
        if (!strings) {
          if (!check_number(*left, "on the left of '" + o + "'")) return nullptr;
          if (!check_number(*right, "on the right of '" + o + "'")) return nullptr;
        }
      }
      auto n = make(Node::Kind::binary, left->offset, Type::boolean, o);
      (void)at;
      n->args.push_back(std::move(left));
      n->args.push_back(std::move(right));
      if (tok_.kind == Tok::op &&
          std::find(std::begin(kCmp), std::end(kCmp), tok_.text) != std::end(kCmp)) {
        return fail(tok_.offset, "comparisons do not chain: use 'and' between two comparisons");
      }
      return n;
    }
    return left;
  }

  NodePtr parse_sum() { return parse_number_chain({"+", "-"}, &Parser::parse_product); }
  NodePtr parse_product() { return parse_number_chain({"*", "/", "%"}, &Parser::parse_unary); }

  // A chain `operand (op operand)*` of numeric operators of one precedence: one node,
  // evaluated left to right (left-associative).
  NodePtr parse_number_chain(std::initializer_list<const char*> ops, NodePtr (Parser::*operand)()) {
    auto at_op = [&] {
      for (const char* o : ops) {
        if (is_op(o)) return true;
      }
      return false;
    };
    auto first = (this->*operand)();
    if (!first || !at_op()) return first;
    auto n = make(Node::Kind::chain, first->offset, Type::number);
    n->args.push_back(std::move(first));
    while (at_op()) {
      const std::string o = tok_.text;
      if (!grow(tok_.offset)) return nullptr;
      advance();
      auto right = (this->*operand)();
      if (!right) return nullptr;
      if (n->args.size() == 1 && !check_number(*n->args[0], "on the left of '" + o + "'")) {
        return nullptr;
      }
      if (!check_number(*right, "on the right of '" + o + "'")) return nullptr;
      n->ops.push_back(o);
      n->args.push_back(std::move(right));
    }
    return n;
  }

  NodePtr parse_unary() {
    if (is_op("-")) {
      const auto at = tok_.offset;
      Nested level(*this, at);
      if (!level || !grow(at)) return nullptr;
      advance();
      auto inner = parse_unary();
      if (!inner) return nullptr;
      if (!check_number(*inner, "after unary '-'")) return nullptr;
      auto n = make(Node::Kind::unary, at, Type::number, "-");
      n->args.push_back(std::move(inner));
      return n;
    }
    return parse_primary();
  }

  NodePtr parse_primary() {
    if (error) return nullptr;
    const Token t = tok_;
    if (t.kind != Tok::lparen && !grow(t.offset)) return nullptr;
    switch (t.kind) {
      case Tok::number: {
        advance();
        auto n = make(Node::Kind::literal, t.offset, Type::number);
        n->literal = t.number;
        return n;
      }
      case Tok::string: {
        advance();
        auto n = make(Node::Kind::literal, t.offset, Type::string);
        n->literal = t.text;
        return n;
      }
      case Tok::lparen: {
        Nested level(*this, t.offset);
        if (!level) return nullptr;
        advance();
        auto inner = parse_or();
        if (!inner) return nullptr;
        if (tok_.kind != Tok::rparen) {
          return fail(tok_.offset, "expected ')' to close '(' at column " +
                                       std::to_string(t.offset + 1) + ", got " + describe(tok_));
        }
        advance();
        return inner;
      }
      case Tok::name: {
        if (t.text == "true" || t.text == "false") {
          advance();
          auto n = make(Node::Kind::literal, t.offset, Type::boolean);
          n->literal = (t.text == "true");
          return n;
        }
        static const char* const kReserved[] = {"and", "or", "not"};
        for (const char* r : kReserved) {
          if (t.text == r) return fail(t.offset, "expected an expression, got '" + t.text + "'");
        }
        advance();
        if (tok_.kind == Tok::lparen) return parse_call(t);
        return resolve_name(t);
      }
      default:
        return fail(t.offset, "expected an expression, got " + describe(t));
    }
  }

  NodePtr resolve_name(const Token& t) {
    if (scope_.constants != nullptr) {
      const auto it = scope_.constants->find(t.text);
      if (it != scope_.constants->end()) {
        auto n = make(Node::Kind::literal, t.offset, Type::any);
        n->literal = it->second;
        n->type = std::holds_alternative<double>(it->second) ? Type::number
                  : std::holds_alternative<bool>(it->second) ? Type::boolean
                                                             : Type::string;
        return n;
      }
    }
    if (scope_.lets != nullptr) {
      const auto it = scope_.lets->find(t.text);
      if (it != scope_.lets->end() && it->second.root()) {
        // The let's tree hangs below this node: its depth counts here, so chains of lets that
        // use each other cannot build a tree deeper than the limit either.
        const int depth = level_ + it->second.depth();
        if (depth > kMaxExprDepth) {
          return fail(t.offset, "expression nested too deeply: using '" + t.text + "' (" +
                                    std::to_string(it->second.depth()) + " levels) here makes " +
                                    std::to_string(depth) + " levels, more than " +
                                    std::to_string(kMaxExprDepth));
        }
        max_level_ = std::max(max_level_, depth);
        auto n = make(Node::Kind::ref, t.offset, it->second.type());
        n->ref = it->second.root();
        n->ref_text = it->second.text();
        n->op = t.text;
        return n;
      }
    }
    if (!scope_.allow_metrics) {
      return fail(t.offset, "unknown name '" + t.text +
                                "': a constant may only use literals and earlier constants");
    }
    auto m = lookup_metric(t.text);
    if (!m) return fail(t.offset, m.error().message);
    auto n = make(Node::Kind::metric, t.offset, m->type);
    n->metric = std::move(*m);
    return n;
  }

  NodePtr parse_call(const Token& name) {
    const Function* fn = find_function(name.text);
    if (fn == nullptr) {
      std::string known;
      for (const auto& f : kFunctions) known += (known.empty() ? "" : ", ") + std::string(f.name);
      return fail(name.offset, "unknown function '" + name.text + "': expected one of " + known);
    }
    const auto open = tok_.offset;
    Nested level(*this, name.offset);
    if (!level) return nullptr;
    advance();  // '('
    if (fn->signature == Signature::counter) return parse_rate(name, open);
    std::vector<NodePtr> args;
    if (!parse_arguments(name, open, args)) return nullptr;
    const auto close = tok_.offset;
    advance();  // ')'
    if (!check_arity(*fn, args, close)) return nullptr;
    const auto result = result_type(*fn, args);
    if (!result) return nullptr;
    auto n = make(Node::Kind::call, name.offset, *result, name.text);
    n->args = std::move(args);
    return n;
  }

  // rate() takes a counter name, not an expression. The current token follows its '('.
  NodePtr parse_rate(const Token& name, std::size_t open) {
    if (tok_.kind != Tok::name) {
      return fail(tok_.offset, "expected a counter name inside rate(), got " + describe(tok_));
    }
    const Token arg = tok_;
    auto m = lookup_rate(arg.text);
    if (!m) return fail(arg.offset, m.error().message);
    advance();
    if (tok_.kind != Tok::rparen) {
      return fail(tok_.offset, "expected ')' to close rate( at column " + std::to_string(open + 1) +
                                   ", got " + describe(tok_));
    }
    advance();
    auto n = make(Node::Kind::metric, name.offset, Type::number);
    n->metric = std::move(*m);
    return n;
  }

  // The arguments of a call up to its ')', which stays the current token.
  bool parse_arguments(const Token& name, std::size_t open, std::vector<NodePtr>& args) {
    if (tok_.kind == Tok::rparen) return true;
    for (;;) {
      auto a = parse_or();
      if (!a) return false;
      args.push_back(std::move(a));
      if (tok_.kind == Tok::comma) {
        advance();
        continue;
      }
      if (tok_.kind == Tok::rparen) return true;
      fail(tok_.offset, "expected ',' or ')' in the arguments of " + name.text +
                            "() opened at column " + std::to_string(open + 1) + ", got " +
                            describe(tok_));
      return false;
    }
  }

  bool check_arity(const Function& fn, const std::vector<NodePtr>& args, std::size_t close) {
    const std::size_t lo = fn.min_args;
    const std::size_t hi = fn.max_args;
    if (args.size() >= lo && args.size() <= hi) return true;
    std::string want = lo == hi   ? std::to_string(lo)
                       : hi > 100 ? "at least " + std::to_string(lo)
                                  : std::to_string(lo) + " to " + std::to_string(hi);
    fail(args.empty() ? close : args.back()->offset,
         std::string(fn.name) + "() expects " + want + " argument" +
             (lo == 1 && hi == 1 ? "" : "s") + ", got " + std::to_string(args.size()));
    return false;
  }

  // The type of a call of `fn` with these arguments; nothing (with the error set) when an
  // argument has the wrong type.
  std::optional<Type> result_type(const Function& fn, const std::vector<NodePtr>& args) {
    switch (fn.signature) {
      case Signature::any:
        return Type::boolean;
      case Signature::branches:
        return if_type(args);
      case Signature::numbers:
      case Signature::counter:
        break;
    }
    for (std::size_t i = 0; i < args.size(); ++i) {
      if (!check_number(*args[i],
                        "as argument " + std::to_string(i + 1) + " of " + fn.name + "()")) {
        return std::nullopt;
      }
    }
    return Type::number;
  }

  std::optional<Type> if_type(const std::vector<NodePtr>& args) {
    if (!boolish(args[0]->type)) {
      fail(args[0]->offset, "expected a boolean condition as the first argument of if(), got a " +
                                std::string(to_string(args[0]->type)));
      return std::nullopt;
    }
    const Type a = args[1]->type;
    const Type b = args[2]->type;
    if (a != Type::any && b != Type::any && a != b) {
      fail(args[2]->offset, "if() branches must have the same type: expected a " +
                                std::string(to_string(a)) + ", got a " + to_string(b));
      return std::nullopt;
    }
    return a == b ? a : Type::any;
  }

  Lexer lex_;
  const Scope& scope_;
  Token tok_;
  int level_ = 1;      ///< current nesting level; the top level is 1
  int max_level_ = 1;  ///< deepest level reached, lets included
  int size_ = 0;       ///< operands and operators so far
};

// ----------------------------------------------------------------------------------------------
// Evaluator

class Evaluator {
 public:
  Evaluator(const EvalContext& ctx, std::string_view text,
            std::unordered_map<const Node*, Eval>& memo)
      : ctx_(ctx), text_(text), memo_(memo) {}

  // `n` as a boolean: its value, or missing when it is not one.
  Eval condition(const Node& n) {
    auto v = eval(n);
    if (!v.ok()) return v;
    return as_bool(v, n);
  }

  Eval eval(const Node& n) {
    switch (n.kind) {
      case Node::Kind::literal:
        return Eval::of(n.literal);
      case Node::Kind::metric: {
        if (!n.metric.get) return Eval::absent(n.metric.name + ": no accessor");
        return n.metric.get(ctx_);
      }
      case Node::Kind::unary: {
        auto v = eval(*n.args[0]);
        if (!v.ok()) return v;
        if (n.op == "not") {
          auto b = as_bool(v, *n.args[0]);
          if (!b.ok()) return b;
          return Eval::of(!std::get<bool>(*b.value));
        }
        auto x = as_number(v, *n.args[0]);
        if (!x.ok()) return x;
        return Eval::of(-std::get<double>(*x.value));
      }
      case Node::Kind::binary:
        return binary(n);
      case Node::Kind::chain:
        return chain(n);
      case Node::Kind::ref:
        return let(n);
      case Node::Kind::call:
        return call(n);
    }
    return Eval::absent("bad expression node");
  }

 private:
  std::string snippet(const Node& n) const {
    // The sub-expression text from its start to a reasonable end, for messages.
    auto s = text_.substr(std::min(n.offset, text_.size()));
    if (s.size() > 40) return std::string(s.substr(0, 37)) + "...";
    return std::string(s);
  }

  Eval as_number(const Eval& v, const Node& from) {
    if (const auto* d = std::get_if<double>(&*v.value)) return Eval::of(*d);
    if (const auto* s = std::get_if<std::string>(&*v.value)) {
      if (auto x = parse_number(*s)) return Eval::of(*x);
      return Eval::absent(name_of(from) + " is '" + *s + "', not a number");
    }
    return Eval::absent(name_of(from) + " is a boolean, not a number");
  }
  Eval as_bool(const Eval& v, const Node& from) {
    if (const auto* b = std::get_if<bool>(&*v.value)) return Eval::of(*b);
    return Eval::absent(name_of(from) + " is '" + to_text(*v.value) + "', not a boolean");
  }
  std::string name_of(const Node& n) const {
    if (n.kind == Node::Kind::metric) return n.metric.name;
    if (n.kind == Node::Kind::ref) return n.op;
    return "'" + snippet(n) + "'";
  }

  Eval num(const Node& n, double& out) {
    auto v = eval(n);
    if (!v.ok()) return v;
    auto x = as_number(v, n);
    if (x.ok()) out = std::get<double>(*x.value);
    return x;
  }

  // A [rule.let] binding: computed once per memo, with messages quoting the let's own text.
  Eval let(const Node& n) {
    const Node* key = n.ref.get();
    if (const auto it = memo_.find(key); it != memo_.end()) return it->second;
    const std::string_view outer = text_;
    text_ = n.ref_text;
    auto v = eval(*n.ref);
    text_ = outer;
    memo_.emplace(key, v);
    return v;
  }

  Eval chain(const Node& n) {
    if (n.op == "and" || n.op == "or") {
      // Left to right, stopping at the first operand that decides: false for and, true for or.
      const bool is_and = n.op == "and";
      for (const auto& arg : n.args) {
        auto v = eval(*arg);
        if (!v.ok()) return v;
        auto b = as_bool(v, *arg);
        if (!b.ok()) return b;
        if (std::get<bool>(*b.value) != is_and) return b;
      }
      return Eval::of(is_and);
    }
    double acc = 0;
    if (auto e = num(*n.args[0], acc); !e.ok()) return e;
    for (std::size_t i = 1; i < n.args.size(); ++i) {
      double b = 0;
      if (auto e = num(*n.args[i], b); !e.ok()) return e;
      const std::string& op = n.ops[i - 1];
      if (op == "+") {
        acc += b;
      } else if (op == "-") {
        acc -= b;
      } else if (op == "*") {
        acc *= b;
      } else if (b == 0) {
        return Eval::absent("division by zero in '" + snippet(n) + "'");
      } else if (op == "/") {
        acc /= b;
      } else {
        acc = std::fmod(acc, b);
      }
    }
    return Eval::of(acc);
  }

  // A comparison.
  Eval binary(const Node& n) {
    const std::string& op = n.op;
    if (op == "==" || op == "!=" || op == "<" || op == "<=" || op == ">" || op == ">=") {
      auto l = eval(*n.args[0]);
      if (!l.ok()) return l;
      auto r = eval(*n.args[1]);
      if (!r.ok()) return r;
      const Value& a = *l.value;
      const Value& b = *r.value;
      if (op == "==" || op == "!=") {
        bool eq;
        if (a.index() == b.index()) {
          eq = a == b;
        } else {
          // number vs string (a sysctl compared with text): compare numerically when the
          // string is a number, else as text.
          const auto* ad = std::get_if<double>(&a);
          const auto* bd = std::get_if<double>(&b);
          const auto* as = std::get_if<std::string>(&a);
          const auto* bs = std::get_if<std::string>(&b);
          if (ad && bs) {
            auto x = parse_number(*bs);
            eq = x ? *x == *ad : to_text(a) == *bs;
          } else if (bd && as) {
            auto x = parse_number(*as);
            eq = x ? *x == *bd : to_text(b) == *as;
          } else {
            eq = to_text(a) == to_text(b);
          }
        }
        return Eval::of(op == "==" ? eq : !eq);
      }
      if (std::holds_alternative<std::string>(a) && std::holds_alternative<std::string>(b) &&
          !(parse_number(std::get<std::string>(a)) && parse_number(std::get<std::string>(b)))) {
        const int c = std::get<std::string>(a).compare(std::get<std::string>(b));
        return Eval::of(op == "<" ? c < 0 : op == "<=" ? c <= 0 : op == ">" ? c > 0 : c >= 0);
      }
      auto x = as_number(l, *n.args[0]);
      if (!x.ok()) return x;
      auto y = as_number(r, *n.args[1]);
      if (!y.ok()) return y;
      const double xa = std::get<double>(*x.value);
      const double yb = std::get<double>(*y.value);
      return Eval::of(op == "<" ? xa < yb : op == "<=" ? xa <= yb : op == ">" ? xa > yb : xa >= yb);
    }
    return Eval::absent("unknown operator " + op);
  }

  Eval call(const Node& n) {
    const std::string& f = n.op;
    if (f == "has") return Eval::of(eval(*n.args[0]).ok());
    if (f == "if") {
      auto c = eval(*n.args[0]);
      if (!c.ok()) return c;
      auto b = as_bool(c, *n.args[0]);
      if (!b.ok()) return b;
      return eval(*n.args[std::get<bool>(*b.value) ? 1 : 2]);
    }
    std::vector<double> x(n.args.size());
    for (std::size_t i = 0; i < n.args.size(); ++i) {
      if (auto e = num(*n.args[i], x[i]); !e.ok()) return e;
    }
    if (f == "min") return Eval::of(*std::min_element(x.begin(), x.end()));
    if (f == "max") return Eval::of(*std::max_element(x.begin(), x.end()));
    if (f == "clamp") {
      if (x[1] > x[2]) return Eval::absent("clamp() with lower bound above upper bound");
      return Eval::of(std::clamp(x[0], x[1], x[2]));
    }
    if (f == "ceil") return Eval::of(std::ceil(x[0]));
    if (f == "floor") return Eval::of(std::floor(x[0]));
    if (f == "round") return Eval::of(std::round(x[0]));
    if (f == "abs") return Eval::of(std::fabs(x[0]));
    if (f == "sqrt") {
      if (x[0] < 0) return Eval::absent("sqrt() of a negative number");
      return Eval::of(std::sqrt(x[0]));
    }
    if (f == "round_to" || f == "ceil_to" || f == "floor_to") {
      if (x[1] <= 0) return Eval::absent(f + "() needs a positive multiple");
      const double q = x[0] / x[1];
      const double r = f == "round_to"  ? std::round(q)
                       : f == "ceil_to" ? std::ceil(q)
                                        : std::floor(q);
      return Eval::of(r * x[1]);
    }
    return Eval::absent("unknown function " + f);
  }

  const EvalContext& ctx_;
  std::string_view text_;
  std::unordered_map<const Node*, Eval>& memo_;
};

}  // namespace

core::Result<Expr> Expr::parse(std::string_view text, const Scope& scope) {
  Parser p(text, scope);
  auto root = p.parse_all();
  if (!root || p.error) {
    const auto e = p.error.value_or(ParseError{0, "empty expression"});
    return core::make_error(ErrorKind::invalid_argument, "", e.message, 1, {},
                            static_cast<int>(e.offset) + 1);
  }
  Expr out;
  out.text_ = std::string(text);
  out.type_ = root->type;
  out.depth_ = p.depth();
  out.size_ = p.size();
  out.root_ = std::shared_ptr<const Node>(std::move(root));
  return out;
}

Eval Expr::evaluate(const EvalContext& ctx) const {
  LetMemo memo;
  return evaluate(ctx, memo);
}

Eval Expr::evaluate(const EvalContext& ctx, LetMemo& memo) const {
  if (!root_) return Eval::absent("empty expression");
  Evaluator ev(ctx, text_, memo.values_);
  return ev.eval(*root_);
}

Eval Expr::evaluate_condition(const EvalContext& ctx, LetMemo& memo) const {
  if (!root_) return Eval::absent("empty expression");
  Evaluator ev(ctx, text_, memo.values_);
  return ev.condition(*root_);
}

}  // namespace vmtune::rules
