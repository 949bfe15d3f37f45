#include "analysis/frame.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cstdlib>
#include <cmath>
#include <limits>
#include <map>
#include <regex>
#include <set>
#include <unordered_map>

#include <fmt/format.h>

#include "analysis/formula.h"
#include "analysis/options.h"
#include "analysis/reference_level.h"
#include "common/calendar_date.h"
#include "common/close_matches.h"
#include "common/error.h"
#include "store/catalog.h"
#include "store/frame_source.h"
#include "store/pivot_reader.h"
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

// Orders a categorical column's levels as R's factor() does and remaps its
// codes accordingly.
void SortLevels(Column& c) {
  std::vector<std::size_t> order(c.levels.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return CollatesBefore(c.levels[a], c.levels[b]); });
  std::vector<std::int32_t> remap(order.size());
  std::vector<std::string> levels(order.size());
  for (std::size_t k = 0; k < order.size(); ++k) {
    remap[order[k]] = static_cast<std::int32_t>(k);
    levels[k] = std::move(c.levels[order[k]]);
  }
  c.levels = std::move(levels);
  for (std::int32_t& code : c.codes) {
    if (code >= 0) code = remap[static_cast<std::size_t>(code)];
  }
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
      if (c.Label(i) == nullptr) continue;
      const auto date = ParseCalendarDate(*c.Label(i), DateOrder::kYmd, TimePart::kOptional);
      if (!date) {
        throw InputError(fmt::format("--derive {}: days() needs date columns, found '{}' in column '{}' (row {}); "
                                     "expected a date {}",
                                     name, *c.Label(i), column_name, i + 1,
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
      if (visit.Label(i) == nullptr || std::isnan(by.values[i])) continue;
      auto [it, inserted] = order.emplace(*visit.Label(i), by.values[i]);
      if (!inserted) it->second = std::min(it->second, by.values[i]);
    }
  } else if (!study.empty()) {
    const auto study_id = FindStudy(store, study);
    if (!study_id) return;
    for (const CatalogVisit& v : LoadVisits(store, *study_id)) order.emplace(v.code, static_cast<double>(v.order));
  }
  if (order.empty()) return;
  std::vector<std::size_t> index(visit.levels.size());
  for (std::size_t k = 0; k < index.size(); ++k) index[k] = k;
  std::stable_sort(index.begin(), index.end(), [&](std::size_t a, std::size_t b) {
    const auto ox = order.find(visit.levels[a]), oy = order.find(visit.levels[b]);
    if (ox == order.end() || oy == order.end()) return ox != order.end() && oy == order.end();
    return ox->second < oy->second;
  });
  std::vector<std::int32_t> remap(index.size());
  std::vector<std::string> levels(index.size());
  for (std::size_t k = 0; k < index.size(); ++k) {
    remap[index[k]] = static_cast<std::int32_t>(k);
    levels[k] = visit.levels[index[k]];
  }
  for (std::int32_t& code : visit.codes) {
    if (code >= 0) code = remap[static_cast<std::size_t>(code)];
  }
  visit.levels = std::move(levels);
  frame.Put(std::move(visit));
}

}  // namespace

bool Column::Missing(std::size_t row) const { return numeric ? std::isnan(values[row]) : codes[row] < 0; }

std::int32_t Column::CodeOf(std::string_view level) const {
  for (std::size_t k = 0; k < levels.size(); ++k) {
    if (levels[k] == level) return static_cast<std::int32_t>(k);
  }
  return kMissingCode;
}

// A column under construction: numbers as doubles with their SQL type, text
// as codes into a first-seen dictionary (numbers in a text column get their
// label when the column is finished).
struct FrameBuilder::Pending {
  std::vector<double> values;
  std::vector<std::uint8_t> kind;  // 0 NULL, 1 integer, 2 real, 3 text
  std::vector<std::int32_t> codes;
  std::vector<std::string> dictionary;
  std::unordered_map<std::string, std::int32_t> index;
  bool text = false;

  std::int32_t Code(std::string label) {
    auto [it, added] = index.emplace(std::move(label), static_cast<std::int32_t>(dictionary.size()));
    if (added) dictionary.push_back(it->first);
    return it->second;
  }
};

FrameBuilder::FrameBuilder(std::vector<std::string> columns) : names_(std::move(columns)) {
  columns_.resize(names_.size());
}

void FrameBuilder::Reserve(std::size_t rows) {
  for (Pending& p : columns_) {
    p.values.reserve(rows);
    p.kind.reserve(rows);
  }
  reserved_ = rows;
}

void FrameBuilder::AddRow(const std::vector<SqlValue>& row) {
  for (std::size_t c = 0; c < columns_.size(); ++c) {
    Pending& p = columns_[c];
    const SqlValue& v = row[c];
    // Codes are kept only once a column has held text (a number column
    // needs none).
    if (const auto* d = std::get_if<double>(&v)) {
      p.values.push_back(*d);
      p.kind.push_back(2);
      if (p.text) p.codes.push_back(kMissingCode);
    } else if (const auto* i = std::get_if<std::int64_t>(&v)) {
      p.values.push_back(static_cast<double>(*i));
      p.kind.push_back(1);
      if (p.text) p.codes.push_back(kMissingCode);
    } else if (const auto* t = std::get_if<std::string>(&v)) {
      if (!p.text) {
        p.text = true;
        p.codes.reserve(std::max(reserved_, rows_ + 1));
        p.codes.assign(rows_, kMissingCode);
      }
      p.values.push_back(kNaN);
      p.kind.push_back(3);
      p.codes.push_back(p.Code(*t));
    } else {
      p.values.push_back(kNaN);
      p.kind.push_back(0);
      if (p.text) p.codes.push_back(kMissingCode);
    }
  }
  ++rows_;
}

Frame FrameBuilder::Finish() {
  std::vector<Column> columns;
  for (std::size_t c = 0; c < columns_.size(); ++c) {
    Pending& p = columns_[c];
    Column column;
    column.name = names_[c];
    column.numeric = !p.text;
    if (column.numeric) {
      column.values = std::move(p.values);
    } else {
      for (std::size_t r = 0; r < rows_; ++r) {
        if (p.kind[r] == 1) p.codes[r] = p.Code(FormatSqlValue(static_cast<std::int64_t>(p.values[r])));
        if (p.kind[r] == 2) p.codes[r] = p.Code(FormatSqlValue(p.values[r]));
      }
      column.codes = std::move(p.codes);
      column.levels = std::move(p.dictionary);
      SortLevels(column);
    }
    p = Pending{};
    columns.push_back(std::move(column));
  }
  return Frame::FromColumns(std::move(columns), rows_);
}

Frame Frame::FromQuery(const QueryResult& result) {
  FrameBuilder builder(result.columns);
  builder.Reserve(result.rows.size());
  for (const auto& row : result.rows) builder.AddRow(row);
  return builder.Finish();
}

Frame Frame::FromColumns(std::vector<Column> columns, std::size_t rows) {
  Frame frame;
  frame.rows_ = rows;
  frame.columns_.reserve(columns.size());
  for (Column& c : columns) frame.columns_.push_back(std::make_shared<Column>(std::move(c)));
  return frame;
}

const std::shared_ptr<Column>* Frame::Find(const std::string& name) const {
  for (const std::shared_ptr<Column>& c : columns_) {
    if (c->name == name) return &c;
  }
  return nullptr;
}

Column& Frame::Mutable(std::size_t k) {
  std::shared_ptr<Column>& column = columns_[k];
  // Frames are not shared between threads, so a count of 1 cannot grow
  // while this frame changes the column.
  if (column.use_count() > 1) column = std::make_shared<Column>(*column);
  return *column;
}

bool Frame::SharesColumn(const Frame& other, const std::string& name) const {
  const std::shared_ptr<Column>* mine = Find(name);
  const std::shared_ptr<Column>* theirs = other.Find(name);
  return mine != nullptr && theirs != nullptr && mine->get() == theirs->get();
}

bool Frame::Has(const std::string& name) const { return Find(name) != nullptr; }

const Column& Frame::Get(const std::string& name, const std::string& option) const {
  if (const std::shared_ptr<Column>* found = Find(name)) return **found;
  std::vector<std::string> names = source_columns_;
  for (const Column& c : columns()) {
    if (std::find(names.begin(), names.end(), c.name) == names.end()) names.push_back(c.name);
  }
  if (std::find(source_columns_.begin(), source_columns_.end(), name) != source_columns_.end()) {
    throw InputError(fmt::format("--{}: variable '{}' was not read into the frame: name it in an option "
                                 "(--vars, --predictors, --derive, ...) of this analysis",
                                 option, name));
  }
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
      Column& derived = Mutable(columns_.size() - 1);  // held by this frame only: no copy
      derived.name = name;
      return derived;
    }
  }
  return static_cast<const Frame&>(*this).Get(name, option);
}

void Frame::Require(const std::string& name, const std::string& option) { Get(name, option); }

void Frame::Add(Column column) {
  if (Has(column.name))
    throw InputError(fmt::format("derived variable '{}' already exists in the frame", column.name));
  columns_.push_back(std::make_shared<Column>(std::move(column)));
}

void Frame::Put(Column column) {
  for (std::shared_ptr<Column>& c : columns_) {
    if (c->name != column.name) continue;
    if (c.use_count() > 1) {
      c = std::make_shared<Column>(std::move(column));  // the frames sharing the old column keep it
    } else {
      *c = std::move(column);
    }
    return;
  }
  columns_.push_back(std::make_shared<Column>(std::move(column)));
}

namespace {

// The rows of "c" at "indices", in that order.
Column RowsOf(const Column& c, const std::vector<std::size_t>& indices) {
  Column copy;
  copy.name = c.name;
  copy.numeric = c.numeric;
  copy.levels = c.levels;
  copy.deferred_z = c.deferred_z;
  if (c.numeric) {
    copy.values.reserve(indices.size());
    for (std::size_t i : indices) copy.values.push_back(c.values[i]);
  } else {
    copy.codes.reserve(indices.size());
    for (std::size_t i : indices) copy.codes.push_back(c.codes[i]);
  }
  if (!c.censored.empty()) {
    copy.censored.reserve(indices.size());
    for (std::size_t i : indices) copy.censored.push_back(c.censored[i]);
  }
  return copy;
}

}  // namespace

Frame Frame::Subset(const std::vector<std::size_t>& indices) const {
  Frame out;
  out.rows_ = indices.size();
  out.source_columns_ = source_columns_;
  out.censor_rule_ = censor_rule_;
  for (const Column& c : columns()) out.columns_.push_back(std::make_shared<Column>(RowsOf(c, indices)));
  return out;
}

void Frame::KeepRows(const std::vector<std::size_t>& indices) {
  if (indices.size() == rows_) return;  // every row (strictly ascending): nothing to drop, nothing to copy
  auto keep = [&](auto& v) {
    if (v.empty()) return;
    for (std::size_t j = 0; j < indices.size(); ++j) v[j] = v[indices[j]];
    v.resize(indices.size());
    v.shrink_to_fit();
  };
  for (std::shared_ptr<Column>& c : columns_) {
    if (c.use_count() > 1) {  // shared: the kept rows into a column of their own, not a copy of every row
      c = std::make_shared<Column>(RowsOf(*c, indices));
      continue;
    }
    keep(c->values);
    keep(c->codes);
    keep(c->censored);
  }
  rows_ = indices.size();
}

Frame Frame::Select(const std::optional<std::vector<std::string>>& names) const {
  if (!names) return *this;
  Frame out;
  out.rows_ = rows_;
  out.source_columns_ = source_columns_;
  out.censor_rule_ = censor_rule_;
  for (const std::shared_ptr<Column>& c : columns_) {
    if (std::find(names->begin(), names->end(), c->name) != names->end()) out.columns_.push_back(c);
  }
  return out;
}

void Frame::StandardiseDeferred() {
  for (std::size_t k = 0; k < columns_.size(); ++k) {
    if (!columns_[k]->deferred_z) continue;
    Column& c = Mutable(k);
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
  const std::vector<double> ordered(distinct.begin(), distinct.end());
  c.codes.reserve(source.values.size());
  for (double v : source.values) {
    if (std::isnan(v)) {
      c.codes.push_back(kMissingCode);
    } else {
      c.codes.push_back(
          static_cast<std::int32_t>(std::lower_bound(ordered.begin(), ordered.end(), v) - ordered.begin()));
    }
  }
  c.censored = source.censored;
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
    if (!a.censored.empty() || !b.censored.empty()) {  // a change from or to a censored value
      out.censored.assign(frame.rows(), 0);
      for (std::size_t i = 0; i < frame.rows(); ++i) {
        out.censored[i] = (!a.censored.empty() && a.censored[i]) || (!b.censored.empty() && b.censored[i]);
      }
    }
  } else if (std::regex_match(spec.body, m, kDays)) {
    out = DeriveDays(frame, spec.name, m[1].str(), m[2].str());
  } else if (std::regex_match(spec.body, m, kZ)) {
    const Column& a = frame.Get(m[1].str(), "derive");
    if (!a.numeric) throw InputError(fmt::format("--derive {}: z() needs a numeric column", spec.name));
    out.values = a.values;
    out.censored = a.censored;
    out.deferred_z = true;
  } else if (const auto threshold = ParseThreshold(spec.body)) {
    const Column& a = frame.Get(threshold->variable, "derive");
    if (!a.numeric)
      throw InputError(fmt::format("--derive {}: a threshold needs a numeric column", spec.name));
    RefuseDeferredZ(a, fmt::format("--derive {}", spec.name));
    out.censored = a.censored;
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
  out.censored = source.censored;
  out.numeric = false;
  out.levels.push_back("<" + FormatCut(cuts.front()));
  for (std::size_t i = 0; i + 1 < cuts.size(); ++i) {
    out.levels.push_back(FormatCut(cuts[i]) + "-" + FormatCut(cuts[i + 1]));
  }
  out.levels.push_back(">" + FormatCut(cuts.back()));
  for (double v : source.values) {
    if (std::isnan(v)) {
      out.codes.push_back(kMissingCode);
      continue;
    }
    if (v < cuts.front()) {
      out.codes.push_back(0);
    } else if (v > cuts.back()) {
      out.codes.push_back(static_cast<std::int32_t>(out.levels.size() - 1));
    } else {
      std::size_t k =
          0;  // cuts[k] <= v <= cuts[k+1]; a value equal to an inner cut goes to the lower interval
      while (k + 2 < cuts.size() && v > cuts[k + 1]) ++k;
      out.codes.push_back(static_cast<std::int32_t>(k + 1));
    }
  }
  frame.Add(std::move(out));
}

const std::vector<std::string>& VariableOptions() {
  static const std::vector<std::string> kNames = {"by",       "group",      "vars",        "x",      "y",
                                                  "outcome",  "predictors", "per-sd-vars", "random", "treatment",
                                                  "mediator", "covariates", "category",   "cluster"};
  return kNames;
}

namespace {

// The identifiers in an expression or SQL text (letters, digits, '_'; a
// double-quoted name whole).
std::vector<std::string> Identifiers(std::string_view text) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < text.size();) {
    const unsigned char ch = static_cast<unsigned char>(text[i]);
    if (ch == '"') {
      const std::size_t close = text.find('"', i + 1);
      if (close == std::string_view::npos) break;
      out.emplace_back(text.substr(i + 1, close - i - 1));
      i = close + 1;
    } else if (std::isalpha(ch) || ch == '_') {
      std::size_t j = i;
      while (j < text.size() && (std::isalnum(static_cast<unsigned char>(text[j])) || text[j] == '_')) ++j;
      out.emplace_back(text.substr(i, j - i));
      i = j;
    } else {
      ++i;
    }
  }
  return out;
}

thread_local FrameCache* current_cache = nullptr;
std::atomic<std::size_t> direct_frame_reads{0};
std::atomic<std::size_t> sql_frame_reads{0};

FrameReadMode& ReadMode() {
  static FrameReadMode mode = [] {
    const char* env = std::getenv("COHORTDB_FRAME_READER");
    if (env != nullptr && std::string_view(env) == "views") return FrameReadMode::kViews;
    if (env != nullptr && std::string_view(env) == "scan") return FrameReadMode::kScan;
    return FrameReadMode::kPivotReader;
  }();
  return mode;
}

PivotCacheUse PivotCache() {
  return ReadMode() == FrameReadMode::kScan ? PivotCacheUse::kBypass : PivotCacheUse::kUse;
}

// The reference path: the frame's SQL over the pivot views, every column.
Frame ReadFrameThroughViews(Store& store, const FrameSource& source) {
  Frame frame = Frame::FromQuery(ReadFrame(store, source));
  return frame;
}

std::string CacheKey(const FrameSource& source) {
  return fmt::format("{}\x1f{}\x1f{}", source.frame, source.study, CensorRuleName(source.censor_rule));
}

// A store column as a frame column: text as codes with levels in R's order
// (the visit column of a per-visit pivot keeps the study's visit order).
Column ToColumn(PivotColumnData&& data, bool keep_order) {
  Column c;
  c.name = std::move(data.name);
  c.censored = std::move(data.censored);
  if (!data.text) {
    c.values = std::move(data.values);
    return c;
  }
  c.numeric = false;
  c.codes = std::move(data.codes);
  c.levels = std::move(data.dictionary);
  if (!keep_order) SortLevels(c);
  return c;
}

// The pivot views a frame's SQL names: wide_<study> and wide_<study>_visit
// of existing studies whose view exists.
struct PivotUse {
  std::string view;
  std::string study;
  bool per_visit = false;
};
std::vector<PivotUse> PivotsNamed(Store& store, const std::string& sql) {
  std::vector<PivotUse> out;
  std::set<std::string> seen;
  for (const std::string& id : Identifiers(sql)) {
    if (id.rfind("wide_", 0) != 0 || !seen.insert(id).second) continue;
    if (store.Query("SELECT 1 FROM sqlite_schema WHERE type = 'view' AND name = ?1", {id}).rows.empty()) continue;
    std::string study = id.substr(5);
    bool per_visit = false;
    if (!FindStudy(store, study) && study.size() > 6 && study.compare(study.size() - 6, 6, "_visit") == 0) {
      study.resize(study.size() - 6);
      per_visit = true;
    }
    if (!FindStudy(store, study)) continue;
    out.push_back({id, study, per_visit});
  }
  return out;
}

// Relabels the study's categorical catalog variables: the pivot holds level
// numbers, analyses show labels in catalog level order.
void ApplyCatalogLabels(Store& store, const std::string& study, Frame& frame) {
  for (const LevelLabels& labels : LoadLevelLabels(store, study)) {
    std::vector<Column> relabel;
    for (const Column& c : frame.columns()) {
      const bool match = std::find(labels.columns.begin(), labels.columns.end(), c.name) != labels.columns.end();
      if (!match || !c.numeric) continue;
      Column relabelled;
      relabelled.name = c.name;
      relabelled.numeric = false;
      relabelled.censored = c.censored;
      std::map<double, std::int32_t> code_of;
      for (const auto& [level, label] : labels.levels) {
        code_of.emplace(static_cast<double>(level), static_cast<std::int32_t>(relabelled.levels.size()));
        relabelled.levels.push_back(label);
      }
      bool ok = true;
      relabelled.codes.reserve(c.values.size());
      for (double v : c.values) {
        if (std::isnan(v)) {
          relabelled.codes.push_back(kMissingCode);
          continue;
        }
        const auto it = code_of.find(v);
        if (it == code_of.end()) {
          ok = false;
          break;
        }
        relabelled.codes.push_back(it->second);
      }
      if (ok) relabel.push_back(std::move(relabelled));
    }
    for (Column& c : relabel) frame.Put(std::move(c));
  }
}

// Marks the frame's censored cells: those whose participant (and visit, in
// a frame with a visit column) held a censored value of that column in the
// pivot the frame read.
void MarkCensored(Frame& frame, const std::map<std::string, std::set<std::pair<std::int64_t, std::string>>>& cells) {
  if (cells.empty() || !frame.Has("participant_id")) return;
  const Column& ids = frame.Get("participant_id");
  if (!ids.numeric) return;
  const Column* visit = frame.Has("visit") ? &frame.Get("visit") : nullptr;
  std::vector<Column> marked;
  for (const Column& c : frame.columns()) {
    const auto found = cells.find(c.name);
    if (found == cells.end()) continue;
    Column copy = c;
    copy.censored.assign(frame.rows(), 0);
    for (std::size_t r = 0; r < frame.rows(); ++r) {
      if (std::isnan(ids.values[r])) continue;
      std::string visit_code;
      if (visit != nullptr && !visit->numeric && visit->Label(r) != nullptr) visit_code = *visit->Label(r);
      copy.censored[r] = found->second.count({static_cast<std::int64_t>(ids.values[r]), visit_code}) > 0;
    }
    marked.push_back(std::move(copy));
  }
  for (Column& c : marked) frame.Put(std::move(c));
}

// The columns of a --frame an analysis keeps: those of "source_columns" in
// "wanted", each once, in the frame's order, with participant_id and visit
// when "keys" (to mark censored cells); empty without "wanted" or when it
// names none of them (then every column is kept).
std::vector<std::string> KeptColumns(const std::vector<std::string>& source_columns,
                                     const std::optional<std::vector<std::string>>& wanted, bool keys) {
  std::vector<std::string> keep;
  if (!wanted) return keep;
  for (const std::string& name : source_columns) {
    const bool key = keys && (name == "participant_id" || name == "visit");
    if ((key || std::find(wanted->begin(), wanted->end(), name) != wanted->end()) &&
        std::find(keep.begin(), keep.end(), name) == keep.end()) {
      keep.push_back(name);
    }
  }
  return keep;
}

// The frame a projection (ParseFrameProjection) of `data` gives, with the
// columns the SQL path would keep ("keep": output names, in the frame's
// order), or nullopt where the result could differ from running the SQL over
// the pivot: a column not read, read twice, holding censored values (marked
// by participant and visit after the SQL), or text whose dictionary holds a
// value no row has.
std::optional<Frame> ProjectPivot(const FrameProjection& projection, PivotData& data,
                                  const std::vector<std::string>& source_columns,
                                  const std::vector<std::string>& keep) {
  for (const PivotColumnData& c : data.columns) {
    if (c.censored_count > 0) return std::nullopt;
  }
  std::vector<std::pair<std::string, std::string>> items = projection.items;
  if (projection.all) {
    for (const std::string& column : source_columns) items.emplace_back(column, column);
  }
  std::vector<std::string> outputs;
  for (const auto& item : items) outputs.push_back(item.first);
  if (outputs != source_columns) return std::nullopt;
  std::vector<PivotColumnData*> sources;  // per name in "keep"
  for (const std::string& output : keep) {
    const auto item = std::find_if(items.begin(), items.end(), [&](const auto& i) { return i.first == output; });
    if (item == items.end()) return std::nullopt;
    const auto found = std::find_if(data.columns.begin(), data.columns.end(),
                                    [&](const PivotColumnData& c) { return c.name == item->second; });
    if (found == data.columns.end() || std::find(sources.begin(), sources.end(), &*found) != sources.end()) {
      return std::nullopt;
    }
    if (found->text) {
      std::vector<bool> held(found->dictionary.size(), false);
      for (const std::int32_t code : found->codes) {
        if (code >= 0) held[static_cast<std::size_t>(code)] = true;
      }
      if (std::find(held.begin(), held.end(), false) != held.end()) return std::nullopt;
    }
    sources.push_back(&*found);
  }
  std::vector<Column> columns;
  for (std::size_t j = 0; j < keep.size(); ++j) {
    Column c;
    if (sources[j]->text && sources[j]->dictionary.empty()) {
      // Only NULLs: SQL returns no text, so the column is numeric and missing.
      c.values.assign(data.rows, kNaN);
    } else {
      c = ToColumn(std::move(*sources[j]), false);
    }
    c.name = keep[j];
    columns.push_back(std::move(c));
  }
  return Frame::FromColumns(std::move(columns), data.rows);
}

// Reads a frame from the store: the columns "wanted" (nullopt: all) of the
// study's pivot, or of a user frame. Catalog labels applied.
Frame ReadBaseFrame(Store& store, const FrameSource& source, const std::optional<std::vector<std::string>>& wanted) {
  if (ReadMode() == FrameReadMode::kViews) {
    // The views hold censored values as NULL: under a rule, a --frame reads
    // temp views of the pivot SQL with the rule applied, named as the views.
    ShadowPivots rule_views(store);
    if (!source.frame.empty() && source.censor_rule != CensorRule::kExclude) {
      for (const PivotUse& use : PivotsNamed(store, FrameSelectSql(store, source))) {
        rule_views.AddRuleView(use.view, use.study, use.per_visit, source.censor_rule);
      }
    }
    Frame frame = ReadFrameThroughViews(store, source);
    if (!source.study.empty()) ApplyCatalogLabels(store, source.study, frame);
    return frame;
  }
  if (source.frame.empty()) {
    if (source.study.empty()) throw InputError("no frame: give --study (its pivot is the default frame) or --frame");
    const PivotDefinition pivot = LoadPivotDefinition(store, source.study);
    PivotData data = ReadPivot(store, pivot, false, source.censor_rule, wanted, PivotCache());
    std::vector<Column> columns;
    for (PivotColumnData& c : data.columns) columns.push_back(ToColumn(std::move(c), false));
    Frame frame = Frame::FromColumns(std::move(columns), data.rows);
    frame.SetSourceColumns(PivotColumnNames(pivot, false));
    ApplyCatalogLabels(store, source.study, frame);
    return frame;
  }
  const std::string sql = FrameSelectSql(store, source);
  // Pivot views the frame reads are served by the pivot reader: temp tables
  // of the columns the analysis and the frame's own SQL name shadow the views.
  const std::vector<PivotUse> pivots = PivotsNamed(store, sql);
  if (pivots.empty() && source.censor_rule != CensorRule::kExclude) {
    throw InputError(fmt::format(
        "--censored {}: this frame reads no pivot view (wide_<study> or wide_<study>_visit), so the rule would "
        "substitute nothing; read a pivot view in the frame, or drop --censored",
        CensorRuleName(source.censor_rule)));
  }
  // The frame's columns over the views (before any shadow narrows them).
  const std::vector<std::string> source_columns = store.GuardedColumns(sql, "--frame");
  ShadowPivots shadows(store);
  std::size_t expected_rows = 0;  // the largest pivot read: the rows of a frame that filters or projects one
  std::vector<std::string> referenced = Identifiers(sql);
  std::string labels_study = source.study;
  std::set<std::string> studies;
  std::map<std::string, std::set<std::pair<std::int64_t, std::string>>> censored_cells;
  const std::optional<FrameProjection> projection =
      ReadMode() == FrameReadMode::kViews ? std::nullopt : ParseFrameProjection(sql);
  for (const PivotUse& use : pivots) {
    const PivotDefinition pivot = LoadPivotDefinition(store, use.study);
    std::optional<std::vector<std::string>> columns;
    if (wanted) {
      columns = *wanted;
      columns->insert(columns->end(), referenced.begin(), referenced.end());
    }
    if (columns) {
      columns->push_back("participant_id");
      columns->push_back("visit");
    }
    PivotData read = ReadPivot(store, pivot, use.per_visit, source.censor_rule, columns, PivotCache());
    if (projection && pivots.size() == 1 && projection->view == use.view) {
      // A plain projection of this pivot: its columns as they are, without
      // running the SQL over them (about 0.4 s at 1.5 million rows).
      std::vector<std::string> keep = KeptColumns(source_columns, wanted, false);
      if (keep.empty()) keep = source_columns;
      if (std::optional<Frame> direct = ProjectPivot(*projection, read, source_columns, keep)) {
        Frame frame = std::move(*direct);
        frame.SetSourceColumns(source_columns);
        const std::string study = labels_study.empty() ? use.study : labels_study;
        ApplyCatalogLabels(store, study, frame);
        OrderVisitLevels(store, study, frame);
        ++direct_frame_reads;
        return frame;
      }
    }
    const PivotData& data = shadows.Add(use.view, std::move(read));
    expected_rows = std::max(expected_rows, data.rows);
    studies.insert(use.study);
    // Which (participant, visit) cells of each column hold a censored value,
    // to mark them in the frame's rows by participant_id (and visit).
    const PivotColumnData* ids = nullptr;
    const PivotColumnData* visit = nullptr;
    for (const PivotColumnData& c : data.columns) {
      if (c.name == "participant_id") ids = &c;
      if (c.name == "visit") visit = &c;
    }
    for (const PivotColumnData& c : data.columns) {
      if (c.censored_count == 0 || ids == nullptr) continue;
      std::set<std::pair<std::int64_t, std::string>>& cells = censored_cells[c.name];
      for (std::size_t r = 0; r < data.rows; ++r) {
        if (!c.censored[r]) continue;
        const std::string visit_code =
            visit != nullptr && visit->text && visit->codes[r] >= 0
                ? visit->dictionary[static_cast<std::size_t>(visit->codes[r])]
                : std::string();
        cells.emplace(static_cast<std::int64_t>(ids->values[r]), visit_code);
      }
    }
  }
  // A frame over one study's pivot keeps that study's catalog.
  if (labels_study.empty() && studies.size() == 1) labels_study = *studies.begin();
  std::string query = sql;
  if (const std::vector<std::string> keep = KeptColumns(source_columns, wanted, !censored_cells.empty());
      !keep.empty()) {
    std::string list;
    for (const std::string& name : keep) list += fmt::format("{}\"{}\"", list.empty() ? "" : ", ", name);
    query = fmt::format("SELECT {} FROM (\n{}\n)", list, sql);
  }
  std::optional<FrameBuilder> builder;
  ResultSink sink;
  sink.begin = [&](const std::vector<std::string>& columns) {
    builder.emplace(columns);
    builder->Reserve(expected_rows);
  };
  // The rows held are bounded as the guard bounds collected results (README,
  // "Limits of guarded SQL"): about 13 bytes a cell plus the text.
  constexpr std::size_t kMaxFrameBytes = std::size_t{1} << 30;
  std::size_t held = 0;
  std::size_t rows = 0;
  sink.row = [&](std::vector<SqlValue>&& row) {
    for (const SqlValue& v : row) {
      held += 13;
      if (const auto* text = std::get_if<std::string>(&v)) held += text->size();
    }
    if (held > kMaxFrameBytes) {
      throw InputError(fmt::format("--frame stopped: its rows would take more than {} MiB of memory ({} rows held "
                                   "so far); select fewer rows or columns",
                                   kMaxFrameBytes >> 20, rows));
    }
    try {
      builder->AddRow(row);
    } catch (const std::bad_alloc&) {
      throw InputError(fmt::format("--frame stopped: out of memory after {} rows; select fewer rows or columns", rows));
    }
    ++rows;
  };
  sink.end = [](std::int64_t) {};
  store.GuardedQueryRows(query, sink);
  ++sql_frame_reads;
  Frame frame = builder ? builder->Finish() : Frame();
  frame.SetSourceColumns(source_columns);
  MarkCensored(frame, censored_cells);
  if (!labels_study.empty()) {
    ApplyCatalogLabels(store, labels_study, frame);
    OrderVisitLevels(store, labels_study, frame);
  }
  return frame;
}

}  // namespace

std::vector<std::string> FrameNeeds(const Options& options) {
  std::vector<std::string> names;
  auto add = [&](const std::string& name) {
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  };
  for (const std::string& option : VariableOptions()) {
    if (!options.Has(option)) continue;
    for (const std::string& name : options.List(option)) {
      if (const auto threshold = ParseThreshold(name)) {
        add(threshold->variable);
      } else {
        add(name);
      }
    }
  }
  for (const char* option : {"formula", "compare"}) {  // model formulas: the variables they name
    const auto text = options.String(option);
    if (!text) continue;
    try {
      for (const std::string& name : ParseFormula(*text).Variables()) add(name);
    } catch (const InputError&) {
      // ValidateRequest reports a bad formula at its place.
    }
  }
  for (const std::string& item : options.Items("ref")) {  // VAR=LEVEL
    const auto eq = item.find('=');
    if (eq != std::string::npos) add(Trim(item.substr(0, eq)));
  }
  static const std::regex kChange(
      R"(change\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*,\s*([A-Za-z_][A-Za-z0-9_]*)\s*,\s*([A-Za-z_][A-Za-z0-9_]*)\s*\))");
  for (const char* option : {"derive", "cut"}) {
    for (const std::string& item : options.Items(option)) {
      for (const std::string& id : Identifiers(item)) add(id);
      for (auto it = std::sregex_iterator(item.begin(), item.end(), kChange); it != std::sregex_iterator(); ++it) {
        add((*it)[1].str() + "_" + (*it)[2].str());
        add((*it)[1].str() + "_" + (*it)[3].str());
      }
    }
  }
  return names;
}

void FrameCache::Plan(const Options& options) {
  Entry& entry = entries_[CacheKey(SourceOf(options))];
  for (const std::string& name : FrameNeeds(options)) {
    if (std::find(entry.columns.begin(), entry.columns.end(), name) == entry.columns.end()) {
      entry.columns.push_back(name);
    }
  }
}

void SetFrameReadMode(FrameReadMode mode) { ReadMode() = mode; }
FrameReadMode GetFrameReadMode() { return ReadMode(); }
FrameReadCounts GetFrameReadCounts() { return {direct_frame_reads.load(), sql_frame_reads.load()}; }

FrameCacheScope::FrameCacheScope(FrameCache& cache) : previous_(current_cache) { current_cache = &cache; }
FrameCacheScope::~FrameCacheScope() { current_cache = previous_; }

Frame LoadFrame(Store& store, const Options& options) {
  const FrameSource source = SourceOf(options);
  const std::vector<std::string> needs = FrameNeeds(options);
  Frame frame;
  FrameCache::Entry* cached = nullptr;
  if (current_cache != nullptr) {
    const auto it = current_cache->entries_.find(CacheKey(source));
    if (it != current_cache->entries_.end()) cached = &it->second;
  }
  if (cached != nullptr) {
    if (!cached->frame) {
      std::vector<std::string> columns = cached->columns;
      for (const std::string& name : needs) {
        if (std::find(columns.begin(), columns.end(), name) == columns.end()) columns.push_back(name);
      }
      cached->frame = ReadBaseFrame(store, source, columns);
      ++current_cache->reads_;
    }
    frame = cached->frame->Select(needs);
  } else {
    frame = ReadBaseFrame(store, source, needs);
  }
  frame.SetCensorRule(CensorRuleName(source.censor_rule));
  OrderVisitLevels(store, source.study, frame);
  for (const std::string& derive : options.Items("derive")) ApplyDerive(frame, derive);
  for (const std::string& cut : options.Items("cut")) ApplyCut(frame, cut);
  ApplyReferenceLevels(frame, options);
  return frame;
}

std::string CensorAction(const std::string& rule) {
  // Right-censored values (above an upper limit) take the limit under every
  // rule but exclude (README, "Frames").
  if (rule == "half") return "set to limit/2";
  if (rule == "sqrt2") return "set to limit/sqrt(2)";
  if (rule == "limit") return "set to the limit";
  return "left out as missing (--censored exclude)";
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
