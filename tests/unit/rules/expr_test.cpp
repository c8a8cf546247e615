// SPDX-License-Identifier: GPL-2.0-or-later
#include "rules/expr.hpp"

#include <gtest/gtest.h>

#include "rules/metrics.hpp"

namespace vmtune::rules {
namespace {

model::Sample sample_with_meminfo() {
  model::Sample s;
  s.meminfo.state = model::SourceState::ok;
  s.meminfo.value = model::MemInfo{{{"MemTotal", 16ull << 30}, {"MemAvailable", 8ull << 30},
                                    {"Active(file)", 1ull << 30}, {"SwapTotal", 0}}};
  s.sysctl.state = model::SourceState::ok;
  s.sysctl.value = model::Sysctl{{{"vm.swappiness", "60"},
                                  {"vm.page-cluster", "3"},
                                  {"vm.lowmem_reserve_ratio", "256\t256\t32\t0\t0"}}};
  s.psi.state = model::SourceState::missing;
  s.psi.reason = "/proc/pressure/memory: No such file or directory";
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
  EXPECT_EQ(v.missing, "meminfo has no field Hugetlb on this kernel");
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

TEST_F(Fixture, UnknownSectionsAndDerivedNamesAreErrorsUnknownKeysAreNot) {
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
  // A key the kernel may or may not print is fine at load time.
  EXPECT_TRUE(Expr::parse("meminfo.Dirtty > 0", scope).ok());
  EXPECT_TRUE(Expr::parse("vmstat.some_future_counter > 0", scope).ok());
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
