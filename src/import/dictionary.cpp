#include "import/dictionary.h"

#include <algorithm>
#include <chrono>
#include <optional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "common/calendar_date.h"
#include "common/error.h"
#include "common/input_file.h"
#include "common/sha256.h"
#include "common/version.h"
#include "import/csv_reader.h"
#include "import/value_parser.h"
#include "store/catalog.h"
#include "store/import_writer.h"

namespace cohortdb {
namespace {

bool IsCode(std::string_view s) {
  if (s.empty() || s.size() > 48 || s[0] < 'a' || s[0] > 'z') return false;
  return s.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") == std::string_view::npos;
}

std::string NowIso() {
  auto now = std::chrono::system_clock::now();
  std::time_t secs = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec);
}

// Splits REDCap choices: "1, Female | 2, Male"; legacy exports separate with
// line breaks ("1, Female\n2, Male") or "\n" escapes, and may omit spaces.
std::vector<std::pair<std::string, std::string>> ParseChoices(std::string_view text, std::string* error) {
  // One pass (replacing each "\\n" in place moved the rest of the text each
  // time: quadratic in a long cell).
  std::string normalized;
  normalized.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size() && text[i + 1] == 'n') {
      normalized.push_back('|');
      ++i;
    } else {
      normalized.push_back(text[i] == '\n' || text[i] == '\r' ? '|' : text[i]);
    }
  }
  std::vector<std::pair<std::string, std::string>> out;
  std::set<std::string> codes;
  std::size_t start = 0;
  while (start <= normalized.size()) {
    std::size_t end = normalized.find('|', start);
    if (end == std::string::npos) end = normalized.size();
    std::string_view item = Trim(std::string_view(normalized).substr(start, end - start));
    start = end + 1;
    if (item.empty()) continue;
    std::size_t comma = item.find(',');
    if (comma == std::string_view::npos) {
      *error = fmt::format("expected choices as \"code, label | code, label\", found '{}'", item);
      return {};
    }
    std::string code(Trim(item.substr(0, comma)));
    std::string label(Trim(item.substr(comma + 1)));
    if (code.empty() || label.empty()) {
      *error = fmt::format("expected choices as \"code, label | code, label\", found '{}'", item);
      return {};
    }
    // Two choices with one code would be two levels of one source code.
    if (!codes.insert(code).second) {
      *error = fmt::format("expected each choice code once, found code '{}' twice", code);
      return {};
    }
    out.emplace_back(code, label);
  }
  return out;
}

// Value of an annotation tag such as @KIND=outcome, or "".
std::string Tag(std::string_view annotation, std::string_view tag) {
  std::size_t pos = annotation.find(tag);
  if (pos == std::string_view::npos) return "";
  std::size_t begin = pos + tag.size();
  std::size_t end = annotation.find_first_of(" \t\r\n", begin);
  return std::string(annotation.substr(begin, end == std::string_view::npos ? std::string_view::npos : end - begin));
}

// A change the dictionary would make to a variable that matters to the
// values it already holds: which dictionary column says it, and what.
struct HeldValuesChange {
  enum class Column { kType, kUnit, kChoices, kMin, kMax } column;
  std::string what;  // "as X, the dictionary says Y"
};

// Its kind and type, its unit (no value is converted), an existing level's
// code or label (new levels are fine), a range narrower than before.
std::optional<HeldValuesChange> ChangeToHeldValues(const CatalogVariable& held, const CatalogVariable& now) {
  using Column = HeldValuesChange::Column;
  if (now.value_type != held.value_type || now.record_kind != held.record_kind) {
    return HeldValuesChange{Column::kType, fmt::format("as {} {}, the dictionary says {} {}", held.record_kind,
                                                       held.value_type, now.record_kind, now.value_type)};
  }
  if (now.unit != held.unit) {
    return HeldValuesChange{Column::kUnit, fmt::format("in '{}', the dictionary says '{}' (values are not converted)",
                                                       held.unit, now.unit)};
  }
  for (const CatalogLevel& h : held.levels) {
    auto n = std::find_if(now.levels.begin(), now.levels.end(),
                          [&](const CatalogLevel& l) { return l.source_code == h.source_code; });
    if (n == now.levels.end() || n->level != h.level || n->label != h.label) {
      return HeldValuesChange{
          Column::kChoices,
          fmt::format("with code '{}' = '{}', the dictionary says {}", h.source_code, h.label,
                      n == now.levels.end() ? std::string("no such code") : fmt::format("'{}'", n->label))};
    }
  }
  const bool higher_min = now.min_value && (!held.min_value || *now.min_value > *held.min_value);
  const bool lower_max = now.max_value && (!held.max_value || *now.max_value < *held.max_value);
  if (higher_min || lower_max) {
    const auto range = [](const CatalogVariable& v) {
      return fmt::format("{} to {}", v.min_value ? FormatNumber(*v.min_value) : "-",
                         v.max_value ? FormatNumber(*v.max_value) : "-");
    };
    return HeldValuesChange{higher_min ? Column::kMin : Column::kMax,
                            fmt::format("in the range {}, the dictionary narrows it to {}", range(held), range(now))};
  }
  return std::nullopt;
}

}  // namespace

DictionaryReport ImportDictionary(Store& store, const std::string& study, const std::string& path,
                                  const std::string& design) {
  if (!IsCode(study)) {
    throw UsageError(fmt::format("--study: expected a code of a-z, 0-9 and _ starting with a letter, found '{}'", study));
  }
  DictionaryReport report;
  RequireRegularFile(path, "import-dictionary reads a file twice (to hash it, then to load it)");
  const std::string file_sha = Sha256OfFile(path);
  const std::string spec_sha = Sha256Hex("cohortdb import-dictionary --study " + study);
  Store::Transaction transaction(store);
  ImportWriter writer(store);
  if (writer.FindBatch(file_sha, spec_sha)) {
    report.skipped = true;
    return report;
  }
  CsvReader reader(path, ',', path);
  const CsvRecord* header_record = reader.Next();
  if (header_record == nullptr) throw InputError(fmt::format("{}:1: expected a REDCap data dictionary header, found an empty file", path));
  std::vector<std::string> header;
  for (std::size_t i = 0; i < header_record->size(); ++i) header.push_back(AsciiLower(Trim((*header_record)[i])));
  auto column = [&](std::initializer_list<const char*> prefixes) -> std::size_t {
    for (const char* p : prefixes) {
      for (std::size_t i = 0; i < header.size(); ++i) {
        if (header[i].rfind(p, 0) == 0) return i;
      }
    }
    return static_cast<std::size_t>(-1);
  };
  constexpr std::size_t kNone = static_cast<std::size_t>(-1);
  const std::size_t name_col = column({"variable / field name", "variable", "field name"});
  const std::size_t type_col = column({"field type"});
  const std::size_t label_col = column({"field label"});
  const std::size_t choices_col = column({"choices, calculations", "choices or calculations", "choices"});
  const std::size_t validation_col = column({"text validation type", "validation"});
  const std::size_t min_col = column({"text validation min"});
  const std::size_t max_col = column({"text validation max"});
  const std::size_t annotation_col = column({"field annotation"});
  const std::size_t units_col = column({"field units"});  // legacy dictionaries
  if (name_col == kNone || type_col == kNone) {
    throw InputError(fmt::format("{}:1: expected a REDCap data dictionary header with 'Variable / Field Name' and "
                                 "'Field Type' columns, found '{}'",
                                 path, fmt::join(header, ",")));
  }
  auto study_id = FindStudy(store, study);
  std::int64_t sid = study_id ? *study_id : CreateStudy(store, study, design, "");
  std::vector<CatalogVariable> existing = LoadVariables(store, sid);
  NewBatch nb;
  nb.study_id = sid;
  nb.file_name = path;
  nb.file_sha256 = file_sha;
  nb.spec_name = "import-dictionary";
  nb.spec_sha256 = spec_sha;
  nb.record_kind = "dictionary";
  nb.started_at = NowIso();
  nb.tool_version = kVersion;
  std::int64_t batch = writer.BeginBatch(nb);

  std::vector<std::string> errors;
  std::set<std::string> seen;
  std::int64_t rows = 0;
  bool first_field = true;
  auto cell = [](const CsvRecord& r, std::size_t col) -> std::string_view {
    return col == static_cast<std::size_t>(-1) || col >= r.size() ? std::string_view() : Trim(r[col]);
  };
  for (const CsvRecord* rec = reader.Next(); rec != nullptr; rec = reader.Next()) {
    const CsvRecord& r = *rec;
    ++rows;
    auto fail = [&](std::size_t col, const std::string& what) {
      errors.push_back(col == kNone ? fmt::format("{}:{}: {}", path, r.line(), what)
                                    : fmt::format("{}:{}:{}: {}", path, r.line(), col + 1, what));
    };
    if (r.size() != header.size()) {
      fail(std::min(r.size(), header.size()),  // the first field missing or extra
           fmt::format("expected {} fields as in the header, found {}", header.size(), r.size()));
      continue;
    }
    if (!r.problem().empty()) {
      fail(r.problem_column() - 1, r.problem());
      continue;
    }
    std::string name(cell(r, name_col));
    std::string type = AsciiLower(cell(r, type_col));
    if (first_field) {
      first_field = false;  // the record id field
      ++report.skipped_fields;
      continue;
    }
    if (!IsCode(name)) {
      fail(name_col, fmt::format("expected a field name of a-z, 0-9 and _ starting with a letter, found '{}'", name));
      continue;
    }
    std::vector<CatalogVariable> made;
    CatalogVariable v;
    v.code = name;
    v.label = std::string(cell(r, label_col));
    std::string annotation(cell(r, annotation_col));
    v.record_kind = Tag(annotation, "@KIND=");
    if (v.record_kind.empty()) v.record_kind = "covariate";
    if (!ParseRecordKind(v.record_kind)) {
      fail(annotation_col, fmt::format("expected @KIND= biomarker, mri_metric, outcome or covariate, found '{}'", v.record_kind));
      continue;
    }
    v.unit = Tag(annotation, "@UNIT=");
    if (v.unit.empty()) v.unit = std::string(cell(r, units_col));  // a legacy dictionary's Field Units
    std::string validation = AsciiLower(cell(r, validation_col));
    std::string choice_error;
    if (type == "descriptive") {  // no data, no export column
      ++report.skipped_fields;
      continue;
    } else if (type == "file" || type == "sql") {
      // An upload's export cell names the file; a "sql" field (a dropdown
      // filled by a query) exports the chosen value. Both are kept as text,
      // so the export's columns of them need no ignore = [...].
      v.value_type = "text";
      made.push_back(v);
    } else if (type == "dropdown" || type == "radio") {
      v.value_type = "categorical";
      auto choices = ParseChoices(cell(r, choices_col), &choice_error);
      if (!choice_error.empty() || choices.empty()) {
        fail(choices_col, choice_error.empty() ? std::string("expected choices for a dropdown or radio field, found none") : choice_error);
        continue;
      }
      // Levels: a code the catalog has keeps its level (stored values refer
      // to it, so adding a choice moves none); an integer code is its own
      // level (as in a spec's code map) when that level is free; any other
      // code takes the smallest level nothing uses.
      const auto held = std::find_if(existing.begin(), existing.end(),
                                     [&](const CatalogVariable& e) { return e.code == name; });
      std::set<std::int64_t> used;
      std::vector<std::optional<std::int64_t>> level_of(choices.size());
      if (held != existing.end()) {
        for (std::size_t k = 0; k < choices.size(); ++k) {
          for (const CatalogLevel& l : held->levels) {
            if (l.source_code == choices[k].first && used.insert(l.level).second) level_of[k] = l.level;
          }
        }
      }
      for (std::size_t k = 0; k < choices.size(); ++k) {
        const auto own = ParseInteger(choices[k].first);
        if (!level_of[k] && own && used.insert(*own).second) level_of[k] = *own;
      }
      std::int64_t next = 1;
      for (std::size_t k = 0; k < choices.size(); ++k) {
        const auto& [code, label] = choices[k];
        std::int64_t lv;
        if (level_of[k]) {
          lv = *level_of[k];
        } else {
          while (used.count(next)) ++next;
          lv = next;
          used.insert(lv);
        }
        v.levels.push_back({lv, label, code});
      }
      made.push_back(v);
    } else if (type == "yesno") {
      v.value_type = "boolean";
      v.levels = {{0, "No", "0"}, {1, "Yes", "1"}};
      made.push_back(v);
    } else if (type == "truefalse") {
      v.value_type = "boolean";
      v.levels = {{0, "False", "0"}, {1, "True", "1"}};
      made.push_back(v);
    } else if (type == "checkbox") {
      auto choices = ParseChoices(cell(r, choices_col), &choice_error);
      if (!choice_error.empty() || choices.empty()) {
        fail(choices_col, choice_error.empty() ? std::string("expected choices for a checkbox field, found none") : choice_error);
        continue;
      }
      for (const auto& [code, label] : choices) {
        CatalogVariable c = v;
        c.code = name + "___" + RedcapCheckboxSuffix(code);
        c.label = v.label.empty() ? label : v.label + ": " + label;
        c.value_type = "boolean";
        c.levels = {{0, "Unchecked", "0"}, {1, "Checked", "1"}};
        if (!IsCode(c.code)) {
          fail(choices_col, fmt::format("expected checkbox codes that make valid names, found '{}'", c.code));
          continue;
        }
        made.push_back(c);
      }
    } else if (type == "text" || type == "notes" || type == "calc" || type == "slider") {
      if (type == "slider") {
        // 0-100; "number" in the validation column only shows the number.
        v.value_type = "integer";
        v.min_value = 0;
        v.max_value = 100;
      } else if (type == "calc" || validation.rfind("number", 0) == 0 || validation == "float" ||
                 validation == "decimal") {
        v.value_type = "real";
      } else if (validation == "integer" || validation == "int") {
        v.value_type = "integer";
      } else if (validation.rfind("date_", 0) == 0) {  // date_ymd, date_mdy, date_dmy
        v.value_type = "date";
      } else if (validation.rfind("datetime_", 0) == 0) {  // datetime_ymd, datetime_seconds_dmy, ...
        v.value_type = "datetime";
      } else {
        v.value_type = "text";
      }
      if (v.value_type == "date" || v.value_type == "datetime") {
        // REDCap writes a date field's limits as Y-M-D (a datetime's with a time).
        for (auto [col, target] : {std::pair{min_col, &v.min_value}, std::pair{max_col, &v.max_value}}) {
          std::string_view text = cell(r, col);
          if (text.empty()) continue;
          auto date = ParseCalendarDate(text, DateOrder::kYmd, TimePart::kOptional);
          if (!date) {
            fail(col, fmt::format("expected a validation limit YYYY-MM-DD for a {} field, found '{}'", v.value_type, text));
            continue;
          }
          *target = DayNumber(*date);
        }
        if (v.min_value && v.max_value && *v.min_value > *v.max_value) {
          fail(min_col, fmt::format("expected validation min <= max, found {} > {}", cell(r, min_col), cell(r, max_col)));
          continue;
        }
      }
      if (v.value_type == "real" || v.value_type == "integer") {
        for (auto [col, target] : {std::pair{min_col, &v.min_value}, std::pair{max_col, &v.max_value}}) {
          std::string_view text = cell(r, col);
          if (text.empty()) continue;
          auto number = ParseNumber(text);
          if (!number) {
            fail(col, fmt::format("expected a numeric validation limit, found '{}'", text));
            continue;
          }
          *target = *number;
        }
        if (v.min_value && v.max_value && *v.min_value > *v.max_value) {
          fail(min_col, fmt::format("expected validation min <= max, found {} > {}", *v.min_value, *v.max_value));
          continue;
        }
      }
      made.push_back(v);
    } else {
      fail(type_col, fmt::format("expected a REDCap field type (text, notes, dropdown, radio, checkbox, yesno, truefalse, "
                                 "calc, slider, descriptive, file, sql), found '{}'",
                                 type));
      continue;
    }
    for (CatalogVariable& c : made) {
      if (!seen.insert(c.code).second) {
        fail(name_col, fmt::format("expected each field once, found '{}' again", c.code));
        continue;
      }
      auto it = std::find_if(existing.begin(), existing.end(), [&](const CatalogVariable& e) { return e.code == c.code; });
      if (it == existing.end()) {
        CreateVariable(store, sid, c);
        ++report.created;
      } else {
        c.id = it->id;
        if (auto change = ChangeToHeldValues(*it, c); change && VariableHasRecords(store, *it)) {
          using Column = HeldValuesChange::Column;
          const std::size_t col = change->column == Column::kType    ? type_col
                                  : change->column == Column::kUnit  ? annotation_col
                                  : change->column == Column::kMin   ? min_col
                                  : change->column == Column::kMax   ? max_col
                                                                     : choices_col;
          fail(col, fmt::format("variable '{}' already holds values {}", c.code, change->what));
          continue;
        }
        UpdateVariable(store, c);
        ++report.updated;
      }
    }
  }
  if (rows == 0) {
    errors.push_back(fmt::format("{}:1: expected at least one field after the header, found none", path));
  }
  if (!errors.empty()) {
    std::string message;
    for (const auto& e : errors) message += e + "\n";
    message += fmt::format("import-dictionary failed: {} error{}; the store is unchanged", errors.size(),
                           errors.size() == 1 ? "" : "s");
    throw InputError(message);
  }
  writer.FinishBatch(batch, rows, rows - report.skipped_fields, 0, false, NowIso());
  store.RefreshPivots(study);
  transaction.Commit();
  return report;
}

}  // namespace cohortdb
