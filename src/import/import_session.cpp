#include "import/import_session.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <set>

#include <fmt/format.h>

#include "common/error.h"
#include "common/sha256.h"
#include "common/version.h"
#include "import/csv_reader.h"
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

// 'text' for messages, with line breaks and tabs written as \n, \r, \t so
// every message stays on one line.
std::string Quoted(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\t') out += "\\t";
    else out.push_back(c);
  }
  return out + "'";
}

// Which record-table column an [extra] field feeds for a record kind: 1 or 2
// (RecordRow::field1/field2), 0 for the metadata JSON.
int ExtraSlot(RecordKind kind, const std::string& field) {
  switch (kind) {
    case RecordKind::kBiomarker: return field == "assay" ? 1 : field == "lab" ? 2 : 0;
    case RecordKind::kMriMetric: return field == "model_name" ? 1 : field == "model_version" ? 2 : 0;
    case RecordKind::kOutcome: return field == "instrument" ? 1 : 0;
    case RecordKind::kCovariate: return 0;
  }
  return 0;
}

}  // namespace

// Where each role lives in the header (0-based indexes; npos when absent).
struct ImportSession::ColumnPlan {
  static constexpr std::size_t kNone = static_cast<std::size_t>(-1);
  std::size_t participant = kNone, site = kNone, visit = kNone, sex = kNone, age = kNone, birth_year = kNone,
              arm = kNone, repeat_instrument = kNone, repeat_instance = kNone;
  std::size_t variable = kNone, value = kNone, unit = kNone;  // long files
  std::vector<std::pair<std::size_t, ResolvedVariable*>> values;  // wide files
  std::vector<std::pair<std::size_t, std::string>> extras;
  std::string record_kind;
};

ImportSession::ImportSession(Store& store, ImportWriter& writer, const ImportSpec& spec, const ImportOptions& options)
    : store_(store), writer_(writer), spec_(spec), options_(options) {
  auto study = FindStudy(store_, spec_.study);
  study_id_ = study ? *study : CreateStudy(store_, spec_.study, spec_.design, spec_.title);
  conversions_ = LoadUnitConversions(store_);
  for (const auto& v : LoadVisits(store_, study_id_)) {
    visits_[v.code] = v.id;
    max_visit_order_ = std::max(max_visit_order_, v.order);
  }
  for (const auto& s : LoadSites(store_, study_id_)) sites_[s.code] = s.id;
  CreateSpecVisits();
  if (spec_.shape != FileShape::kTrialSummary) {
    ResolveCatalog();
    writer_.ForEachParticipant(study_id_, [&](std::string_view ext, std::int64_t id, const ParticipantAttributes& a) {
      participants_.Insert(ext, ParticipantState{id, a});
    });
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
  if (vspec != nullptr) {
    if (vspec->record_kind && *vspec->record_kind != cat.record_kind) {
      fail(fmt::format("the spec says kind {}, the catalog says {}", *vspec->record_kind, cat.record_kind));
    }
    if (vspec->value_type && *vspec->value_type != cat.value_type) {
      fail(fmt::format("the spec says type {}, the catalog says {}", *vspec->value_type, cat.value_type));
    }
    rv->source_unit = vspec->source_unit;
    rv->missing = vspec->missing;
  }
  if (cat.value_type == "categorical") {
    if (vspec != nullptr && !vspec->codes.empty()) {
      for (const CodeMapping& m : vspec->codes) {
        auto lv = std::find_if(cat.levels.begin(), cat.levels.end(), [&](const CatalogLevel& l) {
          return AsciiLower(l.label) == AsciiLower(m.label) || (m.level && l.level == *m.level);
        });
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
  const std::string& type = cat.value_type;
  if (type == "text") {
    out.text = raw;
    return std::nullopt;
  }
  if (type == "categorical" || (type == "boolean" && !v.codes.empty())) {
    auto it = v.codes.find(t);
    if (it == v.codes.end()) {
      if (type == "boolean") {
        std::string lower = AsciiLower(t);
        if (lower == "0" || lower == "1") {
          out.value = lower == "1" ? 1.0 : 0.0;
          return std::nullopt;
        }
      }
      return fmt::format("expected one of the codes {} of variable '{}', found {}", JoinKeys(v.codes), cat.code,
                         Quoted(t));
    }
    out.value = static_cast<double>(it->second.first);
    if (type == "categorical") out.text = it->second.second;
    return std::nullopt;
  }
  if (type == "boolean") {
    std::string lower = AsciiLower(t);
    if (lower == "1" || lower == "yes" || lower == "true" || lower == "y") out.value = 1;
    else if (lower == "0" || lower == "no" || lower == "false" || lower == "n") out.value = 0;
    else return fmt::format("expected 0 or 1 (or yes/no) for boolean variable '{}', found {}", cat.code, Quoted(t));
    return std::nullopt;
  }
  auto cell = ParseNumericCell(t);
  if (!cell) {
    return fmt::format("expected a number (or <limit, >limit) for variable '{}', found {}", cat.code, Quoted(t));
  }
  if (type == "integer" && cell->censoring == 0 && cell->number != std::floor(cell->number)) {
    return fmt::format("expected a whole number for integer variable '{}', found {}", cat.code, Quoted(t));
  }
  std::string_view u = Trim(unit);
  if (u.empty()) u = v.source_unit;
  double x = cell->number;
  if (!u.empty() && u != cat.unit) {
    if (cat.unit.empty()) {
      return fmt::format("expected no unit for variable '{}' (the catalog gives it none), found unit {}", cat.code,
                         Quoted(u));
    }
    auto cached = v.unit_cache.find(u);
    if (cached == v.unit_cache.end()) {
      std::optional<std::pair<double, double>> conv;
      for (int pass = 0; pass < 2 && !conv; ++pass) {
        for (const UnitConversion& c : conversions_) {
          if (c.from_unit == u && c.to_unit == cat.unit && c.analyte == (pass == 0 ? cat.code : "")) {
            conv = std::make_pair(c.factor, c.offset);
            break;
          }
        }
      }
      cached = v.unit_cache.emplace(std::string(u), conv).first;
    }
    if (!cached->second) {
      return fmt::format("expected a unit convertible to '{}' for variable '{}', found unit {} (no row in unit_conversion)",
                         cat.unit, cat.code, Quoted(u));
    }
    x = x * cached->second->first + cached->second->second;
  }
  if (cell->censoring != 0) {
    out.censoring = cell->censoring == '<' ? "left" : "right";
    out.detection_limit = x;
    return std::nullopt;
  }
  if ((cat.min_value && x < *cat.min_value) || (cat.max_value && x > *cat.max_value)) {
    std::string range = cat.min_value && cat.max_value
                            ? fmt::format("between {} and {}", FormatNumber(*cat.min_value), FormatNumber(*cat.max_value))
                            : cat.min_value ? fmt::format("at least {}", FormatNumber(*cat.min_value))
                                            : fmt::format("at most {}", FormatNumber(*cat.max_value));
    std::string found = u.empty() || u == cat.unit ? Quoted(t) : fmt::format("{} {} = {} {}", t, u, FormatNumber(x), cat.unit);
    return fmt::format("expected a value {}{} for variable '{}', found {}", range,
                       cat.unit.empty() ? "" : " " + cat.unit, cat.code, found);
  }
  out.value = x;
  return std::nullopt;
}

bool ImportSession::Seen(const ParticipantState& participant, std::int64_t visit_key,
                         const ResolvedVariable& variable) const {
  const std::size_t word = variable.index / 64;
  const std::uint64_t bit = std::uint64_t{1} << (variable.index % 64);
  if (word == 0 && participant.seen_visit == visit_key) return (participant.seen_mask & bit) != 0;
  auto it = seen_overflow_.find(SeenKey{participant.id, visit_key, word});
  return it != seen_overflow_.end() && (it->second & bit) != 0;
}

void ImportSession::MarkSeen(ParticipantState& participant, std::int64_t visit_key, const ResolvedVariable& variable) {
  const std::size_t word = variable.index / 64;
  const std::uint64_t bit = std::uint64_t{1} << (variable.index % 64);
  if (word == 0 && (participant.seen_visit == visit_key || participant.seen_visit == -1)) {
    participant.seen_visit = visit_key;
    participant.seen_mask |= bit;
    return;
  }
  seen_overflow_[SeenKey{participant.id, visit_key, word}] |= bit;
}

void ImportSession::AddError(std::int64_t line, std::size_t column, const std::string& message) {
  ++error_count_;
  if (options_.quarantine || static_cast<int>(errors_.size()) < options_.max_errors) {
    errors_.push_back(column > 0 ? fmt::format("{}:{}:{}: {}", file_, line, column, message)
                                 : fmt::format("{}:{}: {}", file_, line, message));
  }
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

void ImportSession::RejectRow(const CsvRecord& record, const std::vector<RowError>& row_errors) {
  if (options_.quarantine) {
    std::string raw = RawRow(record);
    for (const RowError& e : row_errors) {
      std::int64_t col = static_cast<std::int64_t>(e.column);
      writer_.InsertImportError(batch_id_, record.line(), e.column > 0 ? std::optional<std::int64_t>(col) : std::nullopt,
                                "", e.message, raw);
    }
    error_count_ += static_cast<std::int64_t>(row_errors.size());
    return;
  }
  for (const RowError& e : row_errors) AddError(record.line(), e.column, e.message);
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
  for (std::size_t i = 0; i < first->size(); ++i) header.emplace_back(Trim((*first)[i]));
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
  std::string file_sha = Sha256OfFile(path);
  if (auto earlier = writer_.FindBatch(file_sha, spec_.sha256)) {
    report.skipped = true;
    report.batch_id = earlier->id;
    report.rows_loaded = earlier->rows_loaded;
    return report;
  }
  std::int64_t errors_before = error_count_;
  batch_id_ = 0;
  try {
    ReadFile(path, file_sha, report);
  } catch (const InputError& e) {
    // A structural CSV error ends this file; report it with the others.
    ++error_count_;
    if (options_.quarantine || static_cast<int>(errors_.size()) < options_.max_errors) errors_.push_back(e.what());
  }
  writer_.FlushRecords();
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
  plan.participant = require(spec_.participant_column, "participant id");
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
    for (const VariableSpec& v : spec_.variables) {
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
      if (EndsWith(name, "_complete") || name == "redcap_survey_identifier" || EndsWith(name, "_timestamp")) continue;
      std::size_t sep = name.find("___");
      if (sep != std::string::npos) {
        auto field = spec_.checkboxes.find(name.substr(0, sep));
        if (field != spec_.checkboxes.end()) {
          auto code = field->second.find(name.substr(sep + 3));
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
  return plan;
}

void ImportSession::ImportRecords(CsvReader& reader, const std::vector<std::string>& header,
                                  FileImportReport& report) {
  std::int64_t errors_before = error_count_;
  ColumnPlan plan = PlanColumns(header);
  batch_kind_ = spec_.defines_participants && plan.record_kind != "mixed" ? "mixed" : plan.record_kind;
  if (error_count_ > errors_before) return;  // header problems: the rows cannot be read
  const bool is_long = spec_.shape == FileShape::kLong;
  std::vector<RowError> row_errors;
  std::vector<PendingRecord> pending;
  std::vector<std::int64_t> inserted;
  std::vector<RecordKind> inserted_kinds;
  std::string metadata;
  std::string visit_key;
  std::optional<std::string_view> fields[2];
  for (const CsvRecord* rec = reader.Next(); rec != nullptr; rec = reader.Next()) {
    ++report.rows_read;
    if ((report.rows_read & 0x3FFF) == 0) Progress(reader, report.rows_read, false);
    row_errors.clear();
    pending.clear();
    const CsvRecord& r = *rec;
    if (r.size() != header.size()) {
      row_errors.push_back({std::min(r.size(), header.size()) + 1,
                            fmt::format("expected {} fields as in the header, found {}", header.size(), r.size())});
      RejectRow(r, row_errors);
      ++report.rows_rejected;
      if (ErrorLimitReached()) return;
      continue;
    }
    if (!r.problem().empty()) {
      row_errors.push_back({r.problem_column(), r.problem()});
      RejectRow(r, row_errors);
      ++report.rows_rejected;
      if (ErrorLimitReached()) return;
      continue;
    }
    // Participant.
    std::string_view external_id = Trim(r[plan.participant]);
    if (external_id.empty()) {
      row_errors.push_back({plan.participant + 1, fmt::format("expected a participant id in column {}, found an empty field",
                                                               Quoted(header[plan.participant]))});
    }
    // Visit.
    std::optional<std::int64_t> visit_id;
    if (!spec_.fixed_visit.empty()) {
      visit_id = VisitId(spec_.fixed_visit);
      if (!visit_id) {
        visit_id = CreateVisit(store_, study_id_, spec_.fixed_visit, "", ++max_visit_order_, std::nullopt);
        visits_[spec_.fixed_visit] = *visit_id;
      }
    } else if (plan.visit != ColumnPlan::kNone) {
      std::string_view source = Trim(r[plan.visit]);
      visit_key.assign(source);
      if (plan.repeat_instance != ColumnPlan::kNone && !Trim(r[plan.repeat_instance]).empty()) {
        visit_key += "#";
        visit_key += Trim(r[plan.repeat_instance]);
      }
      std::string code = visit_key;
      bool known = true;
      if (!spec_.visit_map.empty()) {
        auto m = spec_.visit_map.find(visit_key);
        if (m == spec_.visit_map.end()) {
          known = false;
          std::string keys;
          for (const auto& [k, val] : spec_.visit_map) keys += (keys.empty() ? "" : ", ") + k;
          row_errors.push_back({plan.visit + 1, fmt::format("expected a visit of the visit map ({}), found {}", keys,
                                                            Quoted(visit_key))});
        } else {
          code = m->second;
        }
      }
      if (known) {
        visit_id = VisitId(code);
        if (!visit_id) {
          bool valid = !code.empty() && code[0] >= 'a' && code[0] <= 'z' &&
                       code.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") == std::string::npos &&
                       code.size() <= 32;
          if (!valid) {
            row_errors.push_back({plan.visit + 1, fmt::format("expected a visit code of a-z, 0-9 and _ (or a [visit] map "
                                                              "entry), found {}", Quoted(code))});
          } else {
            visit_id = CreateVisit(store_, study_id_, code, "", ++max_visit_order_, std::nullopt);
            visits_[code] = *visit_id;
          }
        }
      }
    }
    // Participant attributes.
    ParticipantAttributes attrs;
    if (plan.site != ColumnPlan::kNone) {
      std::string_view s = Trim(r[plan.site]);
      if (!s.empty()) attrs.site_id = SiteId(s);
    }
    if (plan.sex != ColumnPlan::kNone) {
      std::string_view s = Trim(r[plan.sex]);
      if (!s.empty()) {
        auto m = spec_.sex_codes.find(std::string(s));
        std::string sex = m != spec_.sex_codes.end() ? m->second : AsciiLower(s);
        if (sex != "female" && sex != "male" && sex != "other" && sex != "unknown") {
          row_errors.push_back({plan.sex + 1, fmt::format("expected a sex code of [participant] sex_codes or "
                                                          "female/male/other/unknown, found {}", Quoted(s))});
        } else {
          attrs.sex = sex;
        }
      }
    }
    if (plan.age != ColumnPlan::kNone) {
      std::string_view s = Trim(r[plan.age]);
      if (!s.empty() && std::find(spec_.missing.begin(), spec_.missing.end(), s) == spec_.missing.end()) {
        auto age = ParseNumber(s);
        if (!age || *age < 0 || *age >= 130) {
          row_errors.push_back({plan.age + 1, fmt::format("expected an age in years from 0 to 129, found {}", Quoted(s))});
        } else {
          attrs.age_years = *age;
        }
      }
    }
    if (plan.birth_year != ColumnPlan::kNone) {
      std::string_view s = Trim(r[plan.birth_year]);
      if (!s.empty()) {
        auto y = ParseInteger(s);
        if (!y || *y < 1880 || *y > 2100) {
          row_errors.push_back({plan.birth_year + 1, fmt::format("expected a birth year from 1880 to 2100, found {}", Quoted(s))});
        } else {
          attrs.birth_year = *y;
        }
      }
    }
    if (plan.arm != ColumnPlan::kNone) {
      std::string_view s = Trim(r[plan.arm]);
      if (!s.empty()) {
        if (!spec_.arm_codes.empty()) {
          auto m = spec_.arm_codes.find(std::string(s));
          if (m == spec_.arm_codes.end()) {
            std::string keys;
            for (const auto& [k, val] : spec_.arm_codes) keys += (keys.empty() ? "" : ", ") + k;
            row_errors.push_back({plan.arm + 1, fmt::format("expected an arm code of [participant] arm_codes ({}), found {}",
                                                            keys, Quoted(s))});
          } else {
            attrs.arm = m->second;
          }
        } else {
          attrs.arm = std::string(s);
        }
      }
    }
    // Values.
    if (is_long) {
      std::string_view name = Trim(r[plan.variable]);
      auto v = by_name_.find(name);
      ResolvedVariable* rv = v != by_name_.end() ? v->second : nullptr;
      if (rv == nullptr) {
        auto c = by_code_.find(name);
        if (c != by_code_.end()) rv = c->second;
      }
      if (rv == nullptr) {
        std::string names;
        std::vector<std::string> sorted;
        for (const auto& [k, val] : by_name_) sorted.push_back(k);
        std::sort(sorted.begin(), sorted.end());
        for (const auto& k : sorted) names += (names.empty() ? "" : ", ") + k;
        row_errors.push_back({plan.variable + 1, fmt::format("expected a variable named in the spec ({}), found {}",
                                                             names, Quoted(name))});
      } else if (!IsMissing(*rv, r[plan.value])) {
        PendingRecord p;
        p.variable = rv;
        p.source_value = r[plan.value];
        std::string_view unit = plan.unit != ColumnPlan::kNone ? r[plan.unit] : std::string_view();
        if (!Trim(unit).empty()) p.source_unit = unit;
        else if (!rv->source_unit.empty()) p.source_unit = rv->source_unit;
        if (auto err = Convert(*rv, p.source_value, unit, p.converted)) {
          row_errors.push_back({plan.value + 1, *err});
        } else {
          pending.push_back(p);
        }
      }
    } else {
      for (const auto& [col, rv] : plan.values) {
        std::string_view cell = r[col];
        if (IsMissing(*rv, cell)) continue;
        PendingRecord p;
        p.variable = rv;
        p.source_value = cell;
        if (!rv->source_unit.empty()) p.source_unit = rv->source_unit;
        if (auto err = Convert(*rv, cell, {}, p.converted)) {
          row_errors.push_back({col + 1, fmt::format("column {}: {}", Quoted(header[col]), *err)});
        } else {
          pending.push_back(p);
        }
      }
    }
    // Participant lookup / creation (after validation so a rejected row creates nothing).
    ParticipantState* participant = nullptr;
    bool created = false;
    if (!external_id.empty()) {
      participant = participants_.Find(external_id);
      if (participant == nullptr && !spec_.defines_participants) {
        row_errors.push_back({plan.participant + 1,
                              fmt::format("expected a participant of study '{}', found unknown participant {} (import the "
                                          "file that defines participants first, or set defines_participants = true)",
                                          spec_.study, Quoted(external_id))});
      }
      if (participant != nullptr) {
        ParticipantAttributes& have = participant->attributes;
        auto conflict = [&](std::size_t col, const char* what, const std::string& old_value, const std::string& new_value) {
          row_errors.push_back({col + 1, fmt::format("expected {} {} for participant {} as loaded before, found {} "
                                                     "(use --replace to overwrite)",
                                                     what, Quoted(old_value), Quoted(external_id), Quoted(new_value))});
        };
        if (!options_.replace) {
          if (!attrs.sex.empty() && !have.sex.empty() && attrs.sex != have.sex) conflict(plan.sex, "sex", have.sex, attrs.sex);
          if (!attrs.arm.empty() && !have.arm.empty() && attrs.arm != have.arm) conflict(plan.arm, "arm", have.arm, attrs.arm);
          if (attrs.age_years && have.age_years && *attrs.age_years != *have.age_years) {
            conflict(plan.age, "age", FormatNumber(*have.age_years), FormatNumber(*attrs.age_years));
          }
          if (attrs.site_id && have.site_id && *attrs.site_id != *have.site_id) {
            std::string old_site;
            for (const auto& [code, id] : sites_) {
              if (id == *have.site_id) old_site = code;
            }
            conflict(plan.site, "site", old_site, std::string(Trim(r[plan.site])));
          }
        }
      }
    }
    if (!row_errors.empty()) {
      RejectRow(r, row_errors);
      ++report.rows_rejected;
      if (ErrorLimitReached()) return;
      continue;
    }
    if (participant == nullptr) {
      std::int64_t id = writer_.InsertParticipant(study_id_, external_id, attrs, batch_id_);
      participant = &participants_.Insert(external_id, ParticipantState{id, attrs});
      created = true;
      ++report.participants_created;
    } else {
      ParticipantAttributes& have = participant->attributes;
      ParticipantAttributes update;
      bool changed = false;
      if (!attrs.sex.empty() && attrs.sex != have.sex) { update.sex = attrs.sex; have.sex = attrs.sex; changed = true; }
      if (!attrs.arm.empty() && attrs.arm != have.arm) { update.arm = attrs.arm; have.arm = attrs.arm; changed = true; }
      if (attrs.age_years && attrs.age_years != have.age_years) { update.age_years = attrs.age_years; have.age_years = attrs.age_years; changed = true; }
      if (attrs.birth_year && attrs.birth_year != have.birth_year) { update.birth_year = attrs.birth_year; have.birth_year = attrs.birth_year; changed = true; }
      if (attrs.site_id && attrs.site_id != have.site_id) { update.site_id = attrs.site_id; have.site_id = attrs.site_id; changed = true; }
      if (changed) writer_.UpdateParticipant(participant->id, update);
    }
    // Metadata and kind-specific fields shared by the row's records.
    metadata.clear();
    auto add_meta = [&](std::string_view key, std::string_view value) {
      metadata += metadata.empty() ? "{" : ",";
      metadata += JsonQuote(key);
      metadata += ':';
      metadata += JsonQuote(value);
    };
    if (plan.repeat_instrument != ColumnPlan::kNone && !Trim(r[plan.repeat_instrument]).empty()) {
      add_meta("redcap_repeat_instrument", Trim(r[plan.repeat_instrument]));
      if (plan.repeat_instance != ColumnPlan::kNone) add_meta("redcap_repeat_instance", Trim(r[plan.repeat_instance]));
    }
    // Records. A key this session has not loaded is free unless the store
    // held values of the variable before (then, without --replace, the
    // insert itself must find out); free keys go to the writer's queue.
    inserted.clear();
    inserted_kinds.clear();
    ImportWriter::QueueMark queue_mark = writer_.MarkQueue();
    const std::int64_t visit_slot = visit_id.value_or(0);
    std::size_t failed_column = 0;
    std::string failure;
    for (const PendingRecord& p : pending) {
      RecordRow row;
      row.kind = p.variable->kind;
      row.participant_id = participant->id;
      row.visit_id = visit_id;
      row.variable_id = p.variable->catalog.id;
      row.value = p.converted.value;
      row.value_text = p.converted.text;
      row.source_value = p.source_value;
      row.source_unit = p.source_unit;
      row.censoring = p.converted.censoring;
      row.detection_limit = p.converted.detection_limit;
      row.batch_id = batch_id_;
      std::string record_meta = metadata;
      fields[0].reset();
      fields[1].reset();
      for (const auto& [col, field] : plan.extras) {
        std::string_view value = Trim(r[col]);
        if (value.empty()) continue;
        int slot = ExtraSlot(row.kind, field);
        if (slot > 0) {
          fields[slot - 1] = value;
        } else {
          record_meta += record_meta.empty() ? "{" : ",";
          record_meta += JsonQuote(field) + ":" + JsonQuote(value);
        }
      }
      if (!record_meta.empty()) record_meta += "}";
      row.field1 = fields[0];
      row.field2 = fields[1];
      if (!record_meta.empty()) row.metadata_json = record_meta;
      std::int64_t holder_batch = 0;
      if (Seen(*participant, visit_slot, *p.variable)) {
        // Ask the store who holds the key; this row's queued records stay
        // queued so a rejection can still drop them.
        queue_mark = writer_.WriteQueuedBefore(queue_mark);
        holder_batch = writer_.CurrentRecordBatch(row.kind, row.participant_id, row.visit_id, row.variable_id);
        if (options_.replace && holder_batch != batch_id_) {
          // An earlier file of this command loaded it: --replace supersedes.
          report.superseded += writer_.SupersedeRecord(row.kind, row.participant_id, row.visit_id, row.variable_id, batch_id_);
          writer_.QueueRecord(row);
          continue;
        }
      } else if (p.variable->has_current_records && !options_.replace) {
        InsertOutcome outcome = writer_.InsertRecord(row);
        if (outcome.inserted) {
          inserted.push_back(outcome.record_id);
          inserted_kinds.push_back(row.kind);
          continue;
        }
        holder_batch = outcome.existing_batch_id;
      } else {
        if (options_.replace && p.variable->has_current_records) {
          report.superseded += writer_.SupersedeRecord(row.kind, row.participant_id, row.visit_id, row.variable_id, batch_id_);
        }
        writer_.QueueRecord(row);
        continue;
      }
      std::size_t col = 0;
      if (is_long) {
        col = plan.variable + 1;
      } else {
        for (const auto& [c, rv] : plan.values) {
          if (rv == p.variable) col = c + 1;
        }
      }
      failed_column = col;
      std::string visit_text = visit_id ? fmt::format("visit {}", Quoted(visit_key.empty() ? spec_.fixed_visit : visit_key))
                                        : std::string("no visit");
      failure = holder_batch == batch_id_
                    ? fmt::format("expected one value per participant, visit and variable, found a second value for "
                                  "participant {}, {}, variable '{}' in this file",
                                  Quoted(external_id), visit_text, p.variable->catalog.code)
                    : fmt::format("expected a new value, found participant {}, {}, variable '{}' already loaded by "
                                  "batch {} (use --replace to supersede it)",
                                  Quoted(external_id), visit_text, p.variable->catalog.code, holder_batch);
      break;
    }
    if (!failure.empty()) {
      // Undo this row so a quarantined import keeps only whole rows.
      writer_.DropQueuedAfter(queue_mark);
      for (std::size_t k = 0; k < inserted.size(); ++k) writer_.DeleteRecord(inserted_kinds[k], inserted[k]);
      if (created) {
        writer_.DeleteParticipant(participant->id);
        participants_.Forget(external_id);
        --report.participants_created;
      }
      row_errors.push_back({failed_column, failure});
      RejectRow(r, row_errors);
      ++report.rows_rejected;
      if (ErrorLimitReached()) return;
      continue;
    }
    for (const PendingRecord& p : pending) {
      MarkSeen(*participant, visit_slot, *p.variable);
      std::vector<std::int64_t>& loaded = p.variable->loaded_visits;
      if (std::find(loaded.begin(), loaded.end(), visit_slot) == loaded.end()) loaded.push_back(visit_slot);
    }
    writer_.WriteFullChunks();
    report.values += static_cast<std::int64_t>(pending.size());
    ++report.rows_loaded;
  }
}

}  // namespace cohortdb
