#include "analysis/formula_design.h"

#include <bit>
#include <cmath>
#include <cstdint>
#include <map>
#include <set>
#include <string_view>
#include <unordered_map>

#include <fmt/format.h>

#include "common/error.h"

namespace cohortdb::analysis {

namespace {

// The columns one factor of a term contributes: a numeric expression (one
// column) or a categorical variable's non-reference dummies.
struct Block {
  std::vector<Eigen::VectorXd> columns;
  std::vector<std::string> names;
};

Eigen::VectorXd NumericExpression(Frame& frame, const Formula& formula, const FormulaExpr& expr,
                                  const std::string& role) {
  const auto n = static_cast<Eigen::Index>(frame.rows());
  std::map<std::string, const Column*> used;
  std::vector<std::string> names;
  std::function<void(const FormulaExpr&)> collect = [&](const FormulaExpr& e) {
    if (e.kind == FormulaExpr::Kind::kVariable) {
      const Column& c = frame.Get(e.name, "formula");
      if (!c.numeric) {
        throw InputError(formula.PointAt(
            e.position, fmt::format("'{}' is categorical; {} needs a number here", e.name, role)));
      }
      used[e.name] = &c;
      return;
    }
    for (const auto& a : e.args) collect(a);
  };
  collect(expr);
  Eigen::VectorXd out(n);
  const auto not_finite = [&](Eigen::Index i) {
    return InputError(formula.PointAt(
        expr.position, fmt::format("{} is {} in row {} (log or sqrt of 0 or a negative value?); expected a "
                                   "finite number",
                                   expr.Label(), out(i), i + 1)));
  };
  if (expr.kind == FormulaExpr::Kind::kVariable) {  // a column as it is: no evaluation per row
    const std::vector<double>& values = used.begin()->second->values;
    for (Eigen::Index i = 0; i < n; ++i) {
      out(i) = values[static_cast<std::size_t>(i)];
      if (!std::isfinite(out(i))) throw not_finite(i);
    }
    return out;
  }
  for (Eigen::Index i = 0; i < n; ++i) {
    const auto value = [&](const std::string& name) { return used.at(name)->values[static_cast<std::size_t>(i)]; };
    out(i) = Evaluate(expr, value);
    if (!std::isfinite(out(i))) throw not_finite(i);
  }
  return out;
}

Block FactorBlock(Frame& frame, const Formula& formula, const FormulaExpr& expr) {
  Block b;
  const auto n = static_cast<Eigen::Index>(frame.rows());
  if (expr.IsVariable() && !frame.Get(expr.name, "formula").numeric) {
    const Column& c = frame.Get(expr.name, "formula");
    std::vector<bool> held(c.levels.size(), false);
    for (std::int32_t code : c.codes) {
      if (code >= 0) held[static_cast<std::size_t>(code)] = true;
    }
    std::vector<std::string_view> levels;
    std::vector<std::int32_t> level_codes;
    for (std::size_t k = 0; k < c.levels.size(); ++k) {
      if (held[k]) {
        levels.push_back(c.levels[k]);
        level_codes.push_back(static_cast<std::int32_t>(k));
      }
    }
    if (levels.size() < 2) {
      throw InputError(formula.PointAt(
          expr.position,
          fmt::format("factor '{}' has {} in the rows used; a categorical predictor needs at least two levels",
                      expr.name,
                      levels.empty() ? std::string("no level") : fmt::format("the single level '{}'", levels.front()))));
    }
    for (std::size_t l = 1; l < levels.size(); ++l) {
      Eigen::VectorXd dummy(n);
      for (Eigen::Index i = 0; i < n; ++i) {
        dummy(i) = c.codes[static_cast<std::size_t>(i)] == level_codes[l] ? 1.0 : 0.0;
      }
      b.columns.push_back(std::move(dummy));
      b.names.push_back(expr.name + std::string(levels[l]));
    }
    return b;
  }
  b.columns.push_back(NumericExpression(frame, formula, expr, "the formula"));
  b.names.push_back(expr.Label());
  return b;
}

std::vector<int> GroupCodes(Frame& frame, const std::vector<std::string>& grouping, int& groups) {
  const std::size_t n = frame.rows();
  std::vector<int> out(n);
  std::vector<const Column*> columns;
  for (const auto& g : grouping) columns.push_back(&frame.Get(g, "formula"));
  if (columns.size() == 1) {
    // One grouping column (the usual case): codes without a text key per row,
    // numbered in order of first appearance as below. A numeric value is
    // keyed by its bits, as its text distinguishes 0 and -0.
    const Column& c = *columns.front();
    if (c.numeric) {
      // Integer values in a range not much wider than the rows (participant
      // ids, site numbers; not -0, a group of its own below): a table indexed
      // by value instead of a hash map.
      double low = 0.0;
      double high = 0.0;
      bool integers = n > 0;
      for (std::size_t i = 0; i < n && integers; ++i) {
        const double v = c.values[i];
        integers = std::isfinite(v) && v == std::nearbyint(v) && std::abs(v) < 9e15 && !(v == 0.0 && std::signbit(v));
        if (i == 0 || v < low) low = v;
        if (i == 0 || v > high) high = v;
      }
      if (integers && high - low < 4.0 * static_cast<double>(n) + 1024.0) {
        std::vector<int> code_of(static_cast<std::size_t>(high - low) + 1, -1);
        int next = 0;
        for (std::size_t i = 0; i < n; ++i) {
          int& code = code_of[static_cast<std::size_t>(c.values[i] - low)];
          if (code < 0) code = next++;
          out[i] = code;
        }
        groups = next;
        return out;
      }
      std::unordered_map<std::uint64_t, int> codes;
      for (std::size_t i = 0; i < n; ++i) {
        const auto [it, added] = codes.emplace(std::bit_cast<std::uint64_t>(c.values[i]), static_cast<int>(codes.size()));
        out[i] = it->second;
      }
      groups = static_cast<int>(codes.size());
    } else {
      // By label, as the key below (missing as the empty label).
      std::unordered_map<std::string_view, int> by_label;
      std::vector<int> code_group(c.levels.size() + 1, -1);  // last: missing
      for (std::size_t i = 0; i < n; ++i) {
        const bool missing = c.codes[i] < 0;
        const std::size_t code = missing ? c.levels.size() : static_cast<std::size_t>(c.codes[i]);
        int& g = code_group[code];
        if (g < 0) {
          const std::string_view label = missing ? std::string_view() : std::string_view(c.levels[code]);
          g = by_label.emplace(label, static_cast<int>(by_label.size())).first->second;
        }
        out[i] = g;
      }
      groups = static_cast<int>(by_label.size());
    }
    return out;
  }
  std::unordered_map<std::string, int> codes;
  std::string key;
  for (std::size_t i = 0; i < n; ++i) {
    key.clear();
    for (const Column* c : columns) {
      if (c->numeric) {
        key += fmt::format("{}", c->values[i]);
      } else {
        key += c->Label(i) != nullptr ? *c->Label(i) : std::string();
      }
      key += '\x1f';
    }
    const auto [it, added] = codes.emplace(key, static_cast<int>(codes.size()));
    out[i] = it->second;
  }
  groups = static_cast<int>(codes.size());
  return out;
}

}  // namespace

FormulaDesign BuildFormulaDesign(Frame& frame, const Formula& formula, bool numeric_response) {
  FormulaDesign d;
  const auto n = static_cast<Eigen::Index>(frame.rows());
  std::vector<Eigen::VectorXd> cols;
  if (formula.intercept) {
    cols.push_back(Eigen::VectorXd::Ones(n));
    d.fixed.names.push_back("(Intercept)");
    d.fixed.variables.push_back("");
  }
  for (const FormulaTerm& term : formula.terms) {
    // Product of the factors' blocks, the first factor varying fastest (R).
    std::vector<Eigen::VectorXd> product{Eigen::VectorXd::Ones(n)};
    std::vector<std::string> names{""};
    for (const FormulaExpr& factor : term.factors) {
      const Block b = FactorBlock(frame, formula, factor);
      std::vector<Eigen::VectorXd> next;
      std::vector<std::string> next_names;
      for (std::size_t j = 0; j < b.columns.size(); ++j) {
        for (std::size_t k = 0; k < product.size(); ++k) {
          next.push_back(product[k].cwiseProduct(b.columns[j]));
          next_names.push_back(names[k].empty() ? b.names[j] : names[k] + ":" + b.names[j]);
        }
      }
      product = std::move(next);
      names = std::move(next_names);
    }
    std::vector<Eigen::Index> columns;
    for (std::size_t k = 0; k < product.size(); ++k) {
      columns.push_back(static_cast<Eigen::Index>(cols.size()));
      cols.push_back(std::move(product[k]));
      d.fixed.names.push_back(names[k]);
      d.fixed.variables.push_back(term.Label());
    }
    d.term_columns.push_back(std::move(columns));
  }
  // Each column is freed once copied: the pages of x become resident as they
  // are written, so the design is held about once, not twice.
  d.fixed.x.resize(n, static_cast<Eigen::Index>(cols.size()));
  for (std::size_t j = 0; j < cols.size(); ++j) {
    d.fixed.x.col(static_cast<Eigen::Index>(j)) = cols[j];
    cols[j] = Eigen::VectorXd();
  }
  if (numeric_response) d.response = NumericExpression(frame, formula, formula.response, "the outcome");
  if (formula.offset) d.offset = NumericExpression(frame, formula, *formula.offset, "offset()");
  for (const RandomTerm& r : formula.random) {
    RandomDesign rd;
    rd.group_label = r.GroupLabel();
    std::vector<Eigen::VectorXd> z;
    if (r.intercept) {
      z.push_back(Eigen::VectorXd::Ones(n));
      rd.names.push_back("(Intercept)");
    }
    for (const FormulaExpr& s : r.slopes) {
      if (s.IsVariable() && !frame.Get(s.name, "formula").numeric) {
        throw InputError(formula.PointAt(
            s.position, fmt::format("'{}' is categorical; a random slope needs a numeric variable", s.name)));
      }
      z.push_back(NumericExpression(frame, formula, s, "a random slope"));
      rd.names.push_back(s.Label());
    }
    rd.z.resize(n, static_cast<Eigen::Index>(z.size()));
    for (std::size_t j = 0; j < z.size(); ++j) {
      rd.z.col(static_cast<Eigen::Index>(j)) = z[j];
      z[j] = Eigen::VectorXd();
    }
    rd.group = GroupCodes(frame, r.grouping, rd.groups);
    d.random.push_back(std::move(rd));
  }
  return d;
}

Design WithoutTerm(const FormulaDesign& design, std::size_t term) {
  const auto& drop = design.term_columns.at(term);
  Design out;
  std::vector<Eigen::Index> keep;
  for (Eigen::Index j = 0; j < design.fixed.x.cols(); ++j) {
    if (std::find(drop.begin(), drop.end(), j) == drop.end()) keep.push_back(j);
  }
  out.x.resize(design.fixed.x.rows(), static_cast<Eigen::Index>(keep.size()));
  for (std::size_t k = 0; k < keep.size(); ++k) {
    out.x.col(static_cast<Eigen::Index>(k)) = design.fixed.x.col(keep[k]);
    out.names.push_back(design.fixed.names[static_cast<std::size_t>(keep[k])]);
    out.variables.push_back(design.fixed.variables[static_cast<std::size_t>(keep[k])]);
  }
  return out;
}

}  // namespace cohortdb::analysis
