// SPDX-License-Identifier: GPL-2.0-or-later
#include "rules/expr.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "rules/metrics.hpp"

namespace vmtune::rules {
namespace {

model::Sample sample_with_meminfo() {
  model::Sample s;
  s.meminfo.state = model::SourceState::ok;
  s.meminfo.value = model::MemInfo{{{"MemTotal", 16ull << 30},
                                    {"MemAvailable", 8ull << 30},
                                    {"Active(file)", 1ull << 30},
                                    {"SwapTotal", 0}}};
  s.sysctl.state = model::SourceState::ok;
  s.sysctl.value = model::Sysctl{{{"vm.swappiness", "60"},
                                  {"vm.page-cluster", "3"},
                                  {"vm.lowmem_reserve_ratio", "256\t256\t32\t0\t0"}}};
  s.psi.state = model::SourceState::missing;
  s.psi.error = core::make_error(core::ErrorKind::missing, "/proc/pressure/memory",
                                 "No such file or directory");
  return s;
}

struct Fixture : ::testing::Test {
  std::map<std::string, Value> constants{{"limit", 10.0}, {"mode", std::string("never")}};
  Scope scope{&constants, true, nullptr};
  model::Snapshot snap = model::make_snapshot(sample_with_meminfo(), std::nullopt);
  EvalContext ctx{snap, "database", std::nullopt};

  Eval eval(const std::string& text) {
    auto e = Expr::parse(text, scope);
    EXPECT_TRUE(e.ok()) << text << ": " << (e.ok() ? "" : e.error().to_string());
    if (!e.ok()) return Eval::absent("parse error");
    return e->evaluate(ctx);
  }
  double num(const std::string& text) {
    auto v = eval(text);
    EXPECT_TRUE(v.ok()) << text << ": " << v.missing;
    return v.ok() && std::holds_alternative<double>(*v.value) ? std::get<double>(*v.value) : -1e300;
  }
  bool truth(const std::string& text) {
    auto v = eval(text);
    EXPECT_TRUE(v.ok()) << text << ": " << v.missing;
    return v.ok() && std::holds_alternative<bool>(*v.value) && std::get<bool>(*v.value);
  }
  core::Error error(const std::string& text) {
    auto e = Expr::parse(text, scope);
    EXPECT_FALSE(e.ok()) << text;
    return e.ok() ? core::Error{} : e.error();
  }
};

TEST_F(Fixture, ArithmeticPrecedenceAndAssociativity) {
  EXPECT_EQ(num("1 + 2 * 3"), 7);
  EXPECT_EQ(num("(1 + 2) * 3"), 9);
  EXPECT_EQ(num("10 - 4 - 3"), 3);
  EXPECT_EQ(num("100 / 10 / 5"), 2);
  EXPECT_EQ(num("-2 * -3"), 6);
  EXPECT_EQ(num("7 % 4"), 3);
  EXPECT_EQ(num("1_000 + 1e3"), 2000);
  EXPECT_EQ(num("64MiB"), 64.0 * 1024 * 1024);
  EXPECT_EQ(num("2 * 4KiB + 1GiB - 1TiB / 1024"), 8192.0);
}

TEST_F(Fixture, BooleanPrecedenceAndShortCircuit) {
  EXPECT_TRUE(truth("1 < 2 and 2 < 3 or false"));
  EXPECT_TRUE(truth("not 1 > 2 and true"));
  EXPECT_FALSE(truth("not (1 < 2 and true)"));
  EXPECT_TRUE(truth("true or 1 / 0 > 1"));  // right side never evaluated
  EXPECT_FALSE(truth("false and psi.some.avg10 > 1"));
  EXPECT_TRUE(truth("has(psi.some.avg10) or meminfo.MemTotal > 0"));
}

TEST_F(Fixture, FunctionsComputeWhatTheyName) {
  EXPECT_EQ(num("min(3, 1, 2)"), 1);
  EXPECT_EQ(num("max(3, 1, 2)"), 3);
  EXPECT_EQ(num("clamp(5, 10, 20)"), 10);
  EXPECT_EQ(num("clamp(25, 10, 20)"), 20);
  EXPECT_EQ(num("round_to(17, 5)"), 15);
  EXPECT_EQ(num("ceil_to(16, 5)"), 20);
  EXPECT_EQ(num("floor_to(19, 5)"), 15);
  EXPECT_EQ(num("ceil(1.2) + floor(1.8) + round(2.5) + abs(-4)"), 2 + 1 + 3 + 4);
  EXPECT_EQ(num("sqrt(16 * 1024 * 1024 * 16)"), 16384);  // min_free_kbytes of a 16 GiB host
  EXPECT_EQ(num("if(meminfo.MemTotal > 8GiB, 1, 2)"), 1);
  EXPECT_EQ(num("if(has(psi.some.avg10), psi.some.avg10, 42)"), 42);
}

TEST_F(Fixture, MetricsConstantsAndStrings) {
  EXPECT_EQ(num("meminfo.MemTotal"), 16.0 * (1ull << 30));
  EXPECT_EQ(num("meminfo.`Active(file)`"), 1.0 * (1ull << 30));
  EXPECT_EQ(num("sysctl.`vm.page-cluster`"), 3);
  EXPECT_TRUE(truth("sysctl.vm.swappiness > limit"));
  EXPECT_TRUE(truth("sysctl.vm.swappiness == 60 and sysctl.vm.swappiness == '60'"));
  EXPECT_TRUE(truth("mode == 'never' and \"a\" < 'b'"));
  EXPECT_TRUE(truth("config.profile == 'database'"));
  auto v = eval("sysctl.vm.lowmem_reserve_ratio");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(std::get<std::string>(*v.value), "256\t256\t32\t0\t0");
}

TEST_F(Fixture, AbsentMetricMakesTheExpressionMissingWithTheSourceReason) {
  auto v = eval("psi.some.avg10 > 5");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.missing, "needs /proc/pressure/memory: missing");
  v = eval("meminfo.Hugetlb + 1");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.missing, "meminfo.Hugetlb is absent on this kernel");
  v = eval("vmstat.pgscan_direct");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.missing, "needs vmstat: not collected");
  v = eval("rate(vmstat.pgscan_direct) > 0");
  EXPECT_FALSE(v.ok());
  v = eval("meminfo.MemTotal / meminfo.SwapTotal");
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.missing.find("division by zero"), std::string::npos);
  // has() is never missing.
  EXPECT_FALSE(truth("has(psi.some.avg10)"));
  EXPECT_TRUE(truth("has(meminfo.MemTotal)"));
}

TEST_F(Fixture, NonNumericSysctlUsedAsNumberIsMissingNotACrash) {
  auto v = eval("sysctl.vm.lowmem_reserve_ratio > 1");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.missing, "sysctl.vm.lowmem_reserve_ratio is '256\t256\t32\t0\t0', not a number");
}

TEST_F(Fixture, SyntaxErrorsNameTheColumnAndWhatWasExpected) {
  auto e = error("1 + ");
  EXPECT_EQ(e.column, 5);
  EXPECT_EQ(e.message, "expected an expression, got end of expression");
  e = error("(1 + 2");
  EXPECT_EQ(e.column, 7);
  EXPECT_EQ(e.message, "expected ')' to close '(' at column 1, got end of expression");
  e = error("meminfo.MemTotal = 3");
  EXPECT_EQ(e.column, 18);
  EXPECT_EQ(e.message, "expected '==' for comparison, got '='");
  e = error("1 < 2 < 3");
  EXPECT_EQ(e.column, 7);
  e = error("frobnicate(1)");
  EXPECT_EQ(e.column, 1);
  EXPECT_NE(e.message.find("unknown function 'frobnicate'"), std::string::npos);
  e = error("min(1)");
  EXPECT_EQ(e.message, "min() expects at least 2 arguments, got 1");
  e = error("'abc");
  EXPECT_EQ(e.message, "unterminated string: expected a closing '");
  e = error("3 4");
  EXPECT_EQ(e.column, 3);
  e = error("12XB");
  EXPECT_EQ(e.message, "unknown unit 'XB' after a number: expected KiB, MiB, GiB or TiB");
  e = error("rate(meminfo.MemTotal)");
  EXPECT_EQ(e.column, 6);
  e = error("1 # 2");
  EXPECT_EQ(e.column, 3);
  EXPECT_EQ(e.message, "unexpected character '#'");
}

TEST_F(Fixture, UnknownSectionsNamesAndKeysAreErrors) {
  auto e = error("meminfoo.MemTotal > 1");
  EXPECT_EQ(e.column, 1);
  EXPECT_NE(e.message.find("unknown metric section 'meminfoo'"), std::string::npos);
  e = error("2 * direct_reclaim_rat");
  EXPECT_EQ(e.column, 5);
  EXPECT_NE(e.message.find("unknown name 'direct_reclaim_rat'"), std::string::npos);
  e = error("zones.min_page");
  EXPECT_NE(e.message.find("expected one of"), std::string::npos);
  e = error("hugepages.2048kB.nrr");
  EXPECT_NE(e.message.find("unknown hugepages field 'nrr'"), std::string::npos);
  // A key no kernel prints is an error too, at the name; one that some kernels print is not.
  e = error("1 + meminfo.Dirtty");
  EXPECT_EQ(e.column, 5);
  EXPECT_NE(e.message.find("did you mean 'meminfo.Dirty'?"), std::string::npos);
  e = error("vmstat.some_future_counter > 0");
  EXPECT_NE(e.message.find("some_future_counter is not a /proc/vmstat counter"), std::string::npos);
  EXPECT_TRUE(Expr::parse("meminfo.SecPageTables > 0", scope).ok());  // 6.0+
  EXPECT_TRUE(Expr::parse("vmstat.allocstall > 0", scope).ok());      // before 4.10
}

TEST_F(Fixture, TypeErrorsAreCaughtAtParseTime) {
  auto e = error("thp.enabled + 1");
  EXPECT_EQ(e.message, "expected a number on the left of '+', got a string");
  e = error("1 and true");
  EXPECT_EQ(e.column, 1);
  EXPECT_NE(e.message.find("expected a boolean operand of 'and'"), std::string::npos);
  e = error("thp.enabled == 3");
  EXPECT_EQ(e.column, 16);
  EXPECT_EQ(e.message, "cannot compare a string with a number using '==': expected a string");
  e = error("if(1, 2, 3)");
  EXPECT_NE(e.message.find("boolean condition"), std::string::npos);
  e = error("if(true, 2, 'x')");
  EXPECT_NE(e.message.find("same type"), std::string::npos);
  e = error("not 3");
  EXPECT_NE(e.message.find("boolean operand of 'not'"), std::string::npos);
  EXPECT_EQ(Expr::parse("sysctl.vm.swappiness > 1", scope)->type(), Type::boolean);
  EXPECT_EQ(Expr::parse("sysctl.vm.swappiness", scope)->type(), Type::any);
}

TEST_F(Fixture, ConstantScopeRefusesMetrics) {
  Scope cs{&constants, false, nullptr};
  auto e = Expr::parse("limit * 2 + meminfo.MemTotal", cs);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().column, 13);
}

std::string repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

const std::string kTooDeep =
    "expression nested too deeply: more than 64 levels of parentheses, function calls, 'not', "
    "unary '-' and lets";

// Each of these crashed the parser with SIGSEGV at 5,000 levels. The top level is level 1, so the
// 64th nesting token opens level 65: it is the error, and parsing stops there.
TEST_F(Fixture, DeepNestingIsRefusedAtTheTokenThatCrossesTheLimit) {
  auto e = error(repeat("(", 5000) + "1" + repeat(")", 5000));
  EXPECT_EQ(e.column, 64);  // the 64th '('
  EXPECT_EQ(e.message, kTooDeep);
  e = error(repeat("not ", 5000) + "true");
  EXPECT_EQ(e.column, 63 * 4 + 1);
  EXPECT_EQ(e.message, kTooDeep);
  e = error(repeat("-", 5000) + "1");
  EXPECT_EQ(e.column, 64);
  EXPECT_EQ(e.message, kTooDeep);
  e = error(repeat("abs(", 5000) + "1" + repeat(")", 5000));
  EXPECT_EQ(e.column, 63 * 4 + 1);
  EXPECT_EQ(e.message, kTooDeep);
  e = error(repeat("if(true, ", 5000) + "1" + repeat(", 2)", 5000));
  EXPECT_EQ(e.column, 63 * 9 + 1);
  // Unclosed: the limit is met before the missing ')' would be.
  e = error(repeat("(", 100000));
  EXPECT_EQ(e.column, 64);
  EXPECT_EQ(e.message, kTooDeep);
}

TEST_F(Fixture, NestingUpToTheLimitParsesAndEvaluates) {
  // The top level is level 1; 63 parentheses make 64.
  auto e = Expr::parse(repeat("(", 63) + "2" + repeat(")", 63), scope);
  ASSERT_TRUE(e.ok()) << e.error().to_string();
  EXPECT_EQ(e->depth(), kMaxExprDepth);
  EXPECT_EQ(num(repeat("(1 + ", 63) + "1" + repeat(")", 63)), 64);
  EXPECT_EQ(num(repeat("-", 63) + "1"), -1);
  EXPECT_TRUE(truth(repeat("not ", 62) + "(1 < 2)"));
  EXPECT_EQ(Expr::parse("1 + 2", scope)->depth(), 1);
  EXPECT_EQ(Expr::parse("max(1, (2))", scope)->depth(), 3);
}

// A flat chain of 20,000 terms was a left-leaning tree 20,000 deep: its evaluation and its
// destructor overflowed the stack. Now a chain is one node, and its size is bounded.
TEST_F(Fixture, WideExpressionsAreRefusedPastTheSizeLimit) {
  const std::string too_large =
      "expression too large: more than 1000 operands and operators; split it into [rule.let] "
      "bindings";
  auto e = error("1" + repeat(" + 1", 20000));
  EXPECT_EQ(e.column, 2001);  // operands and operators alternate: item 1001 is at offset 2000
  EXPECT_EQ(e.message, too_large);
  e = error("true" + repeat(" and true", 20000));
  EXPECT_EQ(e.message, too_large);
  e = error("min(1" + repeat(", 1", 20000) + ")");
  EXPECT_EQ(e.message, too_large);
  e = error("meminfo.MemTotal" + repeat(" * 1 > 0 or meminfo.MemTotal", 5000) + " > 0");
  EXPECT_EQ(e.message, too_large);
}

TEST_F(Fixture, WideExpressionsWithinTheLimitKeepLeftToRightMeaning) {
  // 500 operands and 499 operators: 999 items.
  auto e = Expr::parse("1" + repeat(" + 1", 499), scope);
  ASSERT_TRUE(e.ok()) << e.error().to_string();
  EXPECT_EQ(e->size(), 999);
  EXPECT_EQ(e->evaluate(ctx).value, Value(500.0));
  EXPECT_EQ(num("100" + repeat(" - 1", 499)), -399);
  EXPECT_EQ(num("2 * 3 / 4 % 5 - 1 + 2"), 2.5);  // ((((2*3)/4)%5)-1)+2
  EXPECT_EQ(num("100 / 10 / 5 * 3"), 6);
  EXPECT_TRUE(truth(repeat("false or ", 400) + "true"));
  EXPECT_FALSE(truth(repeat("true and ", 400) + "false"));
  // Short circuit in a chain: the division by zero after the deciding operand is never seen.
  EXPECT_TRUE(truth("false or false or true or 1 / 0 > 1 or psi.some.avg10 > 1"));
  EXPECT_FALSE(truth("true and true and false and 1 / 0 > 1"));
  // A missing operand before the deciding one still makes the chain missing.
  auto v = eval("false or psi.some.avg10 > 1 or true");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.missing, "needs /proc/pressure/memory: missing");
  v = eval("1 + 2 / (3 - 3) + 4");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.missing, "division by zero in '2 / (3 - 3) + 4'");
  // Type errors in a chain still name the operand.
  EXPECT_EQ(error("1 + 2 + thp.enabled").message,
            "expected a number on the right of '+', got a string");
  EXPECT_EQ(error("thp.enabled * 2 * 3").message,
            "expected a number on the left of '*', got a string");
  EXPECT_EQ(error("true and true and 3").column, 19);
}

// lets[a0] = meminfo.MemTotal, lets[ak] = "a(k-1) + a(k-1)": without memoisation, evaluating
// a40 evaluates a0 2^40 times and this test never finishes (26 levels took 8 s).
std::map<std::string, Expr> doubling_lets(const Scope& base, int levels) {
  std::map<std::string, Expr> lets;
  Scope s = base;
  s.lets = &lets;
  lets.emplace("a0", *Expr::parse("meminfo.MemTotal", s));
  for (int k = 1; k <= levels; ++k) {
    const std::string prev = "a" + std::to_string(k - 1);
    auto e = Expr::parse(prev + " + " + prev, s);
    EXPECT_TRUE(e.ok()) << e.error().to_string();
    lets.emplace("a" + std::to_string(k), std::move(*e));
  }
  return lets;
}

TEST_F(Fixture, LetsAreEvaluatedOncePerEvaluation) {
  const auto lets = doubling_lets(scope, 40);
  Scope s = scope;
  s.lets = &lets;
  auto top = Expr::parse("a40 > 0 and a40 == a40", s);
  ASSERT_TRUE(top.ok()) << top.error().to_string();
  EXPECT_TRUE(std::get<bool>(*top->evaluate(ctx).value));
  auto value = Expr::parse("a40", s);
  ASSERT_TRUE(value.ok());
  LetMemo memo;
  const auto v = value->evaluate(ctx, memo);
  ASSERT_TRUE(v.ok()) << v.missing;
  EXPECT_EQ(std::get<double>(*v.value), std::ldexp(16.0 * (1ull << 30), 40));  // 2^74
  EXPECT_EQ(memo.size(), 41u);  // a40 ... a0, each computed once
  // A second expression against the same memo uses what is there.
  const auto again = top->evaluate(ctx, memo);
  EXPECT_EQ(again.value, Value(true));
  EXPECT_EQ(memo.size(), 41u);
}

TEST_F(Fixture, LetDepthCountsWhereTheLetIsUsed) {
  // A let name counts as its expression in parentheses: a0 is 1 level deep, a(k) = a(k-1) + 1
  // is k+1 levels, so a63 is the deepest binding, and a64 would be 65.
  std::map<std::string, Expr> lets;
  Scope s = scope;
  s.lets = &lets;
  lets.emplace("a0", *Expr::parse("meminfo.MemTotal", s));
  for (int k = 1; k <= 63; ++k) {
    auto e = Expr::parse("a" + std::to_string(k - 1) + " + 1", s);
    ASSERT_TRUE(e.ok()) << k << ": " << e.error().to_string();
    EXPECT_EQ(e->depth(), k + 1);
    lets.emplace("a" + std::to_string(k), std::move(*e));
  }
  EXPECT_EQ(lets.at("a63").evaluate(ctx).value, Value(16.0 * (1ull << 30) + 63));
  auto e = Expr::parse("a63 + 1", s);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().column, 1);
  EXPECT_EQ(e.error().message,
            "expression nested too deeply: using 'a63' (64 levels) here makes 65 levels, more "
            "than 64");
  auto ok = Expr::parse("2 * a62", s);
  ASSERT_TRUE(ok.ok()) << ok.error().to_string();
  EXPECT_EQ(ok->depth(), 64);
  EXPECT_EQ(ok->evaluate(ctx).value, Value(2 * (16.0 * (1ull << 30) + 62)));
  e = Expr::parse("2 * (a62)", s);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().column, 6);
  EXPECT_EQ(e.error().message,
            "expression nested too deeply: using 'a62' (63 levels) here makes 65 levels, more "
            "than 64");
}

TEST_F(Fixture, MessagesFromInsideALetQuoteTheLetsText) {
  std::map<std::string, Expr> lets;
  Scope s = scope;
  s.lets = &lets;
  lets.emplace("per_swap", *Expr::parse("meminfo.MemTotal / meminfo.SwapTotal", s));
  auto e = Expr::parse("1 + 2 + 3 + per_swap > 0", s);
  ASSERT_TRUE(e.ok());
  const auto v = e->evaluate(ctx);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.missing, "division by zero in 'meminfo.MemTotal / meminfo.SwapTotal'");
}

TEST(Values, FormatNumber) {
  EXPECT_EQ(format_number(67108864), "67108864");
  EXPECT_EQ(format_number(0.0195), "0.0195");
  EXPECT_EQ(format_number(12.5), "12.5");
  EXPECT_EQ(format_number(-3), "-3");
  EXPECT_EQ(format_number(0.00001234), "1.23e-05");
  EXPECT_EQ(parse_number(" 60\n"), 60.0);
  EXPECT_FALSE(parse_number("0x10"));
  EXPECT_FALSE(parse_number("inf"));
  EXPECT_FALSE(parse_number(""));
}

}  // namespace
}  // namespace vmtune::rules
