#include "analysis/formula.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <set>

#include <fmt/format.h>

#include "common/close_matches.h"
#include "common/error.h"

namespace cohortdb::analysis {

namespace {

constexpr std::string_view kFunctions[] = {"log", "log2", "log10", "exp", "sqrt", "abs"};

bool IsFunction(std::string_view name) {
  return std::find(std::begin(kFunctions), std::end(kFunctions), name) != std::end(kFunctions);
}

struct Token {
  enum class Kind { kName, kNumber, kSymbol, kEnd };
  Kind kind = Kind::kEnd;
  std::string text;
  double number = 0.0;
  std::size_t position = 0;
};

std::string FormatNumber(double value) {
  std::string s = fmt::format("{}", value);
  return s;
}

// Terms as sets of covariates (by label), kept in order of appearance.
using TermList = std::vector<FormulaTerm>;

std::string TermKey(const FormulaTerm& term) {
  std::vector<std::string> labels;
  for (const auto& f : term.factors) labels.push_back(f.Label());
  std::sort(labels.begin(), labels.end());
  std::string key;
  for (const auto& l : labels) key += l + '\x1f';
  return key;
}

void AddTerm(TermList& into, FormulaTerm term) {
  // a:a is a
  FormulaTerm unique;
  for (auto& f : term.factors) {
    const bool seen = std::any_of(unique.factors.begin(), unique.factors.end(),
                                  [&](const FormulaExpr& g) { return g.Label() == f.Label(); });
    if (!seen) unique.factors.push_back(std::move(f));
  }
  const std::string key = TermKey(unique);
  if (std::none_of(into.begin(), into.end(), [&](const FormulaTerm& t) { return TermKey(t) == key; })) {
    into.push_back(std::move(unique));
  }
}

TermList Interact(const TermList& a, const TermList& b) {
  TermList out;
  for (const auto& x : a) {
    for (const auto& y : b) {
      FormulaTerm t = x;
      t.factors.insert(t.factors.end(), y.factors.begin(), y.factors.end());
      AddTerm(out, std::move(t));
    }
  }
  return out;
}

// What a (sub)sum of the right-hand side holds besides its terms.
struct RightSide {
  TermList terms;
  std::optional<bool> intercept;  // set by 1, 0 or -1
  std::vector<RandomTerm> random;
  std::optional<FormulaExpr> offset;
};

class Parser {
 public:
  explicit Parser(const Formula& formula) : formula_(formula), text_(formula.text) { Tokenize(); }

  Formula Parse() {
    Formula out = formula_;
    if (Peek().kind == Token::Kind::kSymbol && Peek().text == "~") Fail(Peek().position, "expected an outcome before '~'");
    out.response = ParseArith();
    if (!(Peek().kind == Token::Kind::kSymbol && Peek().text == "~")) {
      Fail(Peek().position, Peek().kind == Token::Kind::kEnd ? "expected '~' after the outcome"
                                                               : "expected '~' after the outcome, found '" +
                                                                     Peek().text + "'");
    }
    Next();
    if (Peek().kind == Token::Kind::kEnd) Fail(Peek().position, "expected terms after '~'");
    RightSide rhs = ParseSum(/*top=*/true);
    if (Peek().kind != Token::Kind::kEnd) {
      if (Peek().text == ")") Fail(Peek().position, "unbalanced parentheses: ')' without a matching '('");
      Fail(Peek().position, "unexpected '" + Peek().text + "'; expected '+', '*', ':' or the end of the formula");
    }
    out.intercept = rhs.intercept.value_or(true);
    out.random = std::move(rhs.random);
    out.offset = std::move(rhs.offset);
    // R's terms(): by order of interaction, stable.
    std::stable_sort(rhs.terms.begin(), rhs.terms.end(), [](const FormulaTerm& a, const FormulaTerm& b) {
      return a.factors.size() < b.factors.size();
    });
    out.terms = std::move(rhs.terms);
    return out;
  }

 private:
  [[noreturn]] void Fail(std::size_t position, const std::string& message) const {
    throw InputError(formula_.PointAt(position, message));
  }

  void Tokenize() {
    std::size_t i = 0;
    const std::size_t n = text_.size();
    while (i < n) {
      const char c = text_[i];
      if (std::isspace(static_cast<unsigned char>(c))) {
        ++i;
        continue;
      }
      Token t;
      t.position = i;
      if (std::isalpha(static_cast<unsigned char>(c)) || c == '.' || c == '_') {
        if (c == '.' && i + 1 < n && std::isdigit(static_cast<unsigned char>(text_[i + 1]))) {
          // a number like .5
        } else {
          std::size_t j = i;
          while (j < n && (std::isalnum(static_cast<unsigned char>(text_[j])) || text_[j] == '.' || text_[j] == '_')) ++j;
          t.kind = Token::Kind::kName;
          t.text = std::string(text_.substr(i, j - i));
          tokens_.push_back(t);
          i = j;
          continue;
        }
      }
      if (c == '`') {
        const std::size_t close = text_.find('`', i + 1);
        if (close == std::string_view::npos) Fail(i, "unterminated `quoted name`");
        t.kind = Token::Kind::kName;
        t.text = std::string(text_.substr(i + 1, close - i - 1));
        tokens_.push_back(t);
        i = close + 1;
        continue;
      }
      if (std::isdigit(static_cast<unsigned char>(c)) || c == '.') {
        std::size_t j = i;
        while (j < n && (std::isdigit(static_cast<unsigned char>(text_[j])) || text_[j] == '.')) ++j;
        if (j < n && (text_[j] == 'e' || text_[j] == 'E')) {
          std::size_t k = j + 1;
          if (k < n && (text_[k] == '+' || text_[k] == '-')) ++k;
          if (k < n && std::isdigit(static_cast<unsigned char>(text_[k]))) {
            j = k;
            while (j < n && std::isdigit(static_cast<unsigned char>(text_[j]))) ++j;
          }
        }
        const std::string s(text_.substr(i, j - i));
        char* end = nullptr;
        t.number = std::strtod(s.c_str(), &end);
        if (end != s.c_str() + s.size()) Fail(i, "'" + s + "' is not a number");
        t.kind = Token::Kind::kNumber;
        t.text = s;
        tokens_.push_back(t);
        i = j;
        continue;
      }
      if (std::string_view("~+-*/^:|(),").find(c) != std::string_view::npos) {
        t.kind = Token::Kind::kSymbol;
        t.text = std::string(1, c);
        tokens_.push_back(t);
        ++i;
        continue;
      }
      Fail(i, fmt::format("unexpected character '{}'", c));
    }
    Token end;
    end.position = n;
    tokens_.push_back(end);
  }

  const Token& Peek(std::size_t ahead = 0) const { return tokens_[std::min(pos_ + ahead, tokens_.size() - 1)]; }
  const Token& Next() { return tokens_[std::min(pos_++, tokens_.size() - 1)]; }
  bool IsSymbol(std::string_view s) const { return Peek().kind == Token::Kind::kSymbol && Peek().text == s; }

  void Expect(std::string_view symbol, std::size_t open_position) {
    if (IsSymbol(symbol)) {
      Next();
      return;
    }
    if (symbol == ")") {
      if (Peek().kind == Token::Kind::kEnd) Fail(open_position, "unbalanced parentheses: this '(' is never closed");
      Fail(Peek().position, "expected ')' to close the '(' at column " + std::to_string(open_position + 1) +
                                ", found '" + Peek().text + "'");
    }
    Fail(Peek().position, "expected '" + std::string(symbol) + "'");
  }

  // Does the parenthesis at the current token enclose a '|' at its own depth?
  bool IsRandomTerm() const {
    int depth = 0;
    for (std::size_t k = pos_; k < tokens_.size(); ++k) {
      const Token& t = tokens_[k];
      if (t.kind != Token::Kind::kSymbol) continue;
      if (t.text == "(") ++depth;
      if (t.text == ")" && --depth == 0) return false;
      if (t.text == "|" && depth == 1) return true;
    }
    return false;
  }

  RightSide ParseSum(bool top) {
    RightSide out;
    bool negate = false;
    if (IsSymbol("-")) {
      negate = true;
      Next();
    }
    for (;;) {
      const std::size_t at = Peek().position;
      RightSide part = ParseProduct(top);
      if (negate) {
        if (!part.terms.empty() || !part.random.empty() || part.offset || part.intercept != true) {
          Fail(at, "only '- 1' (no intercept) can be subtracted in a formula");
        }
        out.intercept = false;
      } else {
        for (auto& t : part.terms) AddTerm(out.terms, std::move(t));
        if (part.intercept) out.intercept = part.intercept;
        for (auto& r : part.random) out.random.push_back(std::move(r));
        if (part.offset) {
          if (out.offset) Fail(at, "a second offset(); combine them into one");
          out.offset = std::move(part.offset);
        }
      }
      if (IsSymbol("+")) {
        negate = false;
      } else if (IsSymbol("-")) {
        negate = true;
      } else {
        break;
      }
      Next();
    }
    return out;
  }

  // A product of many sums expands combinatorially (a*b*...*k: 2^k - 1
  // terms); past kMaxTerms it is refused before it is expanded.
  static constexpr std::size_t kMaxTerms = 512;
  void CheckTermCount(std::size_t terms, std::size_t at) const {
    if (terms > kMaxTerms) {
      Fail(at, "this product expands to " + std::to_string(terms) + " model terms; a formula may have at most " +
                   std::to_string(kMaxTerms));
    }
  }

  RightSide ParseProduct(bool top) {
    const std::size_t at = Peek().position;
    RightSide left = ParseInteraction(top);
    while (IsSymbol("*")) {
      const std::size_t op = Peek().position;
      Next();
      RightSide right = ParseInteraction(top);
      if (!left.random.empty() || !right.random.empty() || left.offset || right.offset) {
        Fail(op, "random-effect terms and offset() cannot be multiplied; add them with '+'");
      }
      if (left.intercept || right.intercept) Fail(at, "'1' or '0' cannot be part of an interaction");
      CheckTermCount(left.terms.size() + right.terms.size() + left.terms.size() * right.terms.size(), op);
      TermList all = left.terms;
      for (auto& t : right.terms) AddTerm(all, t);
      for (auto& t : Interact(left.terms, right.terms)) AddTerm(all, std::move(t));
      left.terms = std::move(all);
    }
    return left;
  }

  RightSide ParseInteraction(bool top) {
    const std::size_t at = Peek().position;
    RightSide left = ParseAtom(top);
    while (IsSymbol(":")) {
      const std::size_t op = Peek().position;
      Next();
      RightSide right = ParseAtom(top);
      if (!left.random.empty() || !right.random.empty() || left.offset || right.offset) {
        Fail(op, "random-effect terms and offset() cannot be part of an interaction");
      }
      if (left.intercept || right.intercept) Fail(at, "'1' or '0' cannot be part of an interaction");
      CheckTermCount(left.terms.size() * right.terms.size(), op);
      left.terms = Interact(left.terms, right.terms);
    }
    return left;
  }

  RightSide ParseAtom(bool top) {
    const Nest nest(*this, Peek().position);
    RightSide out;
    const Token& t = Peek();
    if (t.kind == Token::Kind::kEnd) Fail(t.position, "expected a term at the end of the formula");
    if (t.kind == Token::Kind::kNumber) {
      if (t.number != 0.0 && t.number != 1.0) {
        Fail(t.position, "a number alone is not a term; only 1 (intercept) or 0 (none); use I(...) for arithmetic");
      }
      out.intercept = t.number == 1.0;
      Next();
      return out;
    }
    if (IsSymbol("(")) {
      const std::size_t open = t.position;
      if (IsRandomTerm()) {
        if (!top) Fail(open, "a random-effect term must stand on its own in the formula, added with '+'");
        Next();
        ParseRandom(open, out.random);
        Expect(")", open);
        return out;
      }
      Next();
      out = ParseSum(false);
      Expect(")", open);
      return out;
    }
    if (t.kind == Token::Kind::kName && Peek(1).kind == Token::Kind::kSymbol && Peek(1).text == "(" &&
        t.text == "offset") {
      const std::size_t at = t.position;
      if (!top) Fail(at, "offset() must stand on its own in the formula, added with '+'");
      Next();
      const std::size_t open = Next().position;
      out.offset = ParseArith();
      Expect(")", open);
      return out;
    }
    if (t.kind == Token::Kind::kSymbol) {
      if (t.text == ")") Fail(t.position, "unbalanced parentheses: ')' without a matching '('");
      Fail(t.position, "expected a term, found '" + t.text + "'");
    }
    FormulaTerm term;
    term.factors.push_back(ParseArithPrimary());
    out.terms.push_back(std::move(term));
    return out;
  }

  // terms '|' grouping, inside the parentheses.
  void ParseRandom(std::size_t open, std::vector<RandomTerm>& out) {
    RandomTerm term;
    term.position = open;
    bool first = true;
    bool negate = false;
    for (;;) {
      const Token& t = Peek();
      if (t.kind == Token::Kind::kNumber && (t.number == 0.0 || t.number == 1.0)) {
        term.intercept = negate ? t.number == 0.0 : t.number == 1.0;
        Next();
      } else if (IsSymbol("|")) {
        if (first) Fail(t.position, "expected random-effect terms before '|', e.g. (1 | group)");
        break;
      } else {
        if (negate) Fail(t.position, "only '- 1' can be subtracted in a random-effect term");
        FormulaExpr e = ParseArithPrimary();
        const std::string label = e.Label();
        if (std::none_of(term.slopes.begin(), term.slopes.end(),
                         [&](const FormulaExpr& s) { return s.Label() == label; })) {
          term.slopes.push_back(std::move(e));
        }
      }
      first = false;
      negate = false;
      if (IsSymbol("+")) {
        Next();
      } else if (IsSymbol("-")) {
        negate = true;
        Next();
      } else if (!IsSymbol("|")) {
        if (Peek().kind == Token::Kind::kEnd || IsSymbol(")")) Fail(Peek().position, "expected '|' and a grouping variable");
        Fail(Peek().position, "expected '+' or '|' in the random-effect term, found '" + Peek().text + "'");
      }
    }
    const std::size_t bar = Next().position;  // '|'
    // '||': uncorrelated effects, which lme4 expands to one term per effect:
    // (1 + x || g) = (1 | g) + (0 + x | g).
    const bool uncorrelated = IsSymbol("|");
    if (uncorrelated) Next();
    if (Peek().kind != Token::Kind::kName) {
      Fail(Peek().kind == Token::Kind::kEnd ? bar : Peek().position,
           "a random-effect term needs a grouping variable after '|', e.g. (1 | participant)");
    }
    std::vector<std::string> chain{Next().text};
    char joiner = 0;
    while (IsSymbol("/") || IsSymbol(":")) {
      const char op = Peek().text[0];
      if (joiner != 0 && joiner != op) Fail(Peek().position, "mix of '/' and ':' in one grouping; write two terms");
      joiner = op;
      const std::size_t at = Next().position;
      if (Peek().kind != Token::Kind::kName) Fail(at, "expected a grouping variable after '" + std::string(1, op) + "'");
      chain.push_back(Next().text);
    }
    if (!term.intercept && term.slopes.empty()) Fail(open, "a random-effect term with no intercept and no slope");
    if (uncorrelated) {
      if (joiner == '/') Fail(bar, "'||' with a nested grouping ('/'): write one term per grouping");
      if (term.intercept) {
        RandomTerm one = term;
        one.slopes.clear();
        one.grouping = chain;
        out.push_back(std::move(one));
      }
      for (const FormulaExpr& slope : term.slopes) {
        RandomTerm one = term;
        one.intercept = false;
        one.slopes = {slope};
        one.grouping = chain;
        out.push_back(std::move(one));
      }
      return;
    }
    if (joiner == '/') {
      // a/b/c = a + a:b + a:b:c
      for (std::size_t k = 1; k <= chain.size(); ++k) {
        RandomTerm nested = term;
        nested.grouping.assign(chain.begin(), chain.begin() + static_cast<std::ptrdiff_t>(k));
        nested.nested = true;
        out.push_back(std::move(nested));
      }
    } else {
      term.grouping = chain;
      out.push_back(std::move(term));
    }
  }

  // Arithmetic: sum of products of powers of unary primaries.
  FormulaExpr ParseArith() {
    FormulaExpr left = ParseArithTerm();
    while (IsSymbol("+") || IsSymbol("-")) {
      const Token op = Next();
      FormulaExpr b;
      b.kind = FormulaExpr::Kind::kBinary;
      b.op = op.text[0];
      b.position = op.position;
      b.args.push_back(std::move(left));
      b.args.push_back(ParseArithTerm());
      left = std::move(b);
    }
    return left;
  }

  FormulaExpr ParseArithTerm() {
    FormulaExpr left = ParseArithPower();
    while (IsSymbol("*") || IsSymbol("/")) {
      const Token op = Next();
      FormulaExpr b;
      b.kind = FormulaExpr::Kind::kBinary;
      b.op = op.text[0];
      b.position = op.position;
      b.args.push_back(std::move(left));
      b.args.push_back(ParseArithPower());
      left = std::move(b);
    }
    return left;
  }

  FormulaExpr ParseArithPower() {
    const Nest nest(*this, Peek().position);
    if (IsSymbol("-")) {
      FormulaExpr neg;
      neg.kind = FormulaExpr::Kind::kNegate;
      neg.position = Next().position;
      neg.args.push_back(ParseArithPower());
      return neg;
    }
    FormulaExpr base = ParseArithPrimary();
    if (IsSymbol("^")) {
      FormulaExpr b;
      b.kind = FormulaExpr::Kind::kBinary;
      b.op = '^';
      b.position = Next().position;
      b.args.push_back(std::move(base));
      b.args.push_back(ParseArithPower());  // right-associative
      return b;
    }
    return base;
  }

  FormulaExpr ParseArithPrimary() {
    const Nest nest(*this, Peek().position);
    const Token t = Peek();
    FormulaExpr e;
    e.position = t.position;
    if (t.kind == Token::Kind::kNumber) {
      Next();
      e.kind = FormulaExpr::Kind::kNumber;
      e.number = t.number;
      return e;
    }
    if (t.kind == Token::Kind::kName) {
      Next();
      if (IsSymbol("(")) {
        const std::size_t open = Next().position;
        if (t.text == "I" || IsFunction(t.text)) {
          e.args.push_back(ParseArith());
        } else {
          Fail(t.position, "unknown function '" + t.text +
                               "'; expected log, log2, log10, exp, sqrt, abs, I or offset");
        }
        Expect(")", open);
        e.kind = FormulaExpr::Kind::kCall;
        e.name = t.text;
        return e;
      }
      e.kind = FormulaExpr::Kind::kVariable;
      e.name = t.text;
      return e;
    }
    if (IsSymbol("(")) {
      const std::size_t open = Next().position;
      FormulaExpr inner = ParseArith();
      Expect(")", open);
      return inner;
    }
    if (t.kind == Token::Kind::kEnd) Fail(t.position, "the formula ends where a variable was expected");
    if (t.text == ")") Fail(t.position, "unbalanced parentheses: ')' without a matching '('");
    Fail(t.position, "expected a variable, found '" + t.text + "'");
  }

  // Nesting depth guard: deeply nested input is an error, not a stack overflow.
  static constexpr int kMaxDepth = 200;
  class Nest {
   public:
    Nest(Parser& parser, std::size_t position) : parser_(parser) {
      if (++parser_.depth_ > kMaxDepth) {
        parser_.Fail(position, "nested more than " + std::to_string(kMaxDepth) + " levels deep");
      }
    }
    ~Nest() { --parser_.depth_; }
    Nest(const Nest&) = delete;
    Nest& operator=(const Nest&) = delete;

   private:
    Parser& parser_;
  };

  const Formula& formula_;
  std::string_view text_;
  int depth_ = 0;
  std::vector<Token> tokens_;
  std::size_t pos_ = 0;
};

void CollectVariables(const FormulaExpr& e, std::vector<std::string>& out) {
  if (e.kind == FormulaExpr::Kind::kVariable) {
    if (std::find(out.begin(), out.end(), e.name) == out.end()) out.push_back(e.name);
    return;
  }
  for (const auto& a : e.args) CollectVariables(a, out);
}

void CollectReferences(const FormulaExpr& e, std::vector<const FormulaExpr*>& out) {
  if (e.kind == FormulaExpr::Kind::kVariable) {
    out.push_back(&e);
    return;
  }
  for (const auto& a : e.args) CollectReferences(a, out);
}

int Precedence(const FormulaExpr& e) {
  if (e.kind == FormulaExpr::Kind::kBinary) {
    switch (e.op) {
      case '+':
      case '-':
        return 1;
      case '*':
      case '/':
        return 2;
      default:
        return 4;
    }
  }
  if (e.kind == FormulaExpr::Kind::kNegate) return 3;
  return 5;
}

}  // namespace

std::string FormulaExpr::Label() const {
  switch (kind) {
    case Kind::kVariable:
      return name;
    case Kind::kNumber:
      return FormatNumber(number);
    case Kind::kCall:
      return name + "(" + args[0].Label() + ")";
    case Kind::kNegate: {
      const std::string inner = args[0].Label();
      return Precedence(args[0]) < 3 ? "-(" + inner + ")" : "-" + inner;
    }
    case Kind::kBinary: {
      const int mine = Precedence(*this);
      std::string left = args[0].Label();
      std::string right = args[1].Label();
      // Left-associative + - * /; right-associative ^.
      const bool paren_left = op == '^' ? Precedence(args[0]) <= mine : Precedence(args[0]) < mine;
      const bool paren_right = op == '^' ? Precedence(args[1]) < mine : Precedence(args[1]) <= mine;
      if (paren_left) left = "(" + left + ")";
      if (paren_right) right = "(" + right + ")";
      // R's deparse spaces + - * but not / ^.
      if (op == '^' || op == '/') return left + op + right;
      return left + " " + op + " " + right;
    }
  }
  return {};
}

std::string FormulaTerm::Label() const {
  std::string out;
  for (std::size_t i = 0; i < factors.size(); ++i) {
    if (i > 0) out += ':';
    out += factors[i].Label();
  }
  return out;
}

std::string RandomTerm::GroupLabel() const {
  std::string out;
  if (nested) {  // lme4's deparse of its expansion of a/b/c: a, b:a, c:(b:a)
    for (std::size_t i = 0; i < grouping.size(); ++i) {
      out = i == 0 ? grouping[i] : grouping[i] + ":" + (i > 1 ? "(" + out + ")" : out);
    }
    return out;
  }
  for (std::size_t i = 0; i < grouping.size(); ++i) out += (i > 0 ? ":" : "") + grouping[i];
  return out;
}

std::string RandomTerm::Label() const {
  std::string out = intercept ? "1" : "0";
  for (const auto& s : slopes) out += " + " + s.Label();
  return out + " | " + GroupLabel();
}

std::vector<std::string> Formula::Variables() const {
  std::vector<std::string> out;
  CollectVariables(response, out);
  for (const auto& t : terms) {
    for (const auto& f : t.factors) CollectVariables(f, out);
  }
  if (offset) CollectVariables(*offset, out);
  for (const auto& r : random) {
    for (const auto& s : r.slopes) CollectVariables(s, out);
    for (const auto& g : r.grouping) {
      if (std::find(out.begin(), out.end(), g) == out.end()) out.push_back(g);
    }
  }
  return out;
}

std::string Formula::PointAt(std::size_t position, std::string_view message) const {
  const std::size_t column = std::min(position, text.size());
  std::string flat = text;
  std::replace(flat.begin(), flat.end(), '\n', ' ');
  std::replace(flat.begin(), flat.end(), '\t', ' ');
  return fmt::format("formula, column {}: {}\n  {}\n  {}^", column + 1, message, flat, std::string(column, ' '));
}

void Formula::CheckVariables(const std::function<bool(const std::string&)>& known,
                             const std::vector<std::string>& candidates) const {
  std::vector<const FormulaExpr*> refs;
  CollectReferences(response, refs);
  for (const auto& t : terms) {
    for (const auto& f : t.factors) CollectReferences(f, refs);
  }
  if (offset) CollectReferences(*offset, refs);
  for (const auto& r : random) {
    for (const auto& s : r.slopes) CollectReferences(s, refs);
  }
  std::sort(refs.begin(), refs.end(), [](const FormulaExpr* a, const FormulaExpr* b) { return a->position < b->position; });
  const auto fail = [&](const std::string& name, std::size_t position) {
    std::string message = "unknown variable '" + name + "'";
    const auto close = CloseMatches(name, candidates);
    if (!close.empty()) message += " (did you mean '" + close.front() + "'?)";
    throw InputError(PointAt(position, message));
  };
  for (const FormulaExpr* e : refs) {
    if (!known(e->name)) fail(e->name, e->position);
  }
  for (const auto& r : random) {
    for (const auto& g : r.grouping) {
      if (known(g)) continue;
      // The grouping name's own position: search after the term's opening parenthesis.
      std::size_t at = text.find(g, r.position);
      fail(g, at == std::string::npos ? r.position : at);
    }
  }
}

Formula ParseFormula(std::string_view text) {
  Formula formula;
  formula.text = std::string(text);
  return Parser(formula).Parse();
}

double Evaluate(const FormulaExpr& expr, const std::function<double(const std::string&)>& variable) {
  switch (expr.kind) {
    case FormulaExpr::Kind::kVariable:
      return variable(expr.name);
    case FormulaExpr::Kind::kNumber:
      return expr.number;
    case FormulaExpr::Kind::kNegate:
      return -Evaluate(expr.args[0], variable);
    case FormulaExpr::Kind::kCall: {
      const double v = Evaluate(expr.args[0], variable);
      if (expr.name == "I") return v;
      if (expr.name == "log") return std::log(v);
      if (expr.name == "log2") return std::log2(v);
      if (expr.name == "log10") return std::log10(v);
      if (expr.name == "exp") return std::exp(v);
      if (expr.name == "sqrt") return std::sqrt(v);
      if (expr.name == "abs") return std::abs(v);
      return std::numeric_limits<double>::quiet_NaN();
    }
    case FormulaExpr::Kind::kBinary: {
      const double a = Evaluate(expr.args[0], variable);
      const double b = Evaluate(expr.args[1], variable);
      switch (expr.op) {
        case '+':
          return a + b;
        case '-':
          return a - b;
        case '*':
          return a * b;
        case '/':
          return a / b;
        default:
          return std::pow(a, b);
      }
    }
  }
  return std::numeric_limits<double>::quiet_NaN();
}

}  // namespace cohortdb::analysis
