#include "import/spec.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "common/error.h"
#include "common/input_file.h"
#include "common/sha256.h"

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
    if (const auto* f = node->as_floating_point()) return f->get();
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
const std::set<std::string> kValueTypes = {"real", "integer", "boolean", "categorical", "text"};

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
               "variables", "checkboxes", "trial_summary"},
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
  if (auto v = r.String(root, "title", "spec")) spec.title = *v;

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
      v.label = r.String(*t, "label", "visits").value_or("");
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
      r.CheckKeys(*t, {"column", "names", "kind", "type", "unit", "source_unit", "min", "max", "label", "missing", "codes"},
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
        r.Fail(t->get("type"), fmt::format("{}.type: expected real, integer, boolean, categorical or text, found '{}'",
                                           section, *v.value_type));
      }
      v.unit = r.String(*t, "unit", section);
      v.source_unit = r.String(*t, "source_unit", section).value_or("");
      v.min_value = r.Number(*t, "min", section);
      v.max_value = r.Number(*t, "max", section);
      if (v.min_value && v.max_value && *v.min_value > *v.max_value) {
        r.Fail(t->get("min"), fmt::format("{}: expected min <= max, found min {} > max {}", section, *v.min_value, *v.max_value));
      }
      v.label = r.String(*t, "label", section);
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
  return spec;
}

}  // namespace cohortdb
