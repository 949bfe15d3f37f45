#include "import/spec.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "common/calendar_date.h"
#include "common/error.h"
#include "common/input_file.h"
#include "common/sha256.h"
#include "import/csv_reader.h"
#include "import/value_parser.h"

namespace cohortdb {
namespace {

const char* NodeTypeName(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a number";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::array: return "an array";
    case toml::node_type::table: return "a table";
    default: return "a date or time";
  }
}

bool IsIdentifier(const std::string& s, std::size_t max_len) {
  if (s.empty() || s.size() > max_len || s[0] < 'a' || s[0] > 'z') return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
}

// Titles and labels are for people: a longer one is a pasted file, not a title.
constexpr std::ptrdiff_t kMaxTextLength = 1000;

class SpecReader {
 public:
  explicit SpecReader(std::string name) : name_(std::move(name)) {}

  [[noreturn]] void Fail(const toml::node* node, const std::string& what) const {
    if (node != nullptr && node->source().begin.line > 0) {
      throw InputError(fmt::format("{}:{}:{}: {}", name_, node->source().begin.line,
                                   node->source().begin.column, what));
    }
    throw InputError(fmt::format("{}: {}", name_, what));
  }

  void CheckKeys(const toml::table& table, std::initializer_list<const char*> allowed,
                 const std::string& section) const {
    for (const auto& [key, node] : table) {
      const std::string_view name = key.str();
      bool ok = std::any_of(allowed.begin(), allowed.end(), [&](const char* a) { return name == a; });
      if (!ok) {
        std::string list;
        for (const char* a : allowed) list += fmt::format("{}{}", list.empty() ? "" : ", ", a);
        Fail(&node, fmt::format("unknown key '{}' in {}: expected one of {}", key.str(), section, list));
      }
    }
  }

  std::optional<std::string> String(const toml::table& table, const char* key,
                                    const std::string& section) const {
    const toml::node* node = table.get(key);
    if (node == nullptr) return std::nullopt;
    if (const auto* s = node->as_string()) return s->get();
    Fail(node, fmt::format("{}.{}: expected a string, found {}", section, key, NodeTypeName(*node)));
  }

  std::optional<double> Number(const toml::table& table, const char* key,
                               const std::string& section) const {
    const toml::node* node = table.get(key);
    if (node == nullptr) return std::nullopt;
    if (const auto* i = node->as_integer()) return static_cast<double>(i->get());
    if (const auto* f = node->as_floating_point()) {
      // A range check against nan can never fail; one against inf is no check.
      if (!std::isfinite(f->get())) {
        Fail(node, fmt::format("{}.{}: expected a finite number, found {} (leave the key out for no limit)", section,
                               key, f->get()));
      }
      return f->get();
    }
    Fail(node, fmt::format("{}.{}: expected a number, found {}", section, key, NodeTypeName(*node)));
  }

  std::optional<long long> Integer(const toml::table& table, const char* key,
                                   const std::string& section) const {
    const toml::node* node = table.get(key);
    if (node == nullptr) return std::nullopt;
    if (const auto* i = node->as_integer()) return i->get();
    Fail(node, fmt::format("{}.{}: expected an integer, found {}", section, key, NodeTypeName(*node)));
  }

  std::optional<bool> Bool(const toml::table& table, const char* key, const std::string& section) const {
    const toml::node* node = table.get(key);
    if (node == nullptr) return std::nullopt;
    if (const auto* b = node->as_boolean()) return b->get();
    Fail(node, fmt::format("{}.{}: expected true or false, found {}", section, key, NodeTypeName(*node)));
  }

  // A string or an array of strings.
  std::vector<std::string> Strings(const toml::table& table, const char* key,
                                   const std::string& section) const {
    std::vector<std::string> out;
    const toml::node* node = table.get(key);
    if (node == nullptr) return out;
    if (const auto* s = node->as_string()) {
      out.push_back(s->get());
      return out;
    }
    const auto* arr = node->as_array();
    if (arr == nullptr) {
      Fail(node, fmt::format("{}.{}: expected a string or an array of strings, found {}", section, key,
                             NodeTypeName(*node)));
    }
    for (const auto& item : *arr) {
      const auto* s = item.as_string();
      if (s == nullptr) {
        Fail(&item, fmt::format("{}.{}: expected an array of strings, found {} in it", section, key,
                                NodeTypeName(item)));
      }
      out.push_back(s->get());
    }
    return out;
  }

  // A table of string -> string.
  std::map<std::string, std::string> StringMap(const toml::table& table, const char* key,
                                               const std::string& section) const {
    std::map<std::string, std::string> out;
    const toml::node* node = table.get(key);
    if (node == nullptr) return out;
    const auto* t = node->as_table();
    if (t == nullptr) {
      Fail(node, fmt::format("{}.{}: expected a table of \"code\" = \"value\", found {}", section, key,
                             NodeTypeName(*node)));
    }
    for (const auto& [k, v] : *t) {
      const auto* s = v.as_string();
      if (s == nullptr) {
        Fail(&v, fmt::format("{}.{}.{}: expected a string, found {}", section, key, k.str(), NodeTypeName(v)));
      }
      out[std::string(k.str())] = s->get();
    }
    return out;
  }

  // A string that may not be empty (a unit: leave the key out for none).
  std::optional<std::string> NonEmptyString(const toml::table& table, const char* key, const std::string& section,
                                            const char* example) const {
    auto v = String(table, key, section);
    if (v && v->empty()) {
      Fail(table.get(key), fmt::format("{}.{}: expected a unit such as {}, found an empty string (leave the key out "
                                       "for none)", section, key, example));
    }
    return v;
  }

  // A descriptive text of at most kMaxTextLength characters.
  std::optional<std::string> Text(const toml::table& table, const char* key, const std::string& section) const {
    auto v = String(table, key, section);
    if (v) {
      const auto characters = std::count_if(v->begin(), v->end(), [](char c) {
        return (static_cast<unsigned char>(c) & 0xC0) != 0x80;  // not a UTF-8 continuation byte
      });
      if (characters > kMaxTextLength) {
        Fail(table.get(key), fmt::format("{}.{}: expected at most {} characters, found {}", section, key,
                                         kMaxTextLength, characters));
      }
    }
    return v;
  }

  const toml::table* Table(const toml::table& table, const char* key) const {
    const toml::node* node = table.get(key);
    if (node == nullptr) return nullptr;
    const auto* t = node->as_table();
    if (t == nullptr) Fail(node, fmt::format("{}: expected a table, found {}", key, NodeTypeName(*node)));
    return t;
  }

 private:
  std::string name_;
};

const std::set<std::string> kRecordKinds = {"biomarker", "mri_metric", "outcome", "covariate"};
const std::set<std::string> kValueTypes = {"real", "integer", "boolean", "categorical", "text", "date", "datetime"};

bool IsDateType(const std::optional<std::string>& type) { return type && (*type == "date" || *type == "datetime"); }

// A date variable's min or max: a TOML date (or date-time) as its day number.
std::optional<double> DateBound(const toml::node* node) {
  if (node == nullptr) return std::nullopt;
  if (const auto* d = node->as_date()) {
    const toml::date& v = d->get();
    return static_cast<double>(DaysSinceEpoch(v.year, v.month, v.day));
  }
  if (const auto* dt = node->as_date_time()) {
    const toml::date_time& v = dt->get();
    CalendarDate c;
    c.year = v.date.year;
    c.month = v.date.month;
    c.day = v.date.day;
    c.hour = v.time.hour;
    c.minute = v.time.minute;
    c.second = v.time.second;
    return DayNumber(c);
  }
  return std::nullopt;
}

// Reads REDCap's instrument-event mapping export ("instrument designations":
// arm_num, unique_event_name, form) into event -> forms. Throws InputError
// "FILE:LINE[:COLUMN]: ..." on a problem; returns the file's digest.
std::string ReadInstrumentEvents(const std::string& path, std::map<std::string, std::vector<std::string>>& out) {
  const std::string digest = Sha256OfFile(path);
  CsvReader reader(path, ',', path);
  const CsvRecord* header = reader.Next();
  if (header == nullptr) throw InputError(fmt::format("{}:1: expected a header line, found an empty file", path));
  std::size_t event_col = header->size(), form_col = header->size();
  for (std::size_t i = 0; i < header->size(); ++i) {
    const std::string_view name = Trim((*header)[i]);
    if (name == "unique_event_name") event_col = i;
    if (name == "form") form_col = i;
  }
  if (event_col == header->size() || form_col == header->size()) {
    throw InputError(fmt::format("{}:1: expected REDCap's instrument-event mapping with the columns unique_event_name "
                                 "and form (arm_num, unique_event_name, form), found no {} column",
                                 path, event_col == header->size() ? "unique_event_name" : "form"));
  }
  std::size_t rows = 0;
  for (const CsvRecord* r = reader.Next(); r != nullptr; r = reader.Next()) {
    ++rows;
    if (!r->problem().empty()) throw InputError(fmt::format("{}:{}:{}: {}", path, r->line(), r->problem_column(), r->problem()));
    if (r->size() != header->size()) {
      throw InputError(fmt::format("{}:{}: expected {} fields as in the header, found {}", path, r->line(), header->size(),
                                   r->size()));
    }
    for (std::size_t col : {event_col, form_col}) {
      if (Trim((*r)[col]).empty()) {
        throw InputError(fmt::format("{}:{}:{}: expected {}, found an empty field", path, r->line(), col + 1,
                                     col == event_col ? "an event name" : "a form name"));
      }
    }
    std::vector<std::string>& forms = out[std::string(Trim((*r)[event_col]))];
    const std::string form(Trim((*r)[form_col]));
    if (std::find(forms.begin(), forms.end(), form) == forms.end()) forms.push_back(form);
  }
  if (rows == 0) throw InputError(fmt::format("{}:1: expected at least one event and form after the header, found none", path));
  return digest;
}

// [units]: "FROM -> TO" = FACTOR, or = { factor = F, offset = O, variable = "code" }.
void ParseUnits(const SpecReader& r, const toml::table& root, ImportSpec& spec, const std::string& name) {
  const toml::table* units = r.Table(root, "units");
  if (units == nullptr) return;
  if (spec.shape == FileShape::kTrialSummary) {
    r.Fail(root.get("units"), "[units]: expected only with a record file (shape redcap, wide or long), found shape = "
                              "\"trial_summary\", whose values are not converted");
  }
  for (const auto& [key, node] : *units) {
    const std::string text(key.str());
    const std::string section = fmt::format("units.\"{}\"", text);
    UnitSpec u;
    const auto arrow = text.find("->");
    if (arrow != std::string::npos) {
      u.from_unit = std::string(Trim(std::string_view(text).substr(0, arrow)));
      u.to_unit = std::string(Trim(std::string_view(text).substr(arrow + 2)));
    }
    if (arrow == std::string::npos || u.from_unit.empty() || u.to_unit.empty() ||
        u.to_unit.find("->") != std::string::npos) {
      r.Fail(&node, fmt::format("{}: expected a key \"FROM -> TO\" such as \"mg/dL -> mg/L\"", section));
    }
    if (u.from_unit == u.to_unit) r.Fail(&node, fmt::format("{}: expected two different units, found the same twice", section));
    const toml::node* factor = &node;
    const toml::node* offset = nullptr;
    if (const auto* t = node.as_table()) {
      r.CheckKeys(*t, {"factor", "offset", "variable"}, "[" + section + "]");
      factor = t->get("factor");
      if (factor == nullptr) r.Fail(&node, fmt::format("{}: expected factor = NUMBER (and optionally offset, variable)", section));
      offset = t->get("offset");
      u.variable = r.String(*t, "variable", section).value_or("");
      if (!u.variable.empty() && !IsIdentifier(u.variable, 48)) {
        r.Fail(t->get("variable"), fmt::format("{}.variable: expected a variable code, found '{}'", section, u.variable));
      }
    }
    auto number = [&](const toml::node* n, const char* what) -> double {
      if (const auto* i = n->as_integer()) return static_cast<double>(i->get());
      if (const auto* f = n->as_floating_point()) {
        if (std::isfinite(f->get())) return f->get();
        r.Fail(n, fmt::format("{}: expected a finite {}, found {}", section, what, f->get()));
      }
      r.Fail(n, fmt::format("{}: expected {} (a number, or a table {{ factor = F, offset = O }}), found {}", section,
                            what, NodeTypeName(*n)));
    };
    u.factor = number(factor, "factor");
    if (!(u.factor > 0)) r.Fail(factor, fmt::format("{}: expected a factor > 0, found {}", section, u.factor));
    if (offset != nullptr) u.offset = number(offset, "offset");
    u.where = fmt::format("{}:{}:{}", name, node.source().begin.line, node.source().begin.column);
    for (const UnitSpec& other : spec.units) {
      if (other.from_unit == u.from_unit && other.to_unit == u.to_unit && other.variable == u.variable) {
        r.Fail(&node, fmt::format("{}: expected each conversion once, found {} -> {}{} again", section, u.from_unit,
                                  u.to_unit, u.variable.empty() ? "" : " for variable " + u.variable));
      }
    }
    spec.units.push_back(std::move(u));
  }
}

// [redcap]: instrument_events = "FILE.csv" or events = { event = [forms] },
// and forms = { form = [fields] }.
void ParseRedcapForms(const SpecReader& r, const toml::table& root, ImportSpec& spec, const std::string& name) {
  const toml::table* t = r.Table(root, "redcap");
  if (t == nullptr) return;
  if (spec.shape != FileShape::kRedcap) {
    r.Fail(root.get("redcap"), fmt::format("[redcap]: expected only with shape = \"redcap\", found shape = \"{}\"",
                                           FileShapeName(spec.shape)));
  }
  r.CheckKeys(*t, {"instrument_events", "events", "forms"}, "[redcap]");
  if (t->get("instrument_events") != nullptr && t->get("events") != nullptr) {
    r.Fail(t->get("events"), "redcap: expected either instrument_events (the mapping file) or events, found both");
  }
  if (auto file = r.String(*t, "instrument_events", "redcap")) {
    std::filesystem::path path(*file);
    if (path.is_relative()) path = std::filesystem::path(name).parent_path() / path;
    spec.instrument_events = path.string();
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
      r.Fail(t->get("instrument_events"),
             fmt::format("redcap.instrument_events: expected REDCap's instrument-event mapping (a CSV file; a relative "
                         "path is read from the spec's folder), found no file '{}'",
                         spec.instrument_events));
    }
    const std::string digest = ReadInstrumentEvents(spec.instrument_events, spec.event_forms);
    // The mapping decides what is stored: an import with another mapping is
    // another import.
    spec.sha256 = Sha256Hex(spec.sha256 + digest);
  }
  if (const toml::node* events = t->get("events")) {
    const auto* et = events->as_table();
    if (et == nullptr) {
      r.Fail(events, fmt::format("redcap.events: expected a table of event = [\"form\", ...], found {}", NodeTypeName(*events)));
    }
    for (const auto& [event, forms] : *et) {
      (void)forms;
      spec.event_forms[std::string(event.str())] = r.Strings(*et, std::string(event.str()).c_str(), "redcap.events");
    }
  }
  if (const toml::node* forms = t->get("forms")) {
    const auto* ft = forms->as_table();
    if (ft == nullptr) {
      r.Fail(forms, fmt::format("redcap.forms: expected a table of form = [\"field\", ...], found {}", NodeTypeName(*forms)));
    }
    for (const auto& [form, fields] : *ft) {
      for (const std::string& field : r.Strings(*ft, std::string(form.str()).c_str(), "redcap.forms")) {
        auto [it, inserted] = spec.field_forms.emplace(field, std::string(form.str()));
        if (!inserted) {
          r.Fail(&fields, fmt::format("redcap.forms.{}: expected each field in one form, found '{}' also in form '{}'",
                                      form.str(), field, it->second));
        }
      }
    }
  }
}

// "ignore" may not name a column the spec reads: the column would be read
// all the same, and the ignore silently have no effect.
void CheckIgnore(const SpecReader& r, const toml::table& root, const ImportSpec& spec) {
  std::vector<std::pair<std::string, std::string>> used = {
      {spec.participant_column, "[participant] id"}, {spec.site_column, "[participant] site"},
      {spec.sex_column, "[participant] sex"},        {spec.age_column, "[participant] age"},
      {spec.birth_year_column, "[participant] birth_year"}, {spec.arm_column, "[participant] arm"},
      {spec.visit_column, "[visit] column"},         {spec.variable_column, "[long] variable"},
      {spec.value_column, "[long] value"},           {spec.unit_column, "[long] unit"}};
  for (const auto& [column, field] : spec.extra) used.emplace_back(column, "[extra]");
  if (spec.shape != FileShape::kLong) {
    for (const VariableSpec& v : spec.variables) used.emplace_back(v.column, fmt::format("[variables.{}]", v.code));
  }
  for (const std::string& name : spec.ignore) {
    for (const auto& [column, role] : used) {
      if (!column.empty() && column == name) {
        r.Fail(root.get("ignore"), fmt::format("ignore: expected columns the spec does not read, found '{}', the "
                                               "column of {}",
                                               name, role));
      }
    }
  }
}

}  // namespace

const char* FileShapeName(FileShape shape) {
  switch (shape) {
    case FileShape::kRedcap: return "redcap";
    case FileShape::kWide: return "wide";
    case FileShape::kLong: return "long";
    case FileShape::kTrialSummary: return "trial_summary";
  }
  return "?";
}

ImportSpec ParseSpecFile(const std::string& path) {
  std::ifstream in = OpenInputFile(path, "cannot open the spec file");
  std::ostringstream buf;
  buf << in.rdbuf();
  return ParseSpec(buf.str(), path);
}

ImportSpec ParseSpec(const std::string& text, const std::string& name) {
  SpecReader r(name);
  toml::table root;
  try {
    root = toml::parse(text, name);
  } catch (const toml::parse_error& e) {
    throw InputError(fmt::format("{}:{}:{}: invalid TOML: {}", name, e.source().begin.line,
                                 e.source().begin.column, e.description()));
  }
  ImportSpec spec;
  spec.name = name;
  spec.sha256 = Sha256Hex(text);
  r.CheckKeys(root,
              {"study", "design", "title", "shape", "record_kind", "delimiter", "decimal", "missing",
               "defines_participants", "participant", "visit", "visits", "long", "extra", "ignore",
               "variables", "checkboxes", "trial_summary", "units", "redcap"},
              "the spec");

  auto study = r.String(root, "study", "spec");
  if (!study) r.Fail(nullptr, "missing key 'study': expected the study code, e.g. study = \"nako\"");
  if (!IsIdentifier(*study, 48)) {
    r.Fail(root.get("study"), fmt::format("study: expected a code of a-z, 0-9 and _ starting with a letter, found '{}'", *study));
  }
  spec.study = *study;
  if (auto v = r.String(root, "design", "spec")) {
    if (*v != "trial" && *v != "cohort" && *v != "meta" && *v != "other") {
      r.Fail(root.get("design"), fmt::format("design: expected trial, cohort, meta or other, found '{}'", *v));
    }
    spec.design = *v;
  }
  if (auto v = r.Text(root, "title", "spec")) spec.title = *v;

  auto shape = r.String(root, "shape", "spec");
  if (!shape) r.Fail(nullptr, "missing key 'shape': expected one of redcap, wide, long, trial_summary");
  if (*shape == "redcap") spec.shape = FileShape::kRedcap;
  else if (*shape == "wide") spec.shape = FileShape::kWide;
  else if (*shape == "long") spec.shape = FileShape::kLong;
  else if (*shape == "trial_summary") spec.shape = FileShape::kTrialSummary;
  else r.Fail(root.get("shape"), fmt::format("shape: expected redcap, wide, long or trial_summary, found '{}'", *shape));

  if (auto v = r.String(root, "record_kind", "spec")) {
    if (!kRecordKinds.count(*v)) {
      r.Fail(root.get("record_kind"),
             fmt::format("record_kind: expected biomarker, mri_metric, outcome or covariate, found '{}'", *v));
    }
    spec.record_kind = *v;
  }
  if (auto v = r.String(root, "decimal", "spec")) {
    if (*v == "." || *v == ",") spec.decimal = (*v)[0];
    else r.Fail(root.get("decimal"), fmt::format("decimal: expected \".\" or \",\", found '{}'", *v));
  }
  if (auto v = r.String(root, "delimiter", "spec")) {
    if (*v == "tab" || *v == "\t") spec.delimiter = '\t';
    else if (v->size() == 1 && (*v)[0] != '"' && (*v)[0] != '\n' && (*v)[0] != '\r') spec.delimiter = (*v)[0];
    else r.Fail(root.get("delimiter"), fmt::format("delimiter: expected one character such as \",\" \";\" or \"tab\", found '{}'", *v));
  }
  if (root.get("missing") != nullptr) spec.missing = r.Strings(root, "missing", "spec");
  spec.defines_participants = r.Bool(root, "defines_participants", "spec").value_or(false);
  spec.ignore = r.Strings(root, "ignore", "spec");

  if (const toml::table* t = r.Table(root, "participant")) {
    r.CheckKeys(*t, {"id", "site", "sex", "sex_codes", "age", "birth_year", "arm", "arm_codes"}, "[participant]");
    spec.participant_column = r.String(*t, "id", "participant").value_or("");
    spec.site_column = r.String(*t, "site", "participant").value_or("");
    spec.sex_column = r.String(*t, "sex", "participant").value_or("");
    spec.age_column = r.String(*t, "age", "participant").value_or("");
    spec.birth_year_column = r.String(*t, "birth_year", "participant").value_or("");
    spec.arm_column = r.String(*t, "arm", "participant").value_or("");
    spec.sex_codes = r.StringMap(*t, "sex_codes", "participant");
    spec.arm_codes = r.StringMap(*t, "arm_codes", "participant");
    for (const auto& [code, sex] : spec.sex_codes) {
      if (sex != "female" && sex != "male" && sex != "other" && sex != "unknown") {
        r.Fail(t->get("sex_codes"),
               fmt::format("participant.sex_codes.{}: expected female, male, other or unknown, found '{}'", code, sex));
      }
    }
  }
  if (spec.shape == FileShape::kRedcap) {
    if (spec.participant_column.empty()) spec.participant_column = "record_id";
  }
  if (spec.shape != FileShape::kTrialSummary && spec.participant_column.empty()) {
    r.Fail(nullptr, "missing [participant] id: expected the column holding the participant id");
  }

  if (const toml::table* t = r.Table(root, "visit")) {
    r.CheckKeys(*t, {"column", "fixed", "map"}, "[visit]");
    spec.visit_column = r.String(*t, "column", "visit").value_or("");
    spec.fixed_visit = r.String(*t, "fixed", "visit").value_or("");
    spec.visit_map = r.StringMap(*t, "map", "visit");
    if (!spec.visit_column.empty() && !spec.fixed_visit.empty()) {
      r.Fail(t->get("fixed"), "visit: expected either column or fixed, found both");
    }
  }
  if (const toml::node* node = root.get("visits")) {
    const auto* arr = node->as_array();
    if (arr == nullptr) r.Fail(node, fmt::format("visits: expected an array of tables ([[visits]]), found {}", NodeTypeName(*node)));
    for (const auto& item : *arr) {
      const auto* t = item.as_table();
      if (t == nullptr) r.Fail(&item, "visits: expected [[visits]] tables");
      r.CheckKeys(*t, {"code", "label", "order", "day"}, "[[visits]]");
      VisitSpec v;
      auto code = r.String(*t, "code", "visits");
      if (!code || !IsIdentifier(*code, 32)) {
        r.Fail(&item, fmt::format("visits.code: expected a code of a-z, 0-9 and _ starting with a letter, found '{}'",
                                  code.value_or("")));
      }
      v.code = *code;
      for (const VisitSpec& earlier : spec.visits) {
        if (earlier.code == v.code) {
          r.Fail(t->get("code"), fmt::format("visits.code: expected each visit code once, found '{}' again", v.code));
        }
      }
      v.label = r.Text(*t, "label", "visits").value_or("");
      v.order = r.Integer(*t, "order", "visits");
      v.day = r.Integer(*t, "day", "visits");
      spec.visits.push_back(v);
    }
  }
  for (const auto& [source, code] : spec.visit_map) {
    if (!IsIdentifier(code, 32)) {
      r.Fail(root.at_path("visit.map").node(),
             fmt::format("visit.map.{}: expected a visit code (a-z first, then a-z, 0-9 and _; at most 32 "
                         "characters), found '{}'", source, code));
    }
  }
  if (!spec.fixed_visit.empty() && !IsIdentifier(spec.fixed_visit, 32)) {
    r.Fail(root.at_path("visit.fixed").node(),
           fmt::format("visit.fixed: expected a visit code (a-z first, then a-z, 0-9 and _; at most 32 characters), "
                       "found '{}'", spec.fixed_visit));
  }
  // A REDCap visit map naming events needs the event column; one whose keys
  // are all "#<instance>" maps the repeat rows of a flat export.
  if (spec.shape == FileShape::kRedcap && spec.visit_column.empty() && spec.fixed_visit.empty() &&
      std::any_of(spec.visit_map.begin(), spec.visit_map.end(), [](const auto& m) { return !m.first.starts_with('#'); })) {
    spec.visit_column = "redcap_event_name";
  }

  if (const toml::table* t = r.Table(root, "long")) {
    r.CheckKeys(*t, {"variable", "value", "unit"}, "[long]");
    spec.variable_column = r.String(*t, "variable", "long").value_or("");
    spec.value_column = r.String(*t, "value", "long").value_or("");
    spec.unit_column = r.String(*t, "unit", "long").value_or("");
  }
  if (spec.shape == FileShape::kLong && (spec.variable_column.empty() || spec.value_column.empty())) {
    r.Fail(nullptr, "a long file needs [long] variable and value: the columns holding the variable name and the value");
  }
  if (const toml::table* t = r.Table(root, "extra")) {
    spec.extra = r.StringMap(root, "extra", "spec");
    // Each column's value is kept under its field: two columns for one field
    // would keep only one of them.
    std::map<std::string, std::string> column_of;
    for (const auto& [column, field] : *t) {
      const auto* kept_as = field.as_string();
      if (kept_as == nullptr) continue;
      const auto [it, inserted] = column_of.emplace(kept_as->get(), std::string(column.str()));
      if (!inserted) {
        r.Fail(&field, fmt::format("extra.{}: expected one column per field, found columns '{}' and '{}' both kept "
                                   "as '{}'",
                                   column.str(), it->second, column.str(), kept_as->get()));
      }
    }
  }

  if (const toml::table* vars = r.Table(root, "variables")) {
    for (const auto& [key, node] : *vars) {
      const auto* t = node.as_table();
      if (t == nullptr) r.Fail(&node, fmt::format("variables.{}: expected a table, found {}", key.str(), NodeTypeName(node)));
      std::string section = fmt::format("variables.{}", key.str());
      r.CheckKeys(*t, {"column", "names", "kind", "type", "unit", "source_unit", "min", "max", "label", "missing", "codes",
                       "date_format"},
                  "[" + section + "]");
      VariableSpec v;
      v.code = std::string(key.str());
      if (!IsIdentifier(v.code, 48)) {
        r.Fail(&node, fmt::format("{}: expected a variable code of a-z, 0-9 and _ starting with a letter", section));
      }
      v.column = r.String(*t, "column", section).value_or(v.code);
      v.names = r.Strings(*t, "names", section);
      if (v.names.empty()) v.names.push_back(v.code);
      v.record_kind = r.String(*t, "kind", section);
      if (v.record_kind && !kRecordKinds.count(*v.record_kind)) {
        r.Fail(t->get("kind"), fmt::format("{}.kind: expected biomarker, mri_metric, outcome or covariate, found '{}'",
                                           section, *v.record_kind));
      }
      v.value_type = r.String(*t, "type", section);
      if (v.value_type && !kValueTypes.count(*v.value_type)) {
        r.Fail(t->get("type"), fmt::format("{}.type: expected real, integer, boolean, categorical, text, date or datetime, "
                                           "found '{}'", section, *v.value_type));
      }
      v.unit = r.NonEmptyString(*t, "unit", section, "\"mg/L\"");
      v.source_unit = r.NonEmptyString(*t, "source_unit", section, "\"mg/dL\"").value_or("");
      v.date_format = r.String(*t, "date_format", section);
      if (v.date_format) {
        if (!IsDateType(v.value_type)) {
          r.Fail(t->get("date_format"), fmt::format("{}.date_format: expected only with type = \"date\" or \"datetime\", "
                                                    "found type {}", section, v.value_type.value_or("not given")));
        }
        if (*v.date_format != "ymd" && *v.date_format != "mdy" && *v.date_format != "dmy") {
          r.Fail(t->get("date_format"), fmt::format("{}.date_format: expected ymd, mdy or dmy, found '{}'", section,
                                                    *v.date_format));
        }
      }
      if (IsDateType(v.value_type) && (t->get("unit") != nullptr || t->get("source_unit") != nullptr)) {
        r.Fail(t->get("unit") != nullptr ? t->get("unit") : t->get("source_unit"),
               fmt::format("{}: expected no unit for a {} variable (its values are days), found one", section, *v.value_type));
      }
      if (IsDateType(v.value_type)) {
        // A date variable's range is given as TOML dates: min = 1900-01-01.
        for (const char* bound_key : {"min", "max"}) {
          const toml::node* bound = t->get(bound_key);
          if (bound == nullptr) continue;
          auto day = DateBound(bound);
          if (!day) {
            r.Fail(bound, fmt::format("{}.{}: expected a date such as {} = 2015-01-01 (unquoted), found {}", section, bound_key,
                                      bound_key, NodeTypeName(*bound)));
          }
          (std::string_view(bound_key) == "min" ? v.min_value : v.max_value) = *day;
        }
      } else {
        v.min_value = r.Number(*t, "min", section);
        v.max_value = r.Number(*t, "max", section);
      }
      if (v.min_value && v.max_value && *v.min_value > *v.max_value) {
        r.Fail(t->get("min"), fmt::format("{}: expected min <= max, found min {} > max {}", section, *v.min_value, *v.max_value));
      }
      v.label = r.Text(*t, "label", section);
      v.missing = r.Strings(*t, "missing", section);
      if (const toml::node* codes = t->get("codes")) {
        const auto* ct = codes->as_table();
        if (ct == nullptr) r.Fail(codes, fmt::format("{}.codes: expected a table of \"code\" = \"label\"", section));
        for (const auto& [ck, cv] : *ct) {
          CodeMapping m;
          m.source = std::string(ck.str());
          if (const auto* s = cv.as_string()) {
            m.label = s->get();
          } else if (const auto* i = cv.as_integer()) {
            m.level = i->get();
            m.label = std::to_string(i->get());
          } else if (const auto* b = cv.as_boolean()) {
            m.level = b->get() ? 1 : 0;
            m.label = b->get() ? "yes" : "no";
          } else {
            r.Fail(&cv, fmt::format("{}.codes.{}: expected a label or an integer, found {}", section, m.source,
                                    NodeTypeName(cv)));
          }
          v.codes.push_back(m);
        }
      }
      spec.variables.push_back(std::move(v));
    }
  }
  if (const toml::table* cb = r.Table(root, "checkboxes")) {
    if (spec.shape != FileShape::kRedcap) {
      r.Fail(root.get("checkboxes"),
             fmt::format("checkboxes: expected only in a spec with shape = \"redcap\" (REDCap's checkbox columns "
                         "field___code), found shape = \"{}\"; map a 0/1 column as a boolean variable instead",
                         FileShapeName(spec.shape)));
    }
    for (const auto& [field, node] : *cb) {
      (void)node;
      std::string section = fmt::format("checkboxes.{}", field.str());
      auto codes = r.StringMap(*cb, std::string(field.str()).c_str(), "checkboxes");
      for (const auto& [code, var] : codes) {
        if (!IsIdentifier(var, 48)) {
          r.Fail(&node, fmt::format("{}.{}: expected a variable code, found '{}'", section, code, var));
        }
      }
      spec.checkboxes[std::string(field.str())] = codes;
    }
  }

  CheckIgnore(r, root, spec);

  if (const toml::table* t = r.Table(root, "trial_summary")) {
    r.CheckKeys(*t, {"trial", "year", "duration_weeks", "outcome", "arm", "n", "mean", "sd", "events", "arm_codes", "attributes"},
                "[trial_summary]");
    TrialSummarySpec& ts = spec.trial_summary;
    ts.trial = r.String(*t, "trial", "trial_summary").value_or(ts.trial);
    ts.year = r.String(*t, "year", "trial_summary").value_or("");
    ts.duration_weeks = r.String(*t, "duration_weeks", "trial_summary").value_or("");
    ts.outcome = r.String(*t, "outcome", "trial_summary").value_or(ts.outcome);
    ts.arm = r.String(*t, "arm", "trial_summary").value_or(ts.arm);
    ts.n = r.String(*t, "n", "trial_summary").value_or(ts.n);
    ts.mean = r.String(*t, "mean", "trial_summary").value_or(ts.mean);
    ts.sd = r.String(*t, "sd", "trial_summary").value_or(ts.sd);
    ts.events = r.String(*t, "events", "trial_summary").value_or("");
    ts.arm_codes = r.StringMap(*t, "arm_codes", "trial_summary");
    ts.attributes = r.Strings(*t, "attributes", "trial_summary");
    for (const auto& [source, arm] : ts.arm_codes) {
      if (arm != "treatment" && arm != "control") {
        r.Fail(t->get("arm_codes"),
               fmt::format("trial_summary.arm_codes.{}: expected treatment or control, found '{}'", source, arm));
      }
    }
  }
  ParseUnits(r, root, spec, name);
  ParseRedcapForms(r, root, spec, name);
  return spec;
}

}  // namespace cohortdb
