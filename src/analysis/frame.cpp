#include "analysis/frame.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <map>
#include <regex>
#include <set>

#include <fmt/format.h>

#include "analysis/options.h"
#include "common/calendar_date.h"
#include "common/close_matches.h"
#include "common/error.h"
#include "store/catalog.h"
#include "store/frame_source.h"
#include "store/store.h"

namespace cohortdb::analysis {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string Trim(std::string s) {
  const auto begin = s.find_first_not_of(" \t");
  if (begin == std::string::npos) return {};
  const auto end = s.find_last_not_of(" \t");
  return s.substr(begin, end - begin + 1);
}

// The order R's sort() and factor() give text in a UTF-8 locale (ICU root
// collation), for ASCII: blanks, then punctuation in ICU's order, digits,
// letters with case ignored; then lower case before upper case ("a" "A"
// "b" "B"). Other bytes (non-ASCII) sort after the letters, by value.
std::pair<int, int> CollationWeight(unsigned char c) {
  static constexpr std::string_view kPunctuation = "_-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$";
  if (c == ' ' || c == '\t' || c == '\n' || c == '\r') return {0, 0};
  if (const auto p = kPunctuation.find(static_cast<char>(c)); p != std::string_view::npos) {
    return {1 + static_cast<int>(p), 0};
  }
  if (c >= '0' && c <= '9') return {100 + (c - '0'), 0};
  if (c >= 'a' && c <= 'z') return {200 + (c - 'a'), 0};
  if (c >= 'A' && c <= 'Z') return {200 + (c - 'A'), 1};
  return {300 + c, 0};
}

bool CollatesBefore(const std::string& a, const std::string& b) {
  const std::size_t n = std::min(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {  // letters, digits, punctuation, case ignored
    const int wa = CollationWeight(static_cast<unsigned char>(a[i])).first;
    const int wb = CollationWeight(static_cast<unsigned char>(b[i])).first;
    if (wa != wb) return wa < wb;
  }
  if (a.size() != b.size()) return a.size() < b.size();
  for (std::size_t i = 0; i < n; ++i) {  // then case: lower first
    const int ca = CollationWeight(static_cast<unsigned char>(a[i])).second;
    const int cb = CollationWeight(static_cast<unsigned char>(b[i])).second;
    if (ca != cb) return ca < cb;
  }
  return a < b;
}

std::string NumberLabel(double v) {
  if (std::floor(v) == v && std::fabs(v) < 1e15) return fmt::format("{}", static_cast<long long>(v));
  return fmt::format("{}", v);
}

CensorRule CensorRuleOption(const Options& options) {
  const std::string text = options.StringOr("censored", "exclude");
  const auto rule = ParseCensorRule(text);
  if (!rule) throw InputError(fmt::format("--censored: expected exclude|half|sqrt2|limit, found '{}'", text));
  return *rule;
}

FrameSource SourceOf(const Options& options) {
  FrameSource source;
  source.frame = options.StringOr("frame", "");
  source.study = options.StringOr("study", "");
  source.censor_rule = CensorRuleOption(options);
  return source;
}

struct DeriveSpec {
  std::string name;
  std::string body;
};

DeriveSpec SplitDerive(const std::string& text) {
  const auto eq = text.find('=');
  // "a>=4" alone has no NAME=; require NAME=... with NAME an identifier.
  static const std::regex kName(R"(^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=(?!=)(.*)$)");
  std::smatch m;
  if (eq == std::string::npos || !std::regex_match(text, m, kName)) {
    throw InputError(fmt::format(
        "--derive: expected NAME=change(VAR, FROM, TO), NAME=days(DATE, FROM_DATE), NAME=z(VAR) or "
        "NAME=VAR>=VALUE, found '{}'",
        text));
  }
  return {m[1].str(), Trim(m[2].str())};
}

// days(A, B): the days from date B to date A (A - B; fractions from the time
// of a datetime), as as.numeric(difftime(A, B, units = "days")) in R. Both
// columns hold ISO 8601 dates, as the pivots show date variables.
Column DeriveDays(const Frame& frame, const std::string& name, const std::string& a_name, const std::string& b_name) {
  const auto day_numbers = [&](const std::string& column_name) {
    const Column& c = frame.Get(column_name, "derive");
    std::vector<double> days(frame.rows(), kNaN);
    if (c.numeric) {
      if (std::all_of(c.values.begin(), c.values.end(), [](double v) { return std::isnan(v); })) return days;
      throw InputError(fmt::format("--derive {}: days() needs date columns (ISO 8601 text such as 2023-02-28), found "
                                   "the numeric column '{}'",
                                   name, column_name));
    }
    for (std::size_t i = 0; i < frame.rows(); ++i) {
      if (!c.labels[i]) continue;
      const auto date = ParseCalendarDate(*c.labels[i], DateOrder::kYmd, TimePart::kOptional);
      if (!date) {
        throw InputError(fmt::format("--derive {}: days() needs date columns, found '{}' in column '{}' (row {}); "
                                     "expected a date {}",
                                     name, *c.labels[i], column_name, i + 1,
                                     DateFormatName(DateOrder::kYmd, TimePart::kOptional)));
      }
      days[i] = DayNumber(*date);
    }
    return days;
  };
  const std::vector<double> a = day_numbers(a_name);
  const std::vector<double> b = day_numbers(b_name);
  Column out;
  out.name = name;
  out.values.resize(frame.rows());
  for (std::size_t i = 0; i < frame.rows(); ++i) out.values[i] = a[i] - b[i];  // NaN when either is missing
  return out;
}

// A categorical "visit" column (the per-visit pivot's) takes its levels in
// the study's visit order, not in collation order (m6 before m12): by the
// frame's own visit_order column when it has one, else by the catalog of
// --study. Labels that are not visits of the study keep their place after
// the visits.
void OrderVisitLevels(Store& store, const std::string& study, Frame& frame) {
  if (!frame.Has("visit") || frame.Get("visit").numeric) return;
  Column visit = frame.Get("visit");
  std::map<std::string, double> order;
  if (frame.Has("visit_order") && frame.Get("visit_order").numeric) {
    const Column& by = frame.Get("visit_order");
    for (std::size_t i = 0; i < frame.rows(); ++i) {
      if (!visit.labels[i] || std::isnan(by.values[i])) continue;
      auto [it, inserted] = order.emplace(*visit.labels[i], by.values[i]);
      if (!inserted) it->second = std::min(it->second, by.values[i]);
    }
  } else if (!study.empty()) {
    const auto study_id = FindStudy(store, study);
    if (!study_id) return;
    for (const CatalogVisit& v : LoadVisits(store, *study_id)) order.emplace(v.code, static_cast<double>(v.order));
  }
  if (order.empty()) return;
  std::stable_sort(visit.levels.begin(), visit.levels.end(), [&](const std::string& x, const std::string& y) {
    const auto ox = order.find(x), oy = order.find(y);
    if (ox == order.end() || oy == order.end()) return ox != order.end() && oy == order.end();
    return ox->second < oy->second;
  });
  frame.Put(std::move(visit));
}

}  // namespace

bool Column::Missing(std::size_t row) const {
  return numeric ? std::isnan(values[row]) : !labels[row].has_value();
}

Frame Frame::FromQuery(const QueryResult& result) {
  Frame frame;
  frame.rows_ = result.rows.size();
  for (std::size_t c = 0; c < result.columns.size(); ++c) {
    Column column;
    column.name = result.columns[c];
    bool numeric = true;
    for (const auto& row : result.rows) {
      if (std::holds_alternative<std::string>(row[c])) {
        numeric = false;
        break;
      }
    }
    column.numeric = numeric;
    if (numeric) {
      column.values.reserve(frame.rows_);
      for (const auto& row : result.rows) {
        const SqlValue& v = row[c];
        if (const auto* d = std::get_if<double>(&v)) {
          column.values.push_back(*d);
        } else if (const auto* i = std::get_if<std::int64_t>(&v)) {
          column.values.push_back(static_cast<double>(*i));
        } else {
          column.values.push_back(kNaN);
        }
      }
    } else {
      std::set<std::string, bool (*)(const std::string&, const std::string&)> levels(CollatesBefore);
      column.labels.reserve(frame.rows_);
      for (const auto& row : result.rows) {
        const SqlValue& v = row[c];
        if (std::holds_alternative<std::monostate>(v)) {
          column.labels.emplace_back();
        } else {
          std::string label =
              std::holds_alternative<std::string>(v) ? std::get<std::string>(v) : FormatSqlValue(v);
          levels.insert(label);
          column.labels.emplace_back(std::move(label));
        }
      }
      column.levels.assign(levels.begin(), levels.end());
    }
    frame.columns_.push_back(std::move(column));
  }
  return frame;
}

bool Frame::Has(const std::string& name) const {
  return std::any_of(columns_.begin(), columns_.end(), [&](const Column& c) { return c.name == name; });
}

const Column& Frame::Get(const std::string& name, const std::string& option) const {
  for (const Column& c : columns_) {
    if (c.name == name) return c;
  }
  std::vector<std::string> names;
  for (const Column& c : columns_) names.push_back(c.name);
  const auto close = CloseMatches(name, names);
  std::string hint;
  if (!close.empty()) {
    hint = " (did you mean ";
    for (std::size_t i = 0; i < close.size(); ++i) hint += (i ? ", " : "") + close[i];
    hint += "?)";
  }
  throw InputError(fmt::format("--{}: unknown variable '{}' in the frame{}", option, name, hint));
}

const Column& Frame::Get(const std::string& name, const std::string& option) {
  if (!Has(name)) {
    if (const auto threshold = ParseThreshold(name)) {
      const Column& source = static_cast<const Frame&>(*this).Get(threshold->variable, option);
      if (!source.numeric) {
        throw InputError(
            fmt::format("--{}: '{}' compares a categorical variable with a number", option, name));
      }
      ApplyDerive(*this, "derived_threshold=" + name);
      columns_.back().name = name;
      return columns_.back();
    }
  }
  return static_cast<const Frame&>(*this).Get(name, option);
}

void Frame::Require(const std::string& name, const std::string& option) { Get(name, option); }

void Frame::Add(Column column) {
  if (Has(column.name))
    throw InputError(fmt::format("derived variable '{}' already exists in the frame", column.name));
  columns_.push_back(std::move(column));
}

void Frame::Put(Column column) {
  for (Column& c : columns_) {
    if (c.name == column.name) {
      c = std::move(column);
      return;
    }
  }
  columns_.push_back(std::move(column));
}

Frame Frame::Subset(const std::vector<std::size_t>& indices) const {
  Frame out;
  out.rows_ = indices.size();
  for (const Column& c : columns_) {
    Column copy;
    copy.name = c.name;
    copy.numeric = c.numeric;
    copy.levels = c.levels;
    copy.deferred_z = c.deferred_z;
    if (c.numeric) {
      copy.values.reserve(indices.size());
      for (std::size_t i : indices) copy.values.push_back(c.values[i]);
    } else {
      copy.labels.reserve(indices.size());
      for (std::size_t i : indices) copy.labels.push_back(c.labels[i]);
    }
    out.columns_.push_back(std::move(copy));
  }
  return out;
}

void Frame::StandardiseDeferred() {
  for (Column& c : columns_) {
    if (!c.deferred_z) continue;
    double sum = 0;
    std::size_t n = 0;
    for (double v : c.values) {
      if (!std::isnan(v)) {
        sum += v;
        ++n;
      }
    }
    if (n < 2)
      throw NumericalError(fmt::format("z({}): fewer than two values in the analysis sample", c.name));
    const double mean = sum / static_cast<double>(n);
    double ss = 0;
    for (double v : c.values) {
      if (!std::isnan(v)) ss += (v - mean) * (v - mean);
    }
    const double sd = std::sqrt(ss / static_cast<double>(n - 1));
    if (!(sd > 0))
      throw NumericalError(fmt::format("z: variable '{}' is constant in the analysis sample", c.name));
    for (double& v : c.values) v = (v - mean) / sd;
    c.deferred_z = false;
  }
}

const Column& Frame::AsCategorical(const std::string& name, const std::string& option) {
  const Column& source = Get(name, option);
  if (!source.numeric) return source;
  Column c;
  c.name = source.name;
  c.numeric = false;
  std::set<double> distinct;
  for (double v : source.values) {
    if (!std::isnan(v)) distinct.insert(v);
  }
  for (double v : distinct) c.levels.push_back(NumberLabel(v));
  for (double v : source.values) {
    if (std::isnan(v)) {
      c.labels.emplace_back();
    } else {
      c.labels.emplace_back(NumberLabel(v));
    }
  }
  Put(std::move(c));
  return Get(name, option);
}

std::optional<double> ParseFiniteNumber(std::string_view text) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

namespace {

// A z() column is standardised on the analysis rows, which are known only
// after every cut and threshold applies: cutting it would cut the raw values.
void RefuseDeferredZ(const Column& source, const std::string& what) {
  if (source.deferred_z) {
    throw InputError(fmt::format("{}: '{}' is a z() variable, standardised only on the analysis rows; cut or "
                                 "threshold the variable it standardises instead",
                                 what, source.name));
  }
}

}  // namespace

std::optional<Threshold> ParseThreshold(const std::string& text) {
  static const std::regex kThreshold(
      R"(^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(>=|<=|==|!=|>|<)\s*([-+]?[0-9]*\.?[0-9]+([eE][-+]?[0-9]+)?)\s*$)");
  std::smatch m;
  if (!std::regex_match(text, m, kThreshold)) return std::nullopt;
  const auto value = ParseFiniteNumber(m[3].str());
  if (!value) {
    throw InputError(fmt::format("'{}': expected a threshold that is a finite number, found '{}'", text, m[3].str()));
  }
  return Threshold{m[1].str(), m[2].str(), *value};
}

std::string FormatCut(double value) { return NumberLabel(value); }

void ApplyDerive(Frame& frame, const std::string& text) {
  const DeriveSpec spec = SplitDerive(text);
  static const std::regex kChange(
      R"(^change\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*,\s*([A-Za-z_][A-Za-z0-9_]*)\s*,\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)$)");
  static const std::regex kZ(R"(^z\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)$)");
  static const std::regex kDays(
      R"(^days\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*,\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)$)");
  std::smatch m;
  Column out;
  out.name = spec.name;
  if (std::regex_match(spec.body, m, kChange)) {
    const std::string from = m[1].str() + "_" + m[2].str();
    const std::string to = m[1].str() + "_" + m[3].str();
    const Column& a = frame.Get(from, "derive");
    const Column& b = frame.Get(to, "derive");
    if (!a.numeric || !b.numeric)
      throw InputError(fmt::format("--derive {}: change() needs numeric columns", spec.name));
    out.values.resize(frame.rows());
    for (std::size_t i = 0; i < frame.rows(); ++i) out.values[i] = b.values[i] - a.values[i];
  } else if (std::regex_match(spec.body, m, kDays)) {
    out = DeriveDays(frame, spec.name, m[1].str(), m[2].str());
  } else if (std::regex_match(spec.body, m, kZ)) {
    const Column& a = frame.Get(m[1].str(), "derive");
    if (!a.numeric) throw InputError(fmt::format("--derive {}: z() needs a numeric column", spec.name));
    out.values = a.values;
    out.deferred_z = true;
  } else if (const auto threshold = ParseThreshold(spec.body)) {
    const Column& a = frame.Get(threshold->variable, "derive");
    if (!a.numeric)
      throw InputError(fmt::format("--derive {}: a threshold needs a numeric column", spec.name));
    RefuseDeferredZ(a, fmt::format("--derive {}", spec.name));
    out.values.resize(frame.rows());
    const double t = threshold->value;
    const std::string& op = threshold->op;
    for (std::size_t i = 0; i < frame.rows(); ++i) {
      const double v = a.values[i];
      if (std::isnan(v)) {
        out.values[i] = kNaN;
        continue;
      }
      bool r = false;
      if (op == ">=")
        r = v >= t;
      else if (op == ">")
        r = v > t;
      else if (op == "<=")
        r = v <= t;
      else if (op == "<")
        r = v < t;
      else if (op == "==")
        r = v == t;
      else
        r = v != t;
      out.values[i] = r ? 1.0 : 0.0;
    }
  } else {
    throw InputError(
        fmt::format("--derive {}: expected change(VAR, FROM, TO), days(DATE, FROM_DATE), z(VAR) or VAR>=VALUE, "
                    "found '{}'",
                    spec.name, spec.body));
  }
  frame.Add(std::move(out));
}

void ApplyCut(Frame& frame, const std::string& text) {
  const auto eq = text.find('=');
  if (eq == std::string::npos)
    throw InputError(fmt::format("--cut: expected VAR=CUT1,CUT2,..., found '{}'", text));
  const std::string var = Trim(text.substr(0, eq));
  std::vector<double> cuts;
  for (const std::string& piece : SplitList(text.substr(eq + 1))) {
    const auto cut = ParseFiniteNumber(piece);
    if (!cut) throw InputError(fmt::format("--cut {}: expected finite numbers, found '{}'", var, piece));
    cuts.push_back(*cut);
  }
  if (cuts.empty()) throw InputError(fmt::format("--cut {}: no cut points given", var));
  if (!std::is_sorted(cuts.begin(), cuts.end()) ||
      std::adjacent_find(cuts.begin(), cuts.end()) != cuts.end()) {
    throw InputError(fmt::format("--cut {}: cut points must increase", var));
  }
  const Column& source = frame.Get(var, "cut");
  if (!source.numeric) throw InputError(fmt::format("--cut {}: the variable is not numeric", var));
  RefuseDeferredZ(source, fmt::format("--cut {}", var));
  Column out;
  out.name = var + "_cat";
  out.numeric = false;
  out.levels.push_back("<" + FormatCut(cuts.front()));
  for (std::size_t i = 0; i + 1 < cuts.size(); ++i) {
    out.levels.push_back(FormatCut(cuts[i]) + "-" + FormatCut(cuts[i + 1]));
  }
  out.levels.push_back(">" + FormatCut(cuts.back()));
  for (double v : source.values) {
    if (std::isnan(v)) {
      out.labels.emplace_back();
      continue;
    }
    if (v < cuts.front()) {
      out.labels.emplace_back(out.levels.front());
    } else if (v > cuts.back()) {
      out.labels.emplace_back(out.levels.back());
    } else {
      std::size_t k =
          0;  // cuts[k] <= v <= cuts[k+1]; a value equal to an inner cut goes to the lower interval
      while (k + 2 < cuts.size() && v > cuts[k + 1]) ++k;
      out.labels.emplace_back(out.levels[k + 1]);
    }
  }
  frame.Add(std::move(out));
}

Frame LoadFrame(Store& store, const Options& options) {
  const FrameSource source = SourceOf(options);
  Frame frame = Frame::FromQuery(ReadFrame(store, source));
  if (!source.study.empty()) {
    for (const LevelLabels& labels : LoadLevelLabels(store, source.study)) {
      std::map<std::string, std::string> by_level;
      for (const auto& [level, label] : labels.levels)
        by_level[NumberLabel(static_cast<double>(level))] = label;
      std::vector<Column> relabel;
      for (const Column& c : frame.columns()) {
        const bool match =
            std::find(labels.columns.begin(), labels.columns.end(), c.name) != labels.columns.end();
        if (!match || !c.numeric) continue;
        Column relabelled;
        relabelled.name = c.name;
        relabelled.numeric = false;
        for (const auto& [level, label] : labels.levels) relabelled.levels.push_back(label);
        bool ok = true;
        for (double v : c.values) {
          if (std::isnan(v)) {
            relabelled.labels.emplace_back();
            continue;
          }
          auto it = by_level.find(NumberLabel(v));
          if (it == by_level.end()) {
            ok = false;
            break;
          }
          relabelled.labels.emplace_back(it->second);
        }
        if (ok) relabel.push_back(std::move(relabelled));
      }
      for (Column& c : relabel) frame.Put(std::move(c));
    }
  }
  OrderVisitLevels(store, source.study, frame);
  for (const std::string& derive : options.Items("derive")) ApplyDerive(frame, derive);
  for (const std::string& cut : options.Items("cut")) ApplyCut(frame, cut);
  return frame;
}

std::vector<std::string> FrameVariableNames(Store& store, const Options& options) {
  std::vector<std::string> names = FrameColumns(store, SourceOf(options));
  for (const std::string& derive : options.Items("derive")) names.push_back(SplitDerive(derive).name);
  for (const std::string& cut : options.Items("cut")) {
    const auto eq = cut.find('=');
    if (eq != std::string::npos) names.push_back(Trim(cut.substr(0, eq)) + "_cat");
  }
  return names;
}

}  // namespace cohortdb::analysis
