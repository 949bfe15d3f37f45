// describe: Table 1 by a group, as tableone::CreateTableOne prints it.
// Continuous variables: mean (SD), or median [IQR] for those listed in
// --nonnormal; tests: Student t (one-way ANOVA for more than two groups) or
// Wilcoxon rank-sum (Kruskal-Wallis for more than two groups); categorical
// variables: n (%) per level, chi-square test (Yates for 2 x 2). SMD for two
// groups (absolute, as tableone prints it; for categorical variables its
// multinomial SMD over all levels). Missing counts per group.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "analysis/analyses.h"
#include "analysis/options.h"
#include "analysis/sample.h"
#include "common/error.h"
#include "stats/chi_square.h"
#include "stats/descriptives.h"
#include "stats/moments.h"
#include "stats/ols.h"
#include "stats/probability.h"
#include "stats/ranks.h"
#include "stats/t_test.h"
#include "stats/wilcoxon.h"
#include "store/store.h"

namespace cohortdb::analysis {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct Groups {
  std::vector<std::string> names;              // "Overall" first when grouped? no: groups only
  std::vector<std::vector<std::size_t>> rows;  // per group
};

Groups GroupRows(Frame& frame, const std::string& group) {
  Groups g;
  if (group.empty()) {
    g.names.push_back("Overall");
    g.rows.emplace_back();
    for (std::size_t i = 0; i < frame.rows(); ++i) g.rows.back().push_back(i);
    return g;
  }
  const Column& c = frame.AsCategorical(group, "group");
  for (std::size_t k = 0; k < c.levels.size(); ++k) {
    std::vector<std::size_t> rows;
    for (std::size_t i = 0; i < c.codes.size(); ++i) {
      if (c.codes[i] == static_cast<std::int32_t>(k)) rows.push_back(i);
    }
    g.names.push_back(c.levels[k]);
    g.rows.push_back(std::move(rows));
  }
  return g;
}

// Kruskal-Wallis H with tie correction, as R's kruskal.test.
std::pair<double, double> KruskalWallis(const std::vector<std::vector<double>>& samples) {
  std::vector<double> all;
  for (const auto& s : samples) all.insert(all.end(), s.begin(), s.end());
  const auto ranks = stats::AverageRanks(all);
  const double n = static_cast<double>(all.size());
  double h = 0;
  std::size_t offset = 0;
  for (const auto& s : samples) {
    if (s.empty()) continue;
    double r = 0;
    for (std::size_t i = 0; i < s.size(); ++i) r += ranks[offset + i];
    offset += s.size();
    h += r * r / static_cast<double>(s.size());
  }
  h = 12.0 / (n * (n + 1)) * h - 3 * (n + 1);
  double ties = 0;
  for (std::size_t t : stats::TieGroupSizes(all))
    ties += std::pow(static_cast<double>(t), 3) - static_cast<double>(t);
  h /= 1 - ties / (n * n * n - n);
  double groups = 0;
  for (const auto& s : samples) groups += s.empty() ? 0 : 1;
  return {h, stats::prob::ChiSquaredUpper(h, groups - 1)};
}

bool IsZeroOne(const Column& c) {
  if (!c.numeric) return false;
  bool any = false;
  for (double v : c.values) {
    if (std::isnan(v)) continue;
    if (v != 0 && v != 1) return false;
    any = true;
  }
  return any;
}

void DescribeStratum(Frame& frame, const std::string& stratum, const std::string& group,
                     const std::vector<std::string>& vars, const std::vector<std::string>& nonnormal,
                     std::optional<std::int64_t> min_cell, AnalysisResultSet& result,
                     std::int64_t& suppressed) {
  const Groups groups = GroupRows(frame, group);
  const bool two = groups.names.size() == 2;
  for (std::size_t g = 0; g < groups.names.size(); ++g) {
    ResultRow row;
    row.section = "table1";
    row.stratum = stratum;
    row.term = "n";
    const auto count = static_cast<std::int64_t>(groups.rows[g].size());
    row.n = count;
    row.estimate = static_cast<double>(count);
    row.extra["group"] = groups.names[g];
    row.extra["summary"] = "n";
    if (SuppressSmallCount(count, min_cell, row.extra, row.n, row.estimate, {})) ++suppressed;
    result.rows.push_back(std::move(row));
  }
  for (const std::string& var : vars) {
    if (IsZeroOne(frame.Get(var, "vars"))) {  // binary: n (%) of 0 and 1, as tableone shows a factor
      Column binary = frame.AsCategorical(var, "vars");
      binary.levels = {"0", "1"};
      frame.Put(std::move(binary));
    }
    const Column& column = frame.Get(var, "vars");
    if (column.numeric) {
      const bool median = std::find(nonnormal.begin(), nonnormal.end(), var) != nonnormal.end();
      std::vector<std::vector<double>> samples;
      for (std::size_t g = 0; g < groups.names.size(); ++g) {
        std::vector<double> x;
        for (std::size_t i : groups.rows[g]) x.push_back(column.values[i]);
        const stats::NumericSummary s = stats::Describe(x);
        ResultRow row;
        row.section = "table1";
        row.stratum = stratum;
        row.term = var;
        row.n = static_cast<std::int64_t>(s.n);
        row.estimate = median ? s.median : s.mean;
        row.extra["group"] = groups.names[g];
        row.extra["summary"] = median ? "median [IQR]" : "mean (SD)";
        row.extra["mean"] = s.mean;
        row.extra["sd"] = s.sd;
        row.extra["median"] = s.median;
        row.extra["q1"] = s.q1;
        row.extra["q3"] = s.q3;
        row.extra["missing"] = s.missing;
        // Fewer than --min-cell values: the summary of one or two people is
        // their values, so it is hidden with its count.
        if (SuppressSmallCount(static_cast<std::int64_t>(s.n), min_cell, row.extra, row.n, row.estimate,
                               {"mean", "sd", "median", "q1", "q3", "missing"})) {
          ++suppressed;
        }
        result.rows.push_back(std::move(row));
        samples.push_back(stats::DropMissing(x));
      }
      if (groups.names.size() < 2) continue;
      ResultRow test;
      test.section = "tests";
      test.stratum = stratum;
      test.term = var;
      try {
        if (median && two) {
          const auto w = stats::WilcoxonRankSumTest(samples[0], samples[1]);
          test.statistic = w.statistic;
          test.p_value = w.p_value;
          test.extra["test"] = "Wilcoxon rank-sum";
        } else if (median) {
          const auto [h, p] = KruskalWallis(samples);
          test.statistic = h;
          test.p_value = p;
          test.extra["test"] = "Kruskal-Wallis";
        } else if (two) {
          const auto t = stats::StudentTTest(samples[0], samples[1]);
          test.statistic = t.statistic;
          test.p_value = t.p_value;
          test.extra["test"] = "t";
          test.extra["df"] = t.df;
        } else {
          std::vector<std::string> names = {"(Intercept)"};
          std::vector<double> y;
          std::vector<std::size_t> group_of;
          for (std::size_t g = 0; g < samples.size(); ++g) {
            for (double v : samples[g]) {
              y.push_back(v);
              group_of.push_back(g);
            }
          }
          Eigen::MatrixXd x = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(y.size()),
                                                    static_cast<Eigen::Index>(samples.size()));
          for (std::size_t i = 0; i < y.size(); ++i) {
            x(static_cast<Eigen::Index>(i), 0) = 1;
            if (group_of[i] > 0) x(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(group_of[i])) = 1;
          }
          for (std::size_t g = 1; g < samples.size(); ++g) names.push_back(groups.names[g]);
          const auto fit = stats::FitOls(
              x, Eigen::Map<const Eigen::VectorXd>(y.data(), static_cast<Eigen::Index>(y.size())), names);
          test.statistic = fit.f_statistic;
          test.p_value = fit.f_p_value;
          test.extra["test"] = "ANOVA F";
        }
        if (two) test.extra["smd"] = std::fabs(stats::StandardisedMeanDifference(samples[0], samples[1]));
      } catch (const NumericalError& e) {
        test.extra["note"] = e.what();
      }
      result.rows.push_back(std::move(test));
      continue;
    }
    // categorical: n (%) per level and group
    Eigen::MatrixXd table = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(column.levels.size()),
                                                  static_cast<Eigen::Index>(groups.names.size()));
    std::vector<double> non_missing(groups.names.size(), 0);
    for (std::size_t g = 0; g < groups.names.size(); ++g) {
      std::size_t missing = 0;
      for (std::size_t i : groups.rows[g]) {
        if (column.codes[i] < 0) {
          ++missing;
          continue;
        }
        table(column.codes[i], static_cast<Eigen::Index>(g)) += 1;
        non_missing[g] += 1;
      }
      for (std::size_t l = 0; l < column.levels.size(); ++l) {
        const double count = table(static_cast<Eigen::Index>(l), static_cast<Eigen::Index>(g));
        ResultRow row;
        row.section = "table1";
        row.stratum = stratum;
        row.term = var + "=" + column.levels[l];
        row.n = static_cast<std::int64_t>(count);
        row.estimate = non_missing[g] > 0 ? 100.0 * count / non_missing[g] : kNaN;
        row.extra["group"] = groups.names[g];
        row.extra["summary"] = "n (%)";
        row.extra["variable"] = var;
        row.extra["level"] = column.levels[l];
        row.extra["count"] = static_cast<std::int64_t>(count);
        row.extra["percent"] = row.estimate;
        row.extra["missing"] = missing;
        if (SuppressSmallCount(static_cast<std::int64_t>(count), min_cell, row.extra, row.n, row.estimate,
                               {"count", "percent"})) {
          ++suppressed;
        }
        result.rows.push_back(std::move(row));
      }
    }
    if (groups.names.size() < 2) continue;
    ResultRow test;
    test.section = "tests";
    test.stratum = stratum;
    test.term = var;
    try {
      // drop empty levels, as a table of observed levels would
      std::vector<Eigen::Index> keep;
      for (Eigen::Index l = 0; l < table.rows(); ++l) {
        if (table.row(l).sum() > 0) keep.push_back(l);
      }
      Eigen::MatrixXd observed(static_cast<Eigen::Index>(keep.size()), table.cols());
      for (std::size_t k = 0; k < keep.size(); ++k)
        observed.row(static_cast<Eigen::Index>(k)) = table.row(keep[k]);
      const auto chi = stats::ChiSquareIndependence(observed, true);
      test.statistic = chi.statistic;
      test.p_value = chi.p_value;
      test.extra["test"] = chi.yates ? "chi-square (Yates)" : "chi-square";
      test.extra["df"] = chi.df;
      if (chi.small_expected) test.extra["note"] = kSmallExpectedNote;
      if (two && column.levels.size() >= 2 && non_missing[0] > 0 && non_missing[1] > 0) {
        std::vector<double> p0, p1;
        for (Eigen::Index l = 0; l < table.rows(); ++l) {
          p0.push_back(table(l, 0) / non_missing[0]);
          p1.push_back(table(l, 1) / non_missing[1]);
        }
        test.extra["smd"] = stats::StandardisedCategoricalDifference(p0, p1);
      }
    } catch (const NumericalError& e) {
      test.extra["note"] = e.what();
    }
    result.rows.push_back(std::move(test));
  }
}

AnalysisResultSet RunDescribe(Store& store, const AnalysisRequest& request) {
  const Options options(request);
  Frame frame = LoadFrame(store, options);
  const std::vector<std::string> vars = options.List("vars");
  const std::string group = options.StringOr("group", "");
  const std::string by = ByOption(options);
  const auto min_cell = MinCellOption(options);
  for (const auto& v : vars) frame.Require(v, "vars");
  // --nonnormal names some of --vars (numeric ones: medians and IQRs).
  for (const auto& v : options.List("nonnormal")) {
    if (std::find(vars.begin(), vars.end(), v) == vars.end()) {
      throw InputError(fmt::format("--nonnormal: '{}' is not one of --vars", v));
    }
    if (!frame.Get(v, "nonnormal").numeric) {
      throw InputError(fmt::format("--nonnormal: '{}' is categorical; only numeric variables have a median", v));
    }
  }
  std::vector<std::string> needed;
  AppendUnique(needed, {group, by});
  Sample sample = CompleteCases(frame, needed);
  AnalysisResultSet result = NewResultSet(request);
  RecordSample(result, sample);
  std::int64_t suppressed = 0;
  for (Stratum& s : Strata(sample.frame, by)) {
    DescribeStratum(s.frame, s.label, group, vars, options.List("nonnormal"), min_cell, result, suppressed);
  }
  if (min_cell) {
    // The level counts of a variable in one group add up to its non-missing
    // count (group n minus missing); each level of a group adds up over the
    // by-strata to the overall table.
    const auto level_cell = [](const ResultRow& r) { return r.section == "table1" && r.extra.contains("level"); };
    const auto text = [](const nlohmann::ordered_json& v) { return v.get<std::string>(); };
    auto lines = LinesByKey(result.rows, [&](const ResultRow& r) {
      return level_cell(r) ? r.stratum + '\x1f' + text(r.extra["variable"]) + '\x1f' + text(r.extra["group"])
                           : std::string();
    });
    if (!by.empty()) {
      auto across = LinesByKey(result.rows, [&](const ResultRow& r) {
        return level_cell(r) ? text(r.extra["variable"]) + '\x1f' + text(r.extra["level"]) + '\x1f' +
                                   text(r.extra["group"])
                             : std::string();
      });
      lines.insert(lines.end(), across.begin(), across.end());
    }
    suppressed += SuppressComplements(
        result.rows, lines, [](const ResultRow& r) { return r.extra["count"].get<std::int64_t>(); },
        {"count", "percent"});
  }
  result.summary["nobs"] = sample.used;
  if (!group.empty()) result.summary["group"] = group;
  if (min_cell) result.diagnostics["suppressed_cells"] = suppressed;
  return result;
}

}  // namespace

AnalysisSpec DescribeAnalysis() {
  return {
      "describe",
      "Table 1: mean (SD) or median [IQR], n (%), tests and SMD by a group, with missing counts",
      "cohortdb describe demo-output/demo.cohortdb --study cohort --vars age,sex,lmm,met_min_week --group cbp --nonnormal met_min_week",
      {{"vars", OptionType::kStringList, "Variables to describe (rows of the table)", true},
       {"group", OptionType::kString, "Grouping variable (columns of the table)"},
       {"nonnormal", OptionType::kStringList,
        "Continuous variables shown as median [IQR] and tested by ranks"}},
      RunDescribe};
}

}  // namespace cohortdb::analysis
