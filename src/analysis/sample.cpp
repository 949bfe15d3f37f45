#include "analysis/sample.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <string_view>

#include <fmt/format.h>

#include "analysis/options.h"
#include "common/error.h"

namespace cohortdb::analysis {

Sample CompleteCases(Frame& frame, const std::vector<std::string>& variables) {
  Sample sample;
  // Thresholds are derived on demand (adding columns) before any column is
  // held by address.
  for (const std::string& v : variables) frame.Require(v, "variable");
  std::vector<const Column*> columns;
  for (const std::string& v : variables) columns.push_back(&frame.Get(v));
  std::vector<std::int64_t> missing(columns.size(), 0);
  std::vector<std::size_t> keep;
  for (std::size_t i = 0; i < frame.rows(); ++i) {
    bool complete = true;
    for (std::size_t c = 0; c < columns.size(); ++c) {
      if (columns[c]->Missing(i)) {
        ++missing[c];
        complete = false;
      }
    }
    if (complete) keep.push_back(i);
  }
  sample.used = static_cast<std::int64_t>(keep.size());
  sample.excluded = static_cast<std::int64_t>(frame.rows() - keep.size());
  for (std::size_t c = 0; c < columns.size(); ++c) {
    if (missing[c] > 0) sample.excluded_by["missing " + variables[c]] = missing[c];
  }
  const bool excluded = frame.censor_rule() == "exclude";
  for (std::size_t c = 0; c < columns.size(); ++c) {
    const std::vector<std::uint8_t>& mask = columns[c]->censored;
    if (mask.empty()) continue;
    std::int64_t count = 0;
    if (excluded) {
      for (std::size_t i = 0; i < mask.size(); ++i) count += mask[i] && columns[c]->Missing(i) ? 1 : 0;
    } else {
      for (std::size_t i : keep) count += mask[i] ? 1 : 0;
    }
    if (count > 0) sample.censored[variables[c]] = count;
  }
  // In place: the rows live on in the sample only, one frame's memory.
  frame.KeepRows(keep);
  sample.frame = std::move(frame);
  frame = Frame();
  sample.frame.StandardiseDeferred();
  return sample;
}

StrataRange::StrataRange(Frame& sample, const std::string& by, bool consume)
    : sample_(sample), consume_(consume && by.empty()), labels_{""} {
  if (by.empty()) return;
  // The levels of "by" without converting the sample's column (the overall
  // stratum reads it as it is): a frame sharing that one column converts its
  // own copy.
  sample.Require(by, "by");
  Frame by_only = sample.Select(std::vector<std::string>{by});
  const Column& column = by_only.AsCategorical(by, "by");
  // A variable with a level per participant is no stratification.
  if (column.levels.size() > kMaxStrata) {
    throw InputError(fmt::format("--by: '{}' has {} levels; stratified analyses take at most {}", by,
                                 column.levels.size(), kMaxStrata));
  }
  std::vector<std::vector<std::size_t>> rows(column.levels.size());
  for (std::size_t i = 0; i < column.codes.size(); ++i) {
    if (column.codes[i] >= 0) rows[static_cast<std::size_t>(column.codes[i])].push_back(i);
  }
  for (std::size_t k = 0; k < column.levels.size(); ++k) {
    if (rows[k].empty()) continue;
    labels_.push_back(fmt::format("{}={}", by, column.levels[k]));
    rows_.push_back(std::move(rows[k]));
  }
}

Stratum& StrataRange::Load(std::size_t k) {
  if (k == loaded_) return current_;
  current_.frame = Frame();  // the previous stratum's rows go first
  current_.label = labels_[k];
  if (k > 0) {
    current_.frame = sample_.Subset(rows_[k - 1]);
  } else if (consume_) {
    current_.frame = std::move(sample_);
    sample_ = Frame();
  } else {
    current_.frame = sample_;  // shares the sample's columns: copy-on-write
  }
  loaded_ = k;
  return current_;
}

StrataRange Strata(Frame& sample, const std::string& by, bool consume) { return StrataRange(sample, by, consume); }

namespace {

// Writes what the --censored rule did: the counts of CompleteCases, and for
// every other column of "frame" that holds censored values, those in its rows
// (substituted, or under "exclude" left out as missing).
void RecordCensored(AnalysisResultSet& result, nlohmann::ordered_json censored, const Frame& frame) {
  const bool excluded_rule = frame.censor_rule() == "exclude";
  for (const Column& c : frame.columns()) {
    if (c.censored.empty() || censored.contains(c.name)) continue;
    std::int64_t count = 0;
    for (std::size_t i = 0; i < frame.rows(); ++i) {
      count += c.censored[i] && (excluded_rule == c.Missing(i)) ? 1 : 0;
    }
    if (count > 0) censored[c.name] = count;
  }
  if (censored.empty()) return;
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  for (const auto& [variable, count] : censored.items()) {
    out[variable] = fmt::format("{} at a detection limit, {}", count.get<std::int64_t>(),
                                CensorAction(frame.censor_rule()));
  }
  result.diagnostics["censored"] = out;
}

}  // namespace

void RecordTestwiseSample(AnalysisResultSet& result, const Sample& sample,
                          const std::vector<std::vector<std::string>>& groups) {
  const Frame& frame = sample.frame;
  const std::size_t rows = frame.rows();
  std::vector<bool> used(rows, false);
  nlohmann::ordered_json excluded_by = sample.excluded_by;
  std::vector<std::string> counted;
  for (const auto& group : groups) {
    std::vector<const Column*> columns;
    for (const std::string& v : group) columns.push_back(&frame.Get(v));
    for (std::size_t i = 0; i < rows; ++i) {
      if (used[i]) continue;
      used[i] = std::none_of(columns.begin(), columns.end(), [&](const Column* c) { return c->Missing(i); });
    }
    for (std::size_t k = 0; k < group.size(); ++k) {
      if (std::find(counted.begin(), counted.end(), group[k]) != counted.end()) continue;
      counted.push_back(group[k]);
      std::int64_t missing = 0;
      for (std::size_t i = 0; i < rows; ++i) missing += columns[k]->Missing(i) ? 1 : 0;
      if (missing > 0) excluded_by["missing " + group[k]] = missing;
    }
  }
  const auto n_used = static_cast<std::int64_t>(std::count(used.begin(), used.end(), true));
  result.rows_used = n_used;
  result.rows_excluded = sample.used + sample.excluded - n_used;
  result.diagnostics["rows_used"] = result.rows_used;
  result.diagnostics["rows_excluded"] = result.rows_excluded;
  result.diagnostics["excluded_because"] = excluded_by;
  RecordCensored(result, sample.censored, frame);
}

AnalysisResultSet NewResultSet(const AnalysisRequest& request) {
  AnalysisResultSet result;
  result.command = request.command;
  result.parameters = request.options.is_object() ? request.options : nlohmann::ordered_json::object();
  return result;
}

void RecordSample(AnalysisResultSet& result, const Sample& sample) {
  result.rows_used = sample.used;
  result.rows_excluded = sample.excluded;
  result.diagnostics["rows_used"] = sample.used;
  result.diagnostics["rows_excluded"] = sample.excluded;
  result.diagnostics["excluded_because"] = sample.excluded_by;
  RecordCensored(result, sample.censored, sample.frame);
}

Design BuildDesign(Frame& frame, const std::vector<std::string>& predictors, bool intercept) {
  Design d;
  const auto n = static_cast<Eigen::Index>(frame.rows());
  // First the columns (names, and per categorical predictor the codes of the
  // levels these rows hold), then one fill of the matrix: no column copies.
  struct Source {
    const Column* column = nullptr;
    std::int32_t code = -1;  // categorical dummy: this level's code; -1: numeric
  };
  std::vector<Source> sources;
  if (intercept) {
    sources.push_back({});
    d.names.push_back("(Intercept)");
    d.variables.push_back("");
  }
  for (const std::string& p : predictors) {
    frame.Require(p, "predictors");
  }
  for (const std::string& p : predictors) {
    const Column& c = frame.Get(p, "predictors");
    if (c.numeric) {
      sources.push_back({&c, -1});
      d.names.push_back(p);
      d.variables.push_back(p);
      continue;
    }
    // The levels these rows hold, in level order: lm's model.frame drops
    // unused levels, so the first level present is the reference.
    std::vector<bool> held(c.levels.size(), false);
    for (std::int32_t code : c.codes) {
      if (code >= 0) held[static_cast<std::size_t>(code)] = true;
    }
    std::vector<std::int32_t> levels;
    for (std::size_t k = 0; k < c.levels.size(); ++k) {
      if (held[k]) levels.push_back(static_cast<std::int32_t>(k));
    }
    if (levels.size() < 2) {
      throw InputError(fmt::format(
          "predictor '{}' has {} in the rows used; a categorical predictor needs at least two levels "
          "(R's lm and glm stop with \"contrasts can be applied only to factors with 2 or more levels\")",
          p,
          levels.empty() ? std::string("no level")
                         : fmt::format("the single level '{}'", c.levels[static_cast<std::size_t>(levels.front())])));
    }
    for (std::size_t l = 1; l < levels.size(); ++l) {
      sources.push_back({&c, levels[l]});
      d.names.push_back(p + c.levels[static_cast<std::size_t>(levels[l])]);
      d.variables.push_back(p);
    }
  }
  d.x.resize(n, static_cast<Eigen::Index>(sources.size()));
  for (std::size_t j = 0; j < sources.size(); ++j) {
    const Source& source = sources[j];
    auto column = d.x.col(static_cast<Eigen::Index>(j));
    if (source.column == nullptr) {
      column.setOnes();
    } else if (source.code < 0) {
      column = Eigen::Map<const Eigen::VectorXd>(source.column->values.data(), n);
    } else {
      for (Eigen::Index i = 0; i < n; ++i) {
        const std::int32_t code = source.column->codes[static_cast<std::size_t>(i)];
        column(i) = code < 0 ? std::nan("") : (code == source.code ? 1.0 : 0.0);
      }
    }
  }
  return d;
}

InteractionDesign WithInteractions(Design base, Frame& frame, const std::string& by) {
  const Design by_design = BuildDesign(frame, {by}, false);
  const Eigen::Index levels = by_design.x.cols();
  InteractionDesign out;
  Design& d = out.design;
  d = std::move(base);
  const Eigen::Index base_columns = d.x.cols();
  // The main effect of "by" unless it is already a predictor.
  const bool has_by = std::find(d.variables.begin(), d.variables.end(), by) != d.variables.end();
  std::vector<Eigen::Index> interacting;  // the base columns that get a product with each dummy
  for (Eigen::Index j = 0; j < base_columns; ++j) {
    const std::string& variable = d.variables[static_cast<std::size_t>(j)];
    if (!variable.empty() && variable != by) interacting.push_back(j);
  }
  out.main_effects = base_columns + (has_by ? 0 : levels);
  // One resize to the final width: the allocator can grow the block in place
  // (glibc remaps a large block) instead of holding two copies of it.
  d.x.conservativeResize(Eigen::NoChange,
                         out.main_effects + static_cast<Eigen::Index>(interacting.size()) * levels);
  Eigen::Index next = base_columns;
  if (!has_by) {
    for (Eigen::Index k = 0; k < levels; ++k) {
      d.x.col(next++) = by_design.x.col(k);
      d.names.push_back(by_design.names[static_cast<std::size_t>(k)]);
      d.variables.push_back(by);
    }
  }
  for (const Eigen::Index j : interacting) {
    const auto term = static_cast<std::size_t>(j);
    for (Eigen::Index k = 0; k < levels; ++k) {
      d.x.col(next++) = d.x.col(j).cwiseProduct(by_design.x.col(k));
      d.names.push_back(d.names[term] + ":" + by_design.names[static_cast<std::size_t>(k)]);
      d.variables.push_back(d.variables[term] + ":" + by);
    }
  }
  return out;
}

void KeepMainEffects(InteractionDesign& d) {
  const auto main = static_cast<std::size_t>(d.main_effects);
  d.design.x.conservativeResize(Eigen::NoChange, d.main_effects);  // shrinks the block in place
  d.design.names.resize(main);
  d.design.variables.resize(main);
}

Eigen::VectorXd BinaryOutcome(Frame& frame, const std::string& name, std::string* event_label) {
  const Column& c = frame.Get(name, "outcome");
  const auto n = static_cast<Eigen::Index>(frame.rows());
  Eigen::VectorXd y(n);
  if (c.numeric) {
    for (Eigen::Index i = 0; i < n; ++i) {
      const double v = c.values[static_cast<std::size_t>(i)];
      if (!std::isnan(v) && v != 0 && v != 1) {
        throw InputError(fmt::format(
            "--outcome: '{}' must be 0/1 (or a two-level category) for a binary outcome, found the value {}",
            name, v));
      }
      y(i) = v;
    }
    if (event_label) event_label->assign(1, '1');  // (not = "1": GCC 12 -Wrestrict false positive)
    return y;
  }
  if (c.levels.size() != 2) {
    throw InputError(fmt::format("--outcome: '{}' must have two levels for a binary outcome, found {}", name,
                                 c.levels.size()));
  }
  for (Eigen::Index i = 0; i < n; ++i) {
    const std::int32_t code = c.codes[static_cast<std::size_t>(i)];
    y(i) = code < 0 ? std::nan("") : (code == 1 ? 1.0 : 0.0);
  }
  if (event_label) *event_label = c.levels[1];
  return y;
}

std::vector<double> NumericValues(Frame& frame, const std::string& name, const std::string& option) {
  const Column& c = frame.Get(name, option);
  if (!c.numeric) {
    throw InputError(fmt::format("--{}: '{}' is categorical, a numeric variable is needed", option, name));
  }
  return c.values;
}

Eigen::VectorXd NumericVector(Frame& frame, const std::string& name, const std::string& option) {
  const auto values = NumericValues(frame, name, option);
  return Eigen::Map<const Eigen::VectorXd>(values.data(), static_cast<Eigen::Index>(values.size()));
}

std::vector<std::string> WithoutVariable(const std::vector<std::string>& names, const std::string& drop) {
  std::vector<std::string> out;
  for (const auto& n : names) {
    if (n != drop) out.push_back(n);
  }
  return out;
}

void AppendUnique(std::vector<std::string>& into, const std::vector<std::string>& names) {
  for (const auto& n : names) {
    if (!n.empty() && std::find(into.begin(), into.end(), n) == into.end()) into.push_back(n);
  }
}

std::string ByOption(const Options& options) { return options.StringOr("by", ""); }

std::optional<std::int64_t> MinCellOption(const Options& options) {
  const auto v = options.Integer("min-cell");
  if (v && *v < 1) throw InputError(fmt::format("--min-cell: expected a count of at least 1, found {}", *v));
  return v;
}

}  // namespace cohortdb::analysis
