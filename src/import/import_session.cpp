#include "import/import_session.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <set>
#include <unordered_map>

#include <fmt/format.h>

#include "common/error.h"
#include "common/input_file.h"
#include "common/sha256.h"
#include "common/version.h"
#include "import/csv_reader.h"
#include "import/message_text.h"
#include "import/value_parser.h"

namespace cohortdb {
namespace {

double NowSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string NowIso() {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, ms % 1000);
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string JoinKeys(const StringMap<std::pair<std::int64_t, std::string>>& codes) {
  std::vector<std::string> keys;
  for (const auto& [k, v] : codes) keys.push_back(k);
  std::sort(keys.begin(), keys.end());
  std::string out;
  for (const auto& k : keys) out += (out.empty() ? "" : ", ") + k;
  return out;
}

}  // namespace


ImportSession::ImportSession(Store& store, ImportWriter& writer, const ImportSpec& spec, const ImportOptions& options)
    : store_(store), writer_(writer), spec_(spec), options_(options) {
  auto study = FindStudy(store_, spec_.study);
  study_id_ = study ? *study : CreateStudy(store_, spec_.study, spec_.design, spec_.title);
  conversions_ = LoadUnitConversions(store_);
  // A conversion the spec declares must agree with the store's own for the
  // same units and variable (to 12 significant digits: 0.0833333333333 is 1/12).
  const auto same = [](double a, double b) { return std::abs(a - b) <= 1e-12 * std::max(std::abs(a), std::abs(b)); };
  for (const UnitSpec& u : spec_.units) {
    for (const UnitConversion& c : conversions_) {
      if (c.from_unit != u.from_unit || c.to_unit != u.to_unit || c.analyte != u.variable) continue;
      if (!same(c.factor, u.factor) || !same(c.offset, u.offset)) {
        throw InputError(fmt::format(
            "{}: units.\"{} -> {}\"{}: expected the conversion the store holds in unit_conversion (factor {}, offset {}) "
            "or none, found factor {}, offset {}",
            u.where, u.from_unit, u.to_unit, u.variable.empty() ? "" : " for variable '" + u.variable + "'",
            FormatNumber(c.factor), FormatNumber(c.offset), FormatNumber(u.factor), FormatNumber(u.offset)));
      }
    }
  }
  for (const auto& v : LoadVisits(store_, study_id_)) {
    visits_[v.code] = v.id;
    max_visit_order_ = std::max(max_visit_order_, v.order);
  }
  for (const auto& s : LoadSites(store_, study_id_)) sites_[s.code] = s.id;
  CreateSpecVisits();
  if (spec_.shape != FileShape::kTrialSummary) {
    ResolveCatalog();
    // A conversion for one variable names a variable of the study.
    std::vector<CatalogVariable> catalog;
    for (const UnitSpec& u : spec_.units) {
      if (u.variable.empty() || by_code_.count(u.variable)) continue;
      if (catalog.empty()) catalog = LoadVariables(store_, study_id_);
      if (std::none_of(catalog.begin(), catalog.end(), [&](const CatalogVariable& c) { return c.code == u.variable; })) {
        throw InputError(fmt::format("{}: units.\"{} -> {}\": expected a variable of study '{}' (in the spec or the "
                                     "catalog), found variable = '{}'",
                                     u.where, u.from_unit, u.to_unit, spec_.study, u.variable));
      }
    }
    participants_.Reserve(static_cast<std::size_t>(writer_.CountParticipants(study_id_)));
    // A file without participant attributes (a lab or imaging file) never
    // compares them: only the ids are loaded. A REDCap export may carry
    // its data access group as the site without the spec naming it.
    const bool with_attributes = spec_.shape == FileShape::kRedcap || !spec_.site_column.empty() ||
                                 !spec_.sex_column.empty() || !spec_.age_column.empty() ||
                                 !spec_.birth_year_column.empty() || !spec_.arm_column.empty();
    writer_.ForEachParticipant(study_id_, with_attributes,
                               [&](std::string_view ext, std::int64_t id, const ParticipantAttributes& a) {
                                 participants_.Insert(ext, ParticipantState{.id = id, .attributes = KeepAttributes(a)});
                               });
    next_participant_id_ = writer_.NextParticipantId();
  }
}

void ImportSession::CreateSpecVisits() {
  for (const VisitSpec& v : spec_.visits) {
    if (visits_.count(v.code)) continue;
    std::int64_t order = v.order ? *v.order : max_visit_order_ + 1;
    max_visit_order_ = std::max(max_visit_order_, order);
    visits_[v.code] = CreateVisit(store_, study_id_, v.code, v.label, order, v.day);
  }
}

std::optional<std::int64_t> ImportSession::VisitId(std::string_view code) {
  auto it = visits_.find(code);
  if (it != visits_.end()) return it->second;
  return std::nullopt;
}

std::int64_t ImportSession::SiteId(std::string_view code) {
  auto it = sites_.find(code);
  if (it != sites_.end()) return it->second;
  std::int64_t id = CreateSite(store_, study_id_, std::string(code));
  sites_.emplace(std::string(code), id);
  row_created_sites_.emplace_back(code, id);
  return id;
}

ResolvedVariable& ImportSession::ResolveVariable(const VariableSpec* vspec, const std::string& code,
                                                 const std::string& type_hint) {
  auto found = by_code_.find(code);
  if (found != by_code_.end()) return *found->second;
  auto fail = [&](const std::string& what) -> void {
    throw InputError(fmt::format("{}: variable '{}': {}", spec_.name, code, what));
  };
  auto rv = std::make_unique<ResolvedVariable>();
  std::vector<CatalogVariable> existing = LoadVariables(store_, study_id_);
  auto it = std::find_if(existing.begin(), existing.end(), [&](const CatalogVariable& c) { return c.code == code; });
  if (it != existing.end()) {
    rv->catalog = *it;
  } else {
    CatalogVariable c;
    c.code = code;
    std::string type = type_hint;
    if (vspec != nullptr) {
      c.label = vspec->label.value_or("");
      c.record_kind = vspec->record_kind.value_or(spec_.record_kind);
      if (vspec->value_type) {
        type = *vspec->value_type;
      } else if (type.empty()) {
        type = vspec->codes.empty() ? "real" : "categorical";
      }
      c.unit = vspec->unit.value_or(vspec->source_unit);
      c.min_value = vspec->min_value;
      c.max_value = vspec->max_value;
    } else {
      c.record_kind = spec_.record_kind;
    }
    c.value_type = type.empty() ? "real" : type;
    if (c.value_type == "categorical" && vspec != nullptr) {
      std::int64_t next = 1;
      std::set<std::int64_t> used;
      for (const CodeMapping& m : vspec->codes) {
        std::int64_t level = m.level ? *m.level : ParseInteger(m.source).value_or(0);
        if (!m.level && !ParseInteger(m.source)) level = 0;
        if (level == 0 && !m.level && !ParseInteger(m.source)) {
          while (used.count(next)) ++next;
          level = next;
        }
        if (!used.insert(level).second) fail(fmt::format("codes: level {} given twice", level));
        c.levels.push_back({level, m.label, m.source});
      }
    }
    c.id = CreateVariable(store_, study_id_, c);
    rv->catalog = c;
  }
  const CatalogVariable& cat = rv->catalog;
  rv->kind = *ParseRecordKind(cat.record_kind);
  using Type = ResolvedVariable::Type;
  rv->type = cat.value_type == "integer"       ? Type::kInteger
             : cat.value_type == "boolean"     ? Type::kBoolean
             : cat.value_type == "categorical" ? Type::kCategorical
             : cat.value_type == "text"        ? Type::kText
             : cat.value_type == "date"        ? Type::kDate
             : cat.value_type == "datetime"    ? Type::kDatetime
                                               : Type::kReal;
  if (vspec != nullptr) {
    if (vspec->record_kind && *vspec->record_kind != cat.record_kind) {
      fail(fmt::format("the spec says kind {}, the catalog says {}", *vspec->record_kind, cat.record_kind));
    }
    if (vspec->value_type && *vspec->value_type != cat.value_type) {
      fail(fmt::format("the spec says type {}, the catalog says {}", *vspec->value_type, cat.value_type));
    }
    rv->source_unit = vspec->source_unit;
    rv->missing = vspec->missing;
    if (vspec->date_format == "mdy") rv->date_order = DateOrder::kMdy;
    if (vspec->date_format == "dmy") rv->date_order = DateOrder::kDmy;
  }
  if (cat.value_type == "categorical") {
    if (vspec != nullptr && !vspec->codes.empty()) {
      // The first catalog level whose label (any case) or number matches,
      // looked up by label and by number: an ICD-10-sized code list (70,000
      // codes) matches in linear time.
      std::unordered_map<std::string, std::size_t> by_label;
      std::unordered_map<std::int64_t, std::size_t> by_level;
      for (std::size_t i = 0; i < cat.levels.size(); ++i) {
        by_label.emplace(AsciiLower(cat.levels[i].label), i);
        by_level.emplace(cat.levels[i].level, i);
      }
      for (const CodeMapping& m : vspec->codes) {
        std::size_t first = cat.levels.size();
        if (auto label = by_label.find(AsciiLower(m.label)); label != by_label.end()) first = label->second;
        if (m.level) {
          if (auto level = by_level.find(*m.level); level != by_level.end()) first = std::min(first, level->second);
        }
        const auto lv = cat.levels.begin() + static_cast<std::ptrdiff_t>(first);
        if (lv == cat.levels.end()) {
          std::string levels;
          for (const auto& l : cat.levels) levels += fmt::format("{}{} = {}", levels.empty() ? "" : ", ", l.level, l.label);
          fail(fmt::format("code '{}' maps to '{}', expected a level of the catalog ({})", m.source, m.label, levels));
        }
        rv->codes[m.source] = {lv->level, lv->label};
      }
    } else {
      for (const auto& l : cat.levels) rv->codes[l.source_code] = {l.level, l.label};
    }
    if (rv->codes.empty()) fail("categorical without codes: expected codes = { \"1\" = \"label\", ... } in the spec");
  } else if (cat.value_type == "boolean") {
    if (vspec != nullptr && !vspec->codes.empty()) {
      for (const CodeMapping& m : vspec->codes) {
        std::string label = AsciiLower(m.label);
        std::int64_t v;
        if (m.level && (*m.level == 0 || *m.level == 1)) v = *m.level;
        else if (label == "yes" || label == "true" || label == "1") v = 1;
        else if (label == "no" || label == "false" || label == "0") v = 0;
        else fail(fmt::format("codes.{}: expected 0/1, yes/no or true/false for a boolean, found '{}'", m.source, m.label));
        rv->codes[m.source] = {v, v == 1 ? "yes" : "no"};
      }
    } else {
      for (const auto& l : cat.levels) rv->codes[l.source_code] = {l.level, l.label};
    }
  }
  rv->has_current_records = writer_.HasCurrentRecords(cat.id);
  ResolvedVariable& ref = *rv;
  by_code_[code] = rv.get();
  rv->index = variables_.size();
  variables_.push_back(std::move(rv));
  return ref;
}

void ImportSession::ResolveCatalog() {
  for (const VariableSpec& v : spec_.variables) {
    ResolvedVariable& rv = ResolveVariable(&v, v.code, "");
    for (const std::string& name : v.names) {
      auto [pos, inserted] = by_name_.emplace(name, &rv);
      if (!inserted && pos->second != &rv) {
        throw InputError(fmt::format("{}: name '{}' is given to two variables ({} and {})", spec_.name, name,
                                     pos->second->catalog.code, rv.catalog.code));
      }
    }
  }
  for (const auto& [field, codes] : spec_.checkboxes) {
    for (const auto& [code, variable] : codes) {
      VariableSpec vs;
      vs.code = variable;
      vs.value_type = "boolean";
      vs.label = fmt::format("{} = {}", field, code);
      ResolveVariable(by_code_.count(variable) ? nullptr : &vs, variable, "boolean");
    }
  }
  // Catalog variables the spec does not name (from import-dictionary) are
  // resolved when a column names them (PlanColumns).
}

bool ImportSession::IsMissing(const ResolvedVariable& variable, std::string_view raw) const {
  std::string_view t = Trim(raw);
  if (t.empty()) return true;
  for (const auto& m : spec_.missing) {
    if (t == m) return true;
  }
  for (const auto& m : variable.missing) {
    if (t == m) return true;
  }
  return false;
}

std::optional<std::string> ImportSession::Convert(ResolvedVariable& v, std::string_view raw, std::string_view unit,
                                                  ConvertedValue& out) {
  const CatalogVariable& cat = v.catalog;
  std::string_view t = Trim(raw);
  out = ConvertedValue{};
  missing_unit_.clear();
  using Type = ResolvedVariable::Type;
  const Type type = v.type;
  if (type == Type::kText) {
    out.text = raw;
    return std::nullopt;
  }
  if (type == Type::kDate || type == Type::kDatetime) return ConvertDate(v, t, unit, out);
  if (type == Type::kCategorical || (type == Type::kBoolean && !v.codes.empty())) {
    // A code map lists every code the file may use: 0 and 1 too.
    auto it = v.codes.find(t);
    if (it == v.codes.end()) {
      return fmt::format("expected one of the codes {} of variable '{}', found {}", JoinKeys(v.codes), cat.code,
                         Quoted(t));
    }
    out.value = static_cast<double>(it->second.first);
    if (type == Type::kCategorical) out.text = it->second.second;
    out.normalised = t.size() != raw.size();
    return std::nullopt;
  }
  if (type == Type::kBoolean) {
    std::string lower = AsciiLower(t);
    if (lower == "1" || lower == "yes" || lower == "true" || lower == "y") out.value = 1;
    else if (lower == "0" || lower == "no" || lower == "false" || lower == "n") out.value = 0;
    else return fmt::format("expected 0 or 1 (or yes/no) for boolean variable '{}', found {}", cat.code, Quoted(t));
    out.normalised = t.size() != raw.size();
    return std::nullopt;
  }
  // A decimal comma reads as the point (one comma at most; the source value
  // keeps the text as delivered).
  std::string with_point;
  if (spec_.decimal == ',' && std::count(t.begin(), t.end(), ',') == 1 && t.find('.') == std::string_view::npos) {
    with_point.assign(t);
    with_point[with_point.find(',')] = '.';
  }
  const std::string_view number_text = with_point.empty() ? t : std::string_view(with_point);
  auto cell = ParseNumericCell(number_text);
  if (!cell) {
    std::string_view limit = number_text;
    if (!limit.empty() && (limit.front() == '<' || limit.front() == '>')) limit.remove_prefix(1);
    const char* range = NumberOutOfRange(limit);
    return fmt::format("expected a number (or <limit, >limit) for variable '{}', found {}{}", cat.code, Quoted(t),
                       range != nullptr ? fmt::format(", {}", range) : std::string());
  }
  out.normalised = !IsPlainNumber(raw, spec_.decimal, type == Type::kInteger && cell->censoring == 0);
  std::string_view u = Trim(unit);
  if (u.empty()) u = v.source_unit;
  double x = cell->number;
  const bool converted = !u.empty() && u != cat.unit;
  if (converted) {
    if (cat.unit.empty()) {
      return fmt::format("expected no unit for variable '{}' (the catalog gives it none), found unit {}", cat.code,
                         Quoted(u));
    }
    auto cached = v.unit_cache.find(u);
    if (cached == v.unit_cache.end()) {
      // The most specific conversion wins: the variable's own (spec, then
      // store), then one for every variable (spec, then store).
      std::optional<ResolvedVariable::AppliedConversion> conv;
      for (int pass = 0; pass < 2 && !conv; ++pass) {
        const std::string& analyte = pass == 0 ? cat.code : std::string();
        for (const UnitSpec& c : spec_.units) {
          if (c.from_unit == u && c.to_unit == cat.unit && c.variable == analyte) {
            conv = ResolvedVariable::AppliedConversion{c.factor, c.offset, true, 0};
            break;
          }
        }
        for (const UnitConversion& c : conversions_) {
          if (conv) break;
          if (c.from_unit == u && c.to_unit == cat.unit && c.analyte == analyte) {
            conv = ResolvedVariable::AppliedConversion{c.factor, c.offset, false, 0};
          }
        }
      }
      cached = v.unit_cache.emplace(std::string(u), conv).first;
    }
    if (!cached->second) {
      missing_unit_.assign(u);
      return fmt::format("expected a unit convertible to '{}' for variable '{}', found unit {} (no conversion in "
                         "unit_conversion or the spec's [units], e.g. \"{} -> {}\" = FACTOR)",
                         cat.unit, cat.code, Quoted(u), u, cat.unit);
    }
    x = x * cached->second->factor + cached->second->offset;
    out.conversion = &*cached->second;
  }
  // What was found, in the catalog's unit when it was converted.
  const auto found = [&] {
    return converted ? fmt::format("{} {} = {} {}", t, u, FormatNumber(x), cat.unit) : Quoted(t);
  };
  // Whole numbers are checked after conversion (18 months are 1.5 years);
  // a converted value within rounding error of a whole number is one.
  if (type == Type::kInteger && cell->censoring == 0 && x != std::floor(x)) {
    const double whole = std::round(x);
    if (!converted || std::abs(x - whole) > 1e-9 * std::max(1.0, std::abs(whole))) {
      return fmt::format("expected a whole number for integer variable '{}', found {}", cat.code, found());
    }
    x = whole;
  }
  // A censored value's limit must lie in the plausible range as a value
  // would: "<50" degF for a body temperature of 30 to 45 degC is a unit error.
  if ((cat.min_value && x < *cat.min_value) || (cat.max_value && x > *cat.max_value)) {
    std::string range = cat.min_value && cat.max_value
                            ? fmt::format("between {} and {}", FormatNumber(*cat.min_value), FormatNumber(*cat.max_value))
                            : cat.min_value ? fmt::format("at least {}", FormatNumber(*cat.min_value))
                                            : fmt::format("at most {}", FormatNumber(*cat.max_value));
    return fmt::format("expected a {} {}{} for variable '{}', found {}", cell->censoring ? "limit" : "value", range,
                       cat.unit.empty() ? "" : " " + cat.unit, cat.code, found());
  }
  if (cell->censoring != 0) {
    out.censoring = cell->censoring == '<' ? "left" : "right";
    out.detection_limit = x;
    return std::nullopt;
  }
  out.value = x == 0 ? 0.0 : x;  // "-0" is stored as 0 (counted as normalised)
  return std::nullopt;
}

std::optional<std::string> ImportSession::ConvertDate(ResolvedVariable& v, std::string_view t, std::string_view unit,
                                                      ConvertedValue& out) {
  const CatalogVariable& cat = v.catalog;
  const std::string& type = cat.value_type;
  if (!Trim(unit).empty()) {
    return fmt::format("expected no unit for {} variable '{}', found unit {}", type, cat.code, Quoted(Trim(unit)));
  }
  const TimePart time = type == "date" ? TimePart::kNone : TimePart::kRequired;
  std::string problem;
  const auto date = ParseCalendarDate(t, v.date_order, time, &problem);
  if (!date) {
    if (problem.empty()) {
      return fmt::format("expected a {} {} for variable '{}', found {}", type, DateFormatName(v.date_order, time),
                         cat.code, Quoted(t));
    }
    return fmt::format("expected a valid calendar {} for variable '{}', found {} ({})", type, cat.code, Quoted(t),
                       problem);
  }
  const double day = DayNumber(*date);
  if ((cat.min_value && day < *cat.min_value) || (cat.max_value && day > *cat.max_value)) {
    const auto bound = [](double d) { return FormatIsoDate(DateOfDay(static_cast<std::int64_t>(std::floor(d)))); };
    std::string range = cat.min_value && cat.max_value
                            ? fmt::format("from {} to {}", bound(*cat.min_value), bound(*cat.max_value))
                            : cat.min_value ? fmt::format("on or after {}", bound(*cat.min_value))
                                            : fmt::format("on or before {}", bound(*cat.max_value));
    return fmt::format("expected a {} {} for variable '{}', found {}", type, range, cat.code, Quoted(t));
  }
  out.value = day;
  out.iso_text = FormatIsoDate(*date);
  return std::nullopt;
}

std::string ImportSession::FormatError(std::int64_t line, std::size_t column, const std::string& message) const {
  return column > 0 ? fmt::format("{}:{}:{}: {}", file_, line, column, message)
                    : fmt::format("{}:{}: {}", file_, line, message);
}

void ImportSession::AddError(std::int64_t line, std::size_t column, const std::string& message) {
  AddFileError(FormatError(line, column, message));
}

void ImportSession::AddFileError(std::string message) {
  ++error_count_;
  ++file_error_count_;
  // --max-errors bounds what is printed with --quarantine too (a header of
  // 100,000 unknown columns is 100,000 errors).
  if (static_cast<int>(errors_.size()) < options_.max_errors) errors_.push_back(std::move(message));
}

bool ImportSession::ErrorLimitReached() const {
  return !options_.quarantine && error_count_ >= options_.max_errors;
}

std::string ImportSession::RawRow(const CsvRecord& record) const {
  std::string out;
  for (std::size_t i = 0; i < record.size(); ++i) {
    if (i > 0) out.push_back(spec_.delimiter);
    std::string_view f = record[i];
    if (f.find_first_of(std::string{spec_.delimiter, '"', '\n', '\r'}) != std::string_view::npos) {
      out.push_back('"');
      for (char c : f) {
        if (c == '"') out.push_back('"');
        out.push_back(c);
      }
      out.push_back('"');
    } else {
      out.append(f);
    }
  }
  return out;
}

void ImportSession::RejectRow(const CsvRecord& record, const std::vector<std::string>& header,
                              std::vector<RowError>& row_errors) {
  // In column order, whatever order the checks ran in.
  std::stable_sort(row_errors.begin(), row_errors.end(),
                   [](const RowError& a, const RowError& b) { return a.column < b.column; });
  if (options_.quarantine) {
    std::string raw = RawRow(record);
    for (const RowError& e : row_errors) {
      std::int64_t col = static_cast<std::int64_t>(e.column);
      const std::string_view name = e.column > 0 && e.column <= header.size() ? std::string_view(header[e.column - 1])
                                                                              : std::string_view();
      writer_.InsertImportError(batch_id_, record.line(), e.column > 0 ? std::optional<std::int64_t>(col) : std::nullopt,
                                name, e.message, raw);
    }
    error_count_ += static_cast<std::int64_t>(row_errors.size());
    return;
  }
  // A row is reported whole: the row that reaches --max-errors shows all of
  // its problems, so "stopped after N errors" lists N of them.
  const bool show = static_cast<int>(errors_.size()) < options_.max_errors;
  for (const RowError& e : row_errors) {
    if (!e.fold.empty()) {
      // One error per variable and unit of the file, with its row count.
      auto [it, first] = folded_.try_emplace(e.fold);
      FoldedError& f = it->second;
      ++f.rows;
      f.last_line = record.line();
      if (!first) continue;
      f.first_line = record.line();
      f.column = e.column;
      f.message = e.message;
      f.fold_at = e.fold_at;
      ++error_count_;
      if (show) {
        f.shown = errors_.size();
        errors_.push_back(FormatError(record.line(), e.column, e.message));
      }
      continue;
    }
    ++error_count_;
    if (show) errors_.push_back(FormatError(record.line(), e.column, e.message));
  }
}

void ImportSession::FinishFoldedErrors() {
  for (auto& [key, f] : folded_) {
    if (!f.shown || f.rows < 2) continue;
    std::string message = f.message;
    message.insert(f.fold_at, fmt::format(" in {} rows (lines {} to {})", f.rows, f.first_line, f.last_line));
    errors_[*f.shown] = FormatError(f.first_line, f.column, message);
  }
  folded_.clear();
}

void ImportSession::RecordConversions() {
  for (const auto& variable : variables_) {
    for (auto& [unit, conversion] : variable->unit_cache) {
      if (!conversion || conversion->values == 0) continue;
      if (batch_id_ != 0) {
        RecordBatchConversion(store_, BatchConversion{batch_id_, variable->catalog.id, unit, variable->catalog.unit,
                                                      conversion->factor, conversion->offset,
                                                      conversion->from_spec ? "spec" : "unit_conversion",
                                                      conversion->values});
      }
      conversion->values = 0;
    }
  }
}

void ImportSession::Progress(const CsvReader& reader, std::int64_t rows, bool final) {
  if (!options_.progress) return;
  double now = NowSeconds();
  if (!final && now - progress_last_ < 0.5) return;
  progress_last_ = now;
  double elapsed = std::max(now - progress_started_, 1e-9);
  double pct = reader.file_size() > 0 ? 100.0 * static_cast<double>(reader.bytes_read()) / static_cast<double>(reader.file_size()) : 100.0;
  std::fprintf(stderr, "\r%s: %lld rows, %.0f rows/s, %.0f%%%s", file_.c_str(), static_cast<long long>(rows),
               static_cast<double>(rows) / elapsed, std::min(pct, 100.0), final ? "\n" : "");
  std::fflush(stderr);
}

void ImportSession::ReadFile(const std::string& path, const std::string& file_sha, FileImportReport& report) {
  CsvReader reader(path, spec_.delimiter, path);
  const CsvRecord* first = reader.Next();
  if (first == nullptr) {
    AddError(1, 0, "expected a header line, found an empty file");
    return;
  }
  if (!first->problem().empty()) {
    AddError(first->line(), first->problem_column(), first->problem());
    return;
  }
  const std::int64_t header_line = first->line();
  std::vector<std::string> header;
  for (std::size_t i = 0; i < first->size(); ++i) {
    header.emplace_back(Trim((*first)[i]));
    if (header.back().size() != (*first)[i].size()) NoteNormalised(report, first->line(), i + 1, (*first)[i]);
  }
  {
    std::set<std::string> seen;
    for (std::size_t i = 0; i < header.size(); ++i) {
      if (!seen.insert(header[i]).second) {
        AddError(first->line(), i + 1, fmt::format("expected unique column names, found {} twice", Quoted(header[i])));
        return;
      }
    }
  }
  NewBatch nb;
  nb.study_id = study_id_;
  nb.file_name = path;
  nb.file_sha256 = file_sha;
  nb.spec_name = spec_.name;
  nb.spec_sha256 = spec_.sha256;
  nb.started_at = NowIso();
  nb.tool_version = kVersion;
  nb.record_kind = spec_.shape == FileShape::kTrialSummary ? "trial_summary" : "mixed";
  batch_id_ = writer_.BeginBatch(nb);
  batch_kind_.clear();
  report.batch_id = batch_id_;
  progress_started_ = NowSeconds();
  progress_last_ = progress_started_;
  std::int64_t errors_before = error_count_;
  if (spec_.shape == FileShape::kTrialSummary) {
    ImportTrialSummary(reader, header, report);
  } else {
    ImportRecords(reader, header, report);
  }
  if (report.rows_read == 0 && error_count_ == errors_before) {
    AddError(header_line, 0, "expected at least one data row after the header, found none");
  }
  Progress(reader, report.rows_read, true);
}

FileImportReport ImportSession::ImportFile(const std::string& path) {
  file_ = path;
  FileImportReport report;
  report.file = path;
  std::string file_sha;
  try {
    // Read twice (hashed, then loaded): a pipe would be empty the second time.
    RequireRegularFile(path, "import reads a file twice (to hash it, then to load it)");
    file_sha = Sha256OfFile(path);
  } catch (const InputError& e) {
    AddFileError(e.what());  // reported with the other files' errors; the command then fails
    return report;
  }
  if (auto earlier = writer_.FindBatch(file_sha, spec_.sha256)) {
    report.skipped = true;
    report.batch_id = earlier->id;
    report.rows_loaded = earlier->rows_loaded;
    return report;
  }
  std::int64_t errors_before = error_count_;
  batch_id_ = 0;
  folded_.clear();
  try {
    ReadFile(path, file_sha, report);
  } catch (const InputError& e) {
    AddFileError(e.what());  // a structural CSV error ends this file
  }
  writer_.FlushRecords();
  FinishFoldedErrors();
  RecordConversions();
  for (const auto& variable : variables_) {
    for (std::int64_t visit_key : variable->loaded_visits) {
      writer_.AddCoverage(variable->catalog.id, visit_key == 0 ? std::nullopt : std::optional<std::int64_t>(visit_key));
    }
    variable->loaded_visits.clear();
  }
  if (batch_id_ != 0) {
    bool quarantined = options_.quarantine && error_count_ > errors_before;
    writer_.FinishBatch(batch_id_, report.rows_read, report.rows_loaded, report.rows_rejected, quarantined, NowIso(),
                        batch_kind_);
  }
  return report;
}

ImportSession::ColumnPlan ImportSession::PlanColumns(const std::vector<std::string>& header) {
  ColumnPlan plan;
  std::vector<bool> used(header.size(), false);
  auto find = [&](const std::string& name) -> std::size_t {
    for (std::size_t i = 0; i < header.size(); ++i) {
      if (header[i] == name) return i;
    }
    return ColumnPlan::kNone;
  };
  std::vector<std::string> missing_columns;
  auto require = [&](const std::string& name, const std::string& role) -> std::size_t {
    if (name.empty()) return ColumnPlan::kNone;
    std::size_t i = find(name);
    if (i == ColumnPlan::kNone) {
      missing_columns.push_back(fmt::format("expected the column {} ({}) named in the spec, found no such column in the header",
                                            Quoted(name), role));
    } else {
      used[i] = true;
    }
    return i;
  };
  const bool redcap = spec_.shape == FileShape::kRedcap;
  // A REDCap "CSV (labels)" export has a header of field labels and cells of
  // choice labels: one clear error instead of one per column and cell.
  if (redcap && find(spec_.participant_column) == ColumnPlan::kNone &&
      (find("Record ID") != ColumnPlan::kNone || find("Event Name") != ColumnPlan::kNone)) {
    AddError(1, 0,
             "expected a REDCap raw-data export, found a labels export (its header has 'Record ID' / 'Event Name'): "
             "export the data again as 'CSV / Microsoft Excel (raw data)'");
    return plan;
  }
  plan.participant = require(spec_.participant_column,
                             redcap && spec_.participant_column == "record_id"
                                 ? "participant id; REDCap names it record_id unless the project's first field is "
                                   "called otherwise: then set [participant] id"
                                 : "participant id");
  std::string site_column = spec_.site_column;
  if (redcap && site_column.empty() && find("redcap_data_access_group") != ColumnPlan::kNone) {
    site_column = "redcap_data_access_group";
  }
  plan.site = require(site_column, "site");
  std::string visit_column = spec_.visit_column;
  if (redcap && visit_column.empty() && spec_.fixed_visit.empty() && find("redcap_event_name") != ColumnPlan::kNone) {
    visit_column = "redcap_event_name";
  }
  plan.visit = require(visit_column, "visit");
  plan.sex = require(spec_.sex_column, "sex");
  plan.age = require(spec_.age_column, "age");
  plan.birth_year = require(spec_.birth_year_column, "birth year");
  plan.arm = require(spec_.arm_column, "arm");
  if (redcap) {
    plan.repeat_instrument = find("redcap_repeat_instrument");
    plan.repeat_instance = find("redcap_repeat_instance");
    if (plan.repeat_instrument != ColumnPlan::kNone) used[plan.repeat_instrument] = true;
    if (plan.repeat_instance != ColumnPlan::kNone) used[plan.repeat_instance] = true;
  }
  for (const auto& [column, field] : spec_.extra) plan.extras.emplace_back(require(column, "extra"), field);
  for (const auto& name : spec_.ignore) {
    std::size_t i = find(name);
    if (i != ColumnPlan::kNone) used[i] = true;
  }
  std::set<RecordKind> kinds;
  if (spec_.shape == FileShape::kLong) {
    plan.variable = require(spec_.variable_column, "variable");
    plan.value = require(spec_.value_column, "value");
    plan.unit = require(spec_.unit_column, "unit");
    for (const auto& v : variables_) kinds.insert(v->kind);
  } else {
    std::set<std::string> checkbox_targets;
    for (const auto& [field, codes] : spec_.checkboxes) {
      for (const auto& [code, variable] : codes) checkbox_targets.insert(variable);
    }
    for (const VariableSpec& v : spec_.variables) {
      // A checkbox choice declared for its label and type reads its values
      // from the field___code column, not from a column of its own.
      if (checkbox_targets.count(v.code) && find(v.column) == ColumnPlan::kNone) continue;
      std::size_t i = require(v.column, fmt::format("variable {}", v.code));
      if (i != ColumnPlan::kNone) {
        plan.values.emplace_back(i, by_code_.at(v.code));
        kinds.insert(by_code_.at(v.code)->kind);
      }
    }
  }
  for (const std::string& m : missing_columns) AddError(1, 0, m);
  // Remaining columns: REDCap conventions, checkboxes, catalog variables, or unknown.
  std::vector<CatalogVariable> catalog;
  bool catalog_loaded = false;
  // Columns that only feed a participant attribute may also be catalog
  // variables of the same name (sex, age, arm from import-dictionary).
  std::vector<bool> attribute_only(header.size(), false);
  for (std::size_t col : {plan.sex, plan.age, plan.birth_year, plan.arm}) {
    if (col != ColumnPlan::kNone) attribute_only[col] = true;
  }
  for (const auto& [col, rv] : plan.values) attribute_only[col] = false;
  for (std::size_t i = 0; i < header.size(); ++i) {
    if (attribute_only[i] && spec_.shape != FileShape::kLong) {
      if (!catalog_loaded) {
        catalog = LoadVariables(store_, study_id_);
        catalog_loaded = true;
      }
      const std::string& name = header[i];
      if (std::any_of(catalog.begin(), catalog.end(), [&](const CatalogVariable& cv) { return cv.code == name; })) {
        ResolvedVariable& rv = ResolveVariable(nullptr, name, "");
        plan.values.emplace_back(i, &rv);
        kinds.insert(rv.kind);
      }
      continue;
    }
    if (used[i]) continue;
    const std::string& name = header[i];
    if (redcap) {
      // REDCap's own columns, unless the catalog has a field of that name
      // (a radio field may well be called moca_complete).
      if (EndsWith(name, "_complete") || name == "redcap_survey_identifier" || EndsWith(name, "_timestamp")) {
        if (!catalog_loaded) {
          catalog = LoadVariables(store_, study_id_);
          catalog_loaded = true;
        }
        if (std::none_of(catalog.begin(), catalog.end(), [&](const CatalogVariable& cv) { return cv.code == name; })) {
          continue;
        }
      }
      std::size_t sep = name.find("___");
      if (sep != std::string::npos) {
        auto field = spec_.checkboxes.find(name.substr(0, sep));
        if (field != spec_.checkboxes.end()) {
          // The spec may give the choice's code as the dictionary has it
          // ("-99", "NA") or as the column name has it ("_99", "na").
          const std::string suffix = name.substr(sep + 3);
          auto code = field->second.find(suffix);
          if (code == field->second.end()) {
            code = std::find_if(field->second.begin(), field->second.end(),
                                [&](const auto& entry) { return RedcapCheckboxSuffix(entry.first) == suffix; });
          }
          if (code != field->second.end()) {
            ResolvedVariable* rv = by_code_.at(code->second);
            plan.values.emplace_back(i, rv);
            kinds.insert(rv->kind);
            continue;
          }
          AddError(1, i + 1, fmt::format("unknown checkbox column {}: expected a code listed in [checkboxes.{}]",
                                         Quoted(name), field->first));
          continue;
        }
      }
    }
    if (spec_.shape != FileShape::kLong) {
      if (!catalog_loaded) {
        catalog = LoadVariables(store_, study_id_);
        catalog_loaded = true;
      }
      auto c = std::find_if(catalog.begin(), catalog.end(), [&](const CatalogVariable& cv) { return cv.code == name; });
      if (c != catalog.end()) {
        ResolvedVariable& rv = ResolveVariable(nullptr, name, "");
        plan.values.emplace_back(i, &rv);
        kinds.insert(rv.kind);
        continue;
      }
    }
    AddError(1, i + 1,
             fmt::format("unknown column {}: expected a column named in the spec (a variable, [participant], [visit], "
                         "[extra] or ignore) or a catalog variable of study '{}'",
                         Quoted(name), spec_.study));
  }
  plan.record_kind = kinds.size() == 1 ? RecordKindName(*kinds.begin()) : "mixed";
  if (redcap) PlanForms(header, plan);
  return plan;
}

}  // namespace cohortdb
