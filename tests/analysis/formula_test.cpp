// The formula parser: terms named and ordered as R's terms() names them
// (checked by hand against R: attr(terms(f), "term.labels")), random-effect
// terms as lme4 expands them, and errors that point at the place.
#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "analysis/formula.h"
#include "common/error.h"

using Catch::Matchers::Contains;
using Catch::Matchers::Equals;
using cohortdb::analysis::Formula;
using cohortdb::analysis::ParseFormula;

namespace {

std::vector<std::string> Labels(const Formula& f) {
  std::vector<std::string> out;
  for (const auto& t : f.terms) out.push_back(t.Label());
  return out;
}

// The message of the InputError `text` raises.
std::string ErrorOf(const std::string& text) {
  try {
    ParseFormula(text);
  } catch (const cohortdb::InputError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("formula terms are expanded and ordered as R's terms()", "[formula]") {
  // R: attr(terms(y ~ a * b + c + a:c + log(x) + I(x^2)), "term.labels")
  const Formula f = ParseFormula("y ~ a * b + c + a:c + log(x) + I(x^2)");
  CHECK_THAT(Labels(f), Equals(std::vector<std::string>{"a", "b", "c", "log(x)", "I(x^2)", "a:b", "a:c"}));
  CHECK(f.intercept);
  CHECK(f.response.Label() == "y");
  CHECK(f.random.empty());
  CHECK_FALSE(f.offset.has_value());
  CHECK_THAT(f.Variables(), Equals(std::vector<std::string>{"y", "a", "b", "c", "x"}));
}

TEST_CASE("products of sums and three-way interactions", "[formula]") {
  // R: y ~ (a + b) * c -> a b c a:c b:c ; y ~ a*b*c -> a b c a:b a:c b:c a:b:c
  CHECK_THAT(Labels(ParseFormula("y ~ (a + b) * c")),
             Equals(std::vector<std::string>{"a", "b", "c", "a:c", "b:c"}));
  CHECK_THAT(Labels(ParseFormula("y ~ a*b*c")),
             Equals(std::vector<std::string>{"a", "b", "c", "a:b", "a:c", "b:c", "a:b:c"}));
  // duplicates collapse (R: y ~ a + a:b + b:a + a -> a a:b)
  CHECK_THAT(Labels(ParseFormula("y ~ a + a:b + b:a + a")), Equals(std::vector<std::string>{"a", "a:b"}));
  CHECK_THAT(Labels(ParseFormula("pain_change ~ treatment * il6_change + age + sex")),
             Equals(std::vector<std::string>{"treatment", "il6_change", "age", "sex", "treatment:il6_change"}));
}

TEST_CASE("intercept removal and labels of arithmetic", "[formula]") {
  CHECK_FALSE(ParseFormula("y ~ x - 1").intercept);
  CHECK_FALSE(ParseFormula("y ~ 0 + x").intercept);
  CHECK(ParseFormula("y ~ 1 + x").intercept);
  // R deparses I(x*2) as "I(x * 2)" and I((a+b)/2) as "I((a + b)/2)".
  CHECK_THAT(Labels(ParseFormula("y ~ I(x*2) + log10(z + 1) + sqrt(w)")),
             Equals(std::vector<std::string>{"I(x * 2)", "log10(z + 1)", "sqrt(w)"}));
  CHECK_THAT(Labels(ParseFormula("y ~ I(x^2) + I(-x)")), Equals(std::vector<std::string>{"I(x^2)", "I(-x)"}));
  CHECK(ParseFormula("log(y) ~ x").response.Label() == "log(y)");
}

TEST_CASE("random-effect terms as lme4 reads them", "[formula]") {
  const Formula f = ParseFormula(
      "pain_nrs ~ arm * visit + (1 | site) + (1 + visit_day | participant) + offset(log(py))");
  CHECK_THAT(Labels(f), Equals(std::vector<std::string>{"arm", "visit", "arm:visit"}));
  REQUIRE(f.random.size() == 2);
  CHECK(f.random[0].Label() == "1 | site");
  CHECK(f.random[1].Label() == "1 + visit_day | participant");
  REQUIRE(f.offset.has_value());
  CHECK(f.offset->Label() == "log(py)");
  CHECK_THAT(f.Variables(),
             Equals(std::vector<std::string>{"pain_nrs", "arm", "visit", "py", "site", "visit_day", "participant"}));

  // (1 | site/participant) = (1 | site) + (1 | participant:site), named as
  // lme4 names its expansion (lme4::findbars(y ~ (1 | a/b/c)): a, b:a, c:(b:a))
  const Formula nested = ParseFormula("y ~ x + (1 | site/participant)");
  REQUIRE(nested.random.size() == 2);
  CHECK(nested.random[0].GroupLabel() == "site");
  CHECK(nested.random[1].GroupLabel() == "participant:site");
  CHECK(nested.random[1].grouping == std::vector<std::string>{"site", "participant"});
  const Formula three = ParseFormula("y ~ x + (1 | a/b/c) + (1 | a:b)");
  REQUIRE(three.random.size() == 4);
  CHECK(three.random[1].GroupLabel() == "b:a");
  CHECK(three.random[2].GroupLabel() == "c:(b:a)");
  CHECK(three.random[3].GroupLabel() == "a:b");
  const Formula no_intercept = ParseFormula("y ~ x + (0 + x | g)");
  REQUIRE(no_intercept.random.size() == 1);
  CHECK_FALSE(no_intercept.random[0].intercept);
}

TEST_CASE("'||' expands to one random-effect term per effect as lme4 does", "[formula]") {
  // lme4::findbars(lme4::expandDoubleVerts(y ~ x + (1 + x + z || g))): 1 | g, 0 + x | g, 0 + z | g
  const Formula f = ParseFormula("y ~ x + (1 + x + z || g)");
  REQUIRE(f.random.size() == 3);
  CHECK(f.random[0].Label() == "1 | g");
  CHECK(f.random[1].Label() == "0 + x | g");
  CHECK(f.random[2].Label() == "0 + z | g");
  const Formula slopes = ParseFormula("y ~ x + (0 + x + z || g)");
  REQUIRE(slopes.random.size() == 2);
  CHECK(slopes.random[0].Label() == "0 + x | g");
  CHECK_THAT(ErrorOf("y ~ x + (1 + x || a/b)"), Contains("'||' with a nested grouping"));
  CHECK_THAT(ErrorOf("y ~ x + (1 + x ||)"), Contains("needs a grouping variable"));
}

TEST_CASE("a product that expands to too many terms is refused before it is expanded", "[formula]") {
  // 2^10 - 1 = 1023 terms; found by fuzz_formula as a timeout (a longer product ran for minutes)
  const std::string error = ErrorOf("y ~ a*b*c*d*e*f*g*h*i*j");
  CHECK_THAT(error, Contains("expands to") && Contains("model terms; a formula may have at most 512"));
  CHECK(Labels(ParseFormula("y ~ a*b*c*d*e*f*g*h*i")).size() == 511);  // 2^9 - 1: allowed
  CHECK(Labels(ParseFormula("y ~ a*a*a*a*a*a*a*a*a*a*a*a")).size() == 1);  // repeats collapse as they go
  CHECK_THAT(ErrorOf("y ~ (a+b+c+d+e+f+g+h+i+j+k+l+m+n+o+p+q+r+s+t+u+v+w):(a+b+c+d+e+f+g+h+i+j+k+l+m+n+o+p+q+r+s+t+u+v+w)"),
             Contains("a formula may have at most 512"));
}

TEST_CASE("fuzz: every kept formula input parses or is an input error, at once", "[formula][fuzz]") {
  for (const auto& entry : std::filesystem::directory_iterator(std::string(COHORTDB_TEST_DATA_DIR) + "/fuzz/formula")) {
    std::ifstream in(entry.path());
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    INFO(entry.path().string());
    const auto start = std::chrono::steady_clock::now();
    try {
      ParseFormula(text);
    } catch (const cohortdb::InputError&) {
    }
    CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() < 5.0);
  }
}

TEST_CASE("formula errors point at the place", "[formula]") {
  CHECK(ErrorOf("y ~ (a + b") ==
        "formula, column 5: unbalanced parentheses: this '(' is never closed\n"
        "  y ~ (a + b\n"
        "      ^");
  CHECK(ErrorOf("y ~ a + b)") ==
        "formula, column 10: unbalanced parentheses: ')' without a matching '('\n"
        "  y ~ a + b)\n"
        "           ^");
  CHECK_THAT(ErrorOf("y ~ x + (1 | )"), Contains("column 14: a random-effect term needs a grouping variable"));
  CHECK_THAT(ErrorOf("y ~ x + (1 + x)"), Contains("no error"));  // parentheses, not a random term (as R)
  CHECK_THAT(ErrorOf("y ~ x + ( | g)"), Contains("expected random-effect terms before '|'"));
  CHECK_THAT(ErrorOf("y x"), Contains("column 3: expected '~' after the outcome, found 'x'"));
  CHECK_THAT(ErrorOf("y ~ "), Contains("expected terms after '~'"));
  CHECK_THAT(ErrorOf("y ~ foo(x)"), Contains("column 5: unknown function 'foo'"));
  CHECK_THAT(ErrorOf("y ~ x + 3"), Contains("a number alone is not a term"));
  CHECK_THAT(ErrorOf("y ~ x $ z"), Contains("column 7: unexpected character '$'"));
  CHECK_THAT(ErrorOf("y ~ x * (1 | g)"), Contains("column 7: random-effect terms and offset() cannot be multiplied"));
  CHECK_THAT(ErrorOf("y ~ x - z"), Contains("only '- 1'"));
}

TEST_CASE("unknown variables are named with a caret and a suggestion", "[formula]") {
  const Formula f = ParseFormula("pain ~ arm * il6 + age + (1 | participnt)");
  const std::vector<std::string> columns{"pain", "arm", "il6_change", "age", "participant"};
  const auto known = [&](const std::string& name) {
    return std::find(columns.begin(), columns.end(), name) != columns.end();
  };
  REQUIRE_THROWS_WITH(f.CheckVariables(known, columns),
                      "formula, column 14: unknown variable 'il6' (did you mean 'il6_change'?)\n"
                      "  pain ~ arm * il6 + age + (1 | participnt)\n"
                      "               ^");
  const Formula g = ParseFormula("pain ~ arm + (1 | participnt)");
  REQUIRE_THROWS_WITH(g.CheckVariables(known, columns), Contains("column 19: unknown variable 'participnt'"));
}

TEST_CASE("formula expressions evaluate as R does", "[formula]") {
  const Formula f = ParseFormula("y ~ I(x^2) + log(x) + I((x + 1)/2) + exp(-x)");
  const std::map<std::string, double> row{{"x", 3.0}};
  const auto value = [&](const std::string& name) { return row.at(name); };
  CHECK(Evaluate(f.terms[0].factors[0], value) == 9.0);
  CHECK(Evaluate(f.terms[1].factors[0], value) == std::log(3.0));
  CHECK(Evaluate(f.terms[2].factors[0], value) == 2.0);
  CHECK(Evaluate(f.terms[3].factors[0], value) == std::exp(-3.0));
  CHECK(f.terms[2].Label() == "I((x + 1)/2)");
}

TEST_CASE("every prefix and one-character deletion of a formula parses or is an InputError", "[formula]") {
  const std::string full =
      "log(y) ~ a * b + c + a:c + log(x) + I(x^2) + (1 | site) + (1 + visit_day | participant) + "
      "(1 | site/participant) + offset(log(py)) - 1 + `odd name` + I(-(x + 1.5e-3)/2)";
  const auto try_parse = [](const std::string& text) {
    try {
      const Formula f = ParseFormula(text);
      (void)f.Variables();
    } catch (const cohortdb::InputError& e) {
      // Every error points into the text: a caret line follows the message.
      CHECK(std::string(e.what()).find("^") != std::string::npos);
    }
  };
  for (std::size_t n = 0; n <= full.size(); ++n) try_parse(full.substr(0, n));
  for (std::size_t i = 0; i < full.size(); ++i) try_parse(full.substr(0, i) + full.substr(i + 1));
  for (std::size_t i = 0; i < full.size(); ++i) try_parse(full.substr(0, i) + "(" + full.substr(i));
}

TEST_CASE("deep nesting is an error / not a stack overflow", "[formula]") {
  CHECK_THAT(ErrorOf("y ~ " + std::string(100000, '(') + "x"), Contains("nested more than 200 levels deep"));
  CHECK_THAT(ErrorOf("y ~ I(" + std::string(100000, '-') + "x)"), Contains("nested more than 200 levels deep"));
}
