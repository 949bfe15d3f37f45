#include "analysis/labels.h"

#include <algorithm>
#include <cmath>
#include <regex>
#include <set>

#include <fmt/format.h>

#include "analysis/frame.h"
#include "analysis/options.h"
#include "analysis/reference_level.h"
#include "common/error.h"
#include "store/catalog.h"
#include "store/frame_source.h"
#include "store/store.h"

namespace cohortdb::analysis {
namespace {

std::string Trimmed(std::string s) {
  s.erase(0, s.find_first_not_of(" \t"));
  const auto end = s.find_last_not_of(" \t");
  s.erase(end == std::string::npos ? 0 : end + 1);
  return s;
}

// The levels --cut gives "name_cat", from a column without rows.
std::optional<std::vector<std::string>> CutLevels(const std::string& cut, std::string* source) {
  const auto eq = cut.find('=');
  if (eq == std::string::npos) return std::nullopt;
  Frame empty;
  Column column;
  column.name = Trimmed(cut.substr(0, eq));
  empty.Add(column);
  try {
    ApplyCut(empty, cut);
  } catch (const Error&) {
    return std::nullopt;
  }
  *source = column.name;
  return empty.Get(column.name + "_cat").levels;
}

bool IsModelSection(const std::string& section) {
  return section == "coefficients" || section == "odds_ratios" || section == "risk_ratios" ||
         section == "rate_ratios";
}

std::string Text(const nlohmann::ordered_json& extra, const char* key) {
  if (!extra.is_object() || !extra.contains(key) || !extra[key].is_string()) return {};
  return extra[key].get<std::string>();
}

}  // namespace

VariableLabels VariableLabels::Load(Store& store, const Options& options) {
  VariableLabels out;
  std::optional<std::string> catalog_study = options.String("study");
  if (!catalog_study) {
    // A --frame over one study's pivot (wide_<study>, wide_<study>_visit)
    // shows that study's catalog labels, as it shows its level labels.
    const std::string frame = options.StringOr("frame", "");
    static const std::regex kPivot(R"(\bwide_([a-z][a-z0-9_]*))");
    std::set<std::string> studies;
    for (auto it = std::sregex_iterator(frame.begin(), frame.end(), kPivot); it != std::sregex_iterator(); ++it) {
      std::string study = (*it)[1];
      if (!FindStudy(store, study) && study.size() > 6 && study.compare(study.size() - 6, 6, "_visit") == 0)
        study.resize(study.size() - 6);
      if (FindStudy(store, study)) studies.insert(study);
    }
    if (studies.size() == 1) catalog_study = *studies.begin();
  }
  if (const auto study = catalog_study) {
    if (const auto id = FindStudy(store, *study)) {
      const std::vector<CatalogVisit> visits = LoadVisits(store, *id);
      for (const CatalogVariable& v : LoadVariables(store, *id)) {
        Variable variable;
        variable.label = v.label.empty() ? v.code : v.label;
        variable.boolean = v.value_type == "boolean";
        variable.continuous = v.levels.empty() && !variable.boolean;
        if (!v.levels.empty()) {
          std::vector<CatalogLevel> levels = v.levels;
          std::sort(levels.begin(), levels.end(),
                    [](const CatalogLevel& a, const CatalogLevel& b) { return a.level < b.level; });
          for (const CatalogLevel& l : levels) {
            // The frame names a catalog level by its label (ApplyCatalogLabels).
            variable.levels.push_back(l.label);
            variable.level_labels.push_back(l.label.empty() ? std::to_string(l.level) : l.label);
          }
        } else if (variable.boolean) {
          variable.numeric_boolean = true;
          variable.levels = {"0", "1"};
          variable.level_labels = {"No", "Yes"};
        }
        out.variables_[v.code] = variable;
        out.variables_[v.code + "_value"] = variable;
        for (const CatalogVisit& visit : visits) {
          Variable at_visit = variable;
          at_visit.label = fmt::format("{} ({})", variable.label, visit.code);
          out.variables_[v.code + "_" + visit.code] = std::move(at_visit);
        }
      }
    }
  }
  if (const auto study = options.String("study"); study && !options.Has("frame")) {
    // The participant table's own columns in the study's pivot: fixed labels,
    // and the levels its rows hold (any order: only the set is used).
    if (const auto id = FindStudy(store, *study)) {
      const std::pair<const char*, const char*> columns[] = {{"sex", "Sex"}, {"arm", "Arm"}, {"site", "Site"}};
      for (const auto& [column, label] : columns) {
        if (out.variables_.count(column)) continue;
        Variable variable;
        variable.label = label;
        variable.levels = ParticipantColumnLevels(store, *id, column);
        variable.level_labels = variable.levels;
        out.variables_[column] = std::move(variable);
      }
      Variable age;
      age.label = "Age (years)";
      age.continuous = true;
      if (!out.variables_.count("age_years")) out.variables_["age_years"] = std::move(age);
    }
  }
  static const std::regex kDerive(R"(^\s*(\w+)\s*=\s*(change|z|days)\s*\(\s*(\w+)\s*(?:,\s*(\w+)\s*,\s*(\w+)\s*)?\).*$)");
  for (const std::string& derive : options.Items("derive")) {
    std::smatch m;
    const auto eq = derive.find('=');
    if (std::regex_match(derive, m, kDerive)) {
      Variable variable;
      variable.continuous = true;
      const std::string source = out.Label(m[3]);
      if (m[2] == "change" && m[4].matched) {
        variable.label = fmt::format("Change in {} ({} to {})", source, m[4].str(), m[5].str());
      } else if (m[2] == "z") {
        variable.label = source;
      } else {
        variable.label = m[1];
      }
      out.variables_[m[1]] = std::move(variable);
    } else if (eq != std::string::npos) {
      const std::string name = Trimmed(derive.substr(0, eq));
      if (const auto threshold = ParseThreshold(Trimmed(derive.substr(eq + 1)))) {
        Variable variable;
        variable.label = fmt::format("{} {} {:g}", out.Label(threshold->variable), threshold->op, threshold->value);
        variable.boolean = variable.numeric_boolean = true;
        variable.levels = {"0", "1"};
        variable.level_labels = {"No", "Yes"};
        out.variables_[name] = std::move(variable);
      }
    }
  }
  for (const std::string& cut : options.Items("cut")) {
    std::string source;
    if (const auto levels = CutLevels(cut, &source)) {
      Variable variable;
      variable.label = out.Label(source);
      variable.levels = *levels;
      variable.level_labels = *levels;
      out.variables_[source + "_cat"] = std::move(variable);
    }
  }
  for (const ReferenceLevel& ref : ParseReferenceLevels(options)) {  // relevel: the reference first
    auto it = out.variables_.find(ref.variable);
    if (it == out.variables_.end()) continue;
    Variable& v = it->second;
    const auto at = std::find(v.levels.begin(), v.levels.end(), ref.level);
    if (at == v.levels.end()) continue;
    const auto k = at - v.levels.begin();
    std::rotate(v.levels.begin(), at, at + 1);
    std::rotate(v.level_labels.begin(), v.level_labels.begin() + k, v.level_labels.begin() + k + 1);
  }
  return out;
}

const VariableLabels::Variable* VariableLabels::Find(const std::string& name) const {
  const auto it = variables_.find(name);
  return it == variables_.end() ? nullptr : &it->second;
}

std::string VariableLabels::Label(const std::string& name) const {
  const Variable* v = Find(name);
  return v && !v->label.empty() ? v->label : name;
}

std::string VariableLabels::LevelLabel(const std::string& name, const std::string& level) const {
  if (const Variable* v = Find(name)) {
    const auto at = std::find(v->levels.begin(), v->levels.end(), level);
    if (at != v->levels.end()) {
      const std::string& label = v->level_labels[static_cast<std::size_t>(at - v->levels.begin())];
      if (!label.empty()) return label;
    }
  }
  return level;
}

std::optional<std::vector<VariableLabels::TermPart>> VariableLabels::SplitTerm(const std::string& term) const {
  std::vector<TermPart> parts;
  std::size_t start = 0;
  while (start <= term.size()) {
    const std::size_t colon = std::min(term.find(':', start), term.size());
    const std::string part = term.substr(start, colon - start);
    start = colon + 1;
    if (variables_.count(part)) {
      parts.push_back({part, std::nullopt});
      continue;
    }
    // The longest variable name the part starts with whose levels hold the rest.
    std::optional<TermPart> found;
    for (const auto& [name, v] : variables_) {
      if (name.size() >= part.size() || part.compare(0, name.size(), name) != 0 || v.continuous) continue;
      const std::string rest = part.substr(name.size());
      const bool known = std::find(v.levels.begin(), v.levels.end(), rest) != v.levels.end();
      if (!known && !(v.levels.empty() && !v.numeric_boolean)) continue;
      if (!found || found->variable.size() < name.size()) found = TermPart{name, rest};
    }
    if (!found) return std::nullopt;
    parts.push_back(*found);
  }
  return parts;
}

namespace {

void LabelModelRow(const VariableLabels& labels, ResultRow& row) {
  if (row.term == "(Intercept)") {
    row.label = row.term;
    row.extra["variable"] = row.term;
    row.extra["var_label"] = row.term;
    row.extra["var_type"] = "intercept";
    return;
  }
  const auto parts = labels.SplitTerm(row.term);
  if (!parts || parts->empty()) return;
  std::vector<std::string> variables, part_labels;
  for (const auto& p : *parts) {
    variables.push_back(p.variable);
    part_labels.push_back(p.level ? labels.LevelLabel(p.variable, *p.level) : labels.Label(p.variable));
  }
  if (parts->size() > 1) {
    row.label = fmt::format("{}", fmt::join(part_labels, " * "));
    row.extra["variable"] = fmt::format("{}", fmt::join(variables, ":"));
    row.extra["var_label"] = row.label;
    row.extra["var_type"] = "interaction";
    return;
  }
  const auto& part = parts->front();
  const VariableLabels::Variable* v = labels.Find(part.variable);
  row.label = part_labels.front();
  row.extra["variable"] = part.variable;
  row.extra["var_label"] = labels.Label(part.variable);
  if (!part.level) {
    row.extra["var_type"] = v && v->numeric_boolean ? "dichotomous" : "continuous";
  } else {
    row.extra["var_type"] = v && v->levels.size() == 2 ? "dichotomous" : "categorical";
  }
}

// Inserts the reference row of each categorical variable of the model rows
// of one section and stratum, before the variable's first level row.
void AddReferenceRows(const VariableLabels& labels, std::vector<ResultRow>& rows) {
  std::vector<ResultRow> out;
  out.reserve(rows.size());
  std::set<std::string> done;  // section \x1f stratum \x1f variable
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const ResultRow& r = rows[i];
    const std::string type = Text(r.extra, "var_type");
    const std::string variable = Text(r.extra, "variable");
    const bool level_row = IsModelSection(r.section) && (type == "categorical" || type == "dichotomous") &&
                           !(r.extra.contains("reference_row") && r.extra["reference_row"] == true);
    const VariableLabels::Variable* v = labels.Find(variable);
    if (level_row && v && !v->numeric_boolean &&
        done.insert(r.section + '\x1f' + r.stratum + '\x1f' + variable).second) {
      std::set<std::string> present;
      for (const ResultRow& other : rows) {
        if (other.section == r.section && other.stratum == r.stratum && Text(other.extra, "variable") == variable &&
            other.term.size() > variable.size()) {
          present.insert(other.term.substr(variable.size()));
        }
      }
      std::vector<std::string> missing;
      for (const std::string& level : v->levels) {
        if (!present.count(level)) missing.push_back(level);
      }
      // Unused levels leave the model too; then which one is the reference
      // is not certain, and no row is better than a wrong one.
      if (missing.size() == 1) {
        ResultRow ref;
        ref.section = r.section;
        ref.stratum = r.stratum;
        ref.term = variable + missing.front();
        ref.label = labels.LevelLabel(variable, missing.front());
        ref.extra["variable"] = variable;
        ref.extra["var_label"] = labels.Label(variable);
        ref.extra["var_type"] = type;
        ref.extra["reference_row"] = true;
        if (r.extra.contains("stratum_label")) ref.extra["stratum_label"] = r.extra["stratum_label"];
        out.push_back(std::move(ref));
      }
    }
    out.push_back(r);
  }
  rows = std::move(out);
}

std::string StratumLabel(const VariableLabels& labels, const std::string& stratum) {
  const auto eq = stratum.find('=');
  if (eq == std::string::npos) return stratum;
  const std::string variable = stratum.substr(0, eq);
  return fmt::format("{} = {}", labels.Label(variable), labels.LevelLabel(variable, stratum.substr(eq + 1)));
}

}  // namespace

void ApplyLabels(const VariableLabels& labels, const nlohmann::ordered_json& parameters, AnalysisResultSet& result) {
  auto parameter = [&](const char* key) -> std::string {
    return parameters.is_object() && parameters.contains(key) && parameters[key].is_string()
               ? parameters[key].get<std::string>()
               : std::string();
  };
  const std::string group = parameter("group");
  const std::string by = parameter("by");
  for (ResultRow& row : result.rows) {
    if (IsModelSection(row.section)) {
      LabelModelRow(labels, row);
    } else if (row.section == "table1") {
      const std::string summary = Text(row.extra, "summary");
      if (summary == "n") {
        row.label = row.term;  // "n"
      } else if (summary == "n (%)") {
        const std::string variable = Text(row.extra, "variable");
        row.label = labels.LevelLabel(variable, Text(row.extra, "level"));
        row.extra["var_label"] = labels.Label(variable);
        const VariableLabels::Variable* v = labels.Find(variable);
        const std::string level = Text(row.extra, "level");
        // describe shows a 0/1 numeric column as levels "0" and "1".
        const bool zero_one = (level == "0" || level == "1") && (!v || v->levels.empty() || v->numeric_boolean);
        if (zero_one || (v && v->boolean && v->levels.size() == 2)) {
          // gtsummary's dichotomous type: one row, the second level's (1, Yes, Checked).
          row.extra["var_type"] = "dichotomous";
          row.extra["dichotomous_level"] = zero_one ? std::string("1") : v->levels[1];
        } else {
          row.extra["var_type"] = "categorical";
        }
      } else {
        row.label = labels.Label(row.term);
        row.extra["var_type"] = "continuous";
      }
      if (!group.empty() && row.extra.contains("group")) {
        row.extra["group_label"] = labels.LevelLabel(group, Text(row.extra, "group"));
      }
    } else if (row.section == "correlations") {
      const std::string x = Text(row.extra, "x"), y = Text(row.extra, "y");
      row.extra["x_label"] = labels.Label(x);
      row.extra["y_label"] = labels.Label(y);
      row.label = fmt::format("{} ~ {}", labels.Label(x), labels.Label(y));
    } else if (row.section == "prevalence") {
      const std::string category = parameter("category");
      row.label = labels.LevelLabel(category, Text(row.extra, "level"));
      row.extra["variable"] = category;
      row.extra["var_label"] = labels.Label(category);
    } else if (row.section == "tests" && labels.Find(row.term)) {
      row.label = labels.Label(row.term);
    } else if (row.section == "tests" && !parameter("outcome").empty() && !parameter("category").empty()) {
      // prevalence: "cbp by met_min_week_cat", "cbp trend over met_min_week_cat"
      const std::string outcome = parameter("outcome"), category = parameter("category");
      for (const char* joint : {" by ", " trend over "}) {
        if (row.term == outcome + joint + category)
          row.label = labels.Label(outcome) + joint + labels.Label(category);
      }
    } else if (row.section == "interaction") {
      if (!by.empty() && row.term == fmt::format("predictors x {}", by)) {
        row.label = fmt::format("predictors x {}", labels.Label(by));
      } else if (const auto parts = labels.SplitTerm(row.term)) {
        std::vector<std::string> names;
        for (const auto& p : *parts) names.push_back(labels.Label(p.variable));
        row.label = fmt::format("{}", fmt::join(names, " * "));
      }
    }
    if (!row.stratum.empty()) row.extra["stratum_label"] = StratumLabel(labels, row.stratum);
  }
  AddReferenceRows(labels, result.rows);
  for (const char* role : {"outcome", "treatment"}) {
    std::string name = parameter(role);
    if (name.empty() && result.summary.contains(role) && result.summary[role].is_string())
      name = result.summary[role].get<std::string>();  // a --formula's outcome
    if (name.empty() && std::string(role) == "outcome") {  // else the left side of the formula: "cbp ~ sex"
      const std::string formula = parameter("formula");
      const auto tilde = formula.find('~');
      if (tilde != std::string::npos && labels.Find(Trimmed(formula.substr(0, tilde))))
        name = Trimmed(formula.substr(0, tilde));
    }
    if (name.empty()) continue;
    std::string label = labels.Label(name);
    if (!labels.Find(name)) {
      if (const auto threshold = ParseThreshold(name))  // "pain_nrs>=4": the variable's label, the threshold
        label = fmt::format("{} {} {:g}", labels.Label(threshold->variable), threshold->op, threshold->value);
    }
    result.diagnostics[std::string(role) + "_label"] = label;
  }
}

std::string PlotSvg(const AnalysisResultSet& result, bool codes) {
  if (!codes || !result.plot_renderer || result.plot_svg.empty()) return result.plot_svg;
  AnalysisResultSet coded = result;
  for (ResultRow& row : coded.rows) {
    row.label.clear();
    const auto variable = row.extra.find("variable");
    if (variable != row.extra.end() && variable->is_string()) {
      row.extra["var_label"] = *variable;
    } else {
      row.extra.erase("var_label");
    }
  }
  coded.diagnostics.erase("outcome_label");
  return coded.plot_renderer(coded);
}

}  // namespace cohortdb::analysis
