#pragma once
// R-style model formulas: parsing and the names R gives to their terms. No
// SQLite, no frame: a Formula is checked against the frame's variable names
// by the caller (CheckVariables) and evaluated row by row through a callback.
//
//   pain_change ~ arm * il6_change + age + log(crp) + I(age^2)
//   pain_nrs ~ arm * visit + (1 + visit_day | participant) + (1 | site/participant)
//   events ~ smoker + age + offset(log(person_years))
//
// Supported: `+`; `*` (a * b = a + b + a:b, over parenthesised sums too);
// `:`; `- 1`, `+ 0` (no intercept); the functions log, log2, log10, exp,
// sqrt, abs; I(...) with + - * / ^ and numbers; offset(...); random-effect
// terms (terms | group), (terms | a/b) (nested: (terms | a) + (terms | b:a),
// as lme4 expands and names it) and (terms | a:b). Terms are ordered as R's terms() orders them
// (by order of interaction, then as written) and named as R names them:
// "log(crp)", "I(age^2)", "arm:il6_change" (a factor's level is appended to
// its variable name by the design, e.g. "armintervention:il6_change").
//
// Errors are InputError with the column and a caret line under the place in
// the formula: unknown variable, unbalanced parentheses, a random term without
// a grouping variable, an unknown function, a missing `~`.
//
// Values are immutable after parsing; thread-safe to share.

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cohortdb::analysis {

// An arithmetic expression over frame variables.
struct FormulaExpr {
  enum class Kind { kVariable, kNumber, kCall, kBinary, kNegate };
  Kind kind = Kind::kNumber;
  std::string name;   // variable or function name
  double number = 0.0;
  char op = 0;        // '+', '-', '*', '/', '^' for kBinary
  std::vector<FormulaExpr> args;
  std::size_t position = 0;  // 0-based offset in the formula text

  // R's deparse: "log(crp)", "I(age^2)", "I(x * 2)".
  std::string Label() const;
  // True for a bare variable name (which may be categorical).
  bool IsVariable() const { return kind == Kind::kVariable; }
};

// A fixed-effect term: one covariate or an interaction of several.
struct FormulaTerm {
  std::vector<FormulaExpr> factors;
  std::string Label() const;  // "age", "arm:il6_change"
};

// One random-effect term (after expanding a/b): (1 + visit_day | participant).
struct RandomTerm {
  bool intercept = true;
  std::vector<FormulaExpr> slopes;
  std::vector<std::string> grouping;  // one variable, or several for an interaction group (a:b)
  bool nested = false;                // from a/b: labelled as lme4 labels it (b:a, c:(b:a))
  std::size_t position = 0;
  std::string GroupLabel() const;  // "participant", "site:participant"; "participant:site" from site/participant
  std::string Label() const;       // "1 + visit_day | participant"
};

struct Formula {
  std::string text;
  FormulaExpr response;
  bool intercept = true;
  std::vector<FormulaTerm> terms;  // in R's order
  std::vector<RandomTerm> random;
  std::optional<FormulaExpr> offset;

  // Every frame variable the formula uses, each once, in order of appearance
  // (response, terms, offset, random slopes and groups): the columns a frame
  // must load for this formula.
  std::vector<std::string> Variables() const;
  // Throws InputError (column, caret) for the first variable `known` rejects;
  // `candidates` feed the "did you mean" hint.
  void CheckVariables(const std::function<bool(const std::string&)>& known,
                      const std::vector<std::string>& candidates = {}) const;
  // "The place in the formula" of an error about something at `position`.
  std::string PointAt(std::size_t position, std::string_view message) const;
};

// Parses `text`. Throws InputError pointing at the place in the text.
Formula ParseFormula(std::string_view text);

// The value of `expr` for one row; `variable` gives a variable's value
// (NaN when missing). log of a non-positive value is NaN or -inf, as in R.
double Evaluate(const FormulaExpr& expr, const std::function<double(const std::string&)>& variable);

}  // namespace cohortdb::analysis
