#include "store/frame_source.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "common/error.h"
#include "store/catalog.h"
#include "store/store.h"

namespace cohortdb {
namespace {

bool IsIdentifier(const std::string& text) {
  if (text.empty() || !(std::isalpha(static_cast<unsigned char>(text[0])) || text[0] == '_')) return false;
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

// Without trailing blanks and semicolons; the start is kept, so error
// positions count lines and columns in the text as the user wrote it.
std::string TrimTrailing(std::string sql) {
  while (!sql.empty() && (std::isspace(static_cast<unsigned char>(sql.back())) || sql.back() == ';'))
    sql.pop_back();
  return sql;
}

std::string TrimStatement(std::string sql) {
  sql = TrimTrailing(std::move(sql));
  std::size_t start = 0;
  while (start < sql.size() && std::isspace(static_cast<unsigned char>(sql[start]))) ++start;
  return sql.substr(start);
}

std::int64_t RequireStudy(Store& store, const std::string& study) {
  const auto id = FindStudy(store, study);
  if (!id) {
    std::string known;
    for (const auto& row : store.Query("SELECT code FROM study ORDER BY code").rows) {
      known += (known.empty() ? "" : ", ") + std::get<std::string>(row[0]);
    }
    throw InputError(
        fmt::format("unknown study '{}' (the store has: {})", study, known.empty() ? "none" : known));
  }
  return *id;
}

std::optional<double> OptionalReal(const SqlValue& v) {
  if (const auto* d = std::get_if<double>(&v)) return *d;
  if (const auto* i = std::get_if<std::int64_t>(&v)) return static_cast<double>(*i);
  return std::nullopt;
}

std::optional<std::int64_t> OptionalInt(const SqlValue& v) {
  if (const auto* i = std::get_if<std::int64_t>(&v)) return *i;
  if (const auto* d = std::get_if<double>(&v)) return static_cast<std::int64_t>(*d);
  return std::nullopt;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

std::optional<FrameProjection> ParseFrameProjection(std::string_view sql) {
  std::vector<std::pair<char, std::string>> tokens;  // 'i' identifier, 'q' quoted identifier, or the punctuation
  for (std::size_t i = 0; i < sql.size();) {
    const unsigned char ch = static_cast<unsigned char>(sql[i]);
    if (std::isspace(ch)) {
      ++i;
    } else if (std::isalpha(ch) || ch == '_') {
      std::size_t j = i;
      while (j < sql.size() && (std::isalnum(static_cast<unsigned char>(sql[j])) || sql[j] == '_')) ++j;
      tokens.emplace_back('i', std::string(sql.substr(i, j - i)));
      i = j;
    } else if (ch == '"') {
      const std::size_t close = sql.find('"', i + 1);
      if (close == std::string_view::npos || close == i + 1) return std::nullopt;
      if (close + 1 < sql.size() && sql[close + 1] == '"') return std::nullopt;  // an escaped quote
      tokens.emplace_back('q', std::string(sql.substr(i + 1, close - i - 1)));
      i = close + 1;
    } else if (ch == ',' || ch == '*' || ch == ';') {
      tokens.emplace_back(static_cast<char>(ch), std::string());
      ++i;
    } else {
      return std::nullopt;
    }
  }
  if (!tokens.empty() && tokens.back().first == ';') tokens.pop_back();
  const auto keyword = [&](std::size_t t, std::string_view word) {
    return t < tokens.size() && tokens[t].first == 'i' && EqualsIgnoreCase(tokens[t].second, word);
  };
  const auto name = [&](std::size_t t) {
    if (t >= tokens.size()) return false;
    if (tokens[t].first == 'q') return true;
    if (tokens[t].first != 'i') return false;
    for (const char* reserved : {"select", "from", "as", "distinct", "all", "where", "group", "order", "limit",
                                 "union", "join", "natural", "left", "cross", "inner", "values", "with"}) {
      if (EqualsIgnoreCase(tokens[t].second, reserved)) return false;
    }
    return true;
  };
  FrameProjection out;
  std::size_t t = 0;
  if (!keyword(t++, "select")) return std::nullopt;
  if (t < tokens.size() && tokens[t].first == '*') {
    out.all = true;
    ++t;
  } else {
    for (;;) {
      if (!name(t)) return std::nullopt;
      std::string column = tokens[t++].second;
      std::string output = column;
      if (keyword(t, "as")) {
        ++t;
        if (!name(t)) return std::nullopt;
        output = tokens[t++].second;
      } else if (name(t)) {
        output = tokens[t++].second;
      }
      out.items.emplace_back(std::move(output), std::move(column));
      if (t < tokens.size() && tokens[t].first == ',') {
        ++t;
        continue;
      }
      break;
    }
  }
  if (!keyword(t++, "from") || !name(t)) return std::nullopt;
  out.view = tokens[t++].second;
  if (t != tokens.size()) return std::nullopt;
  return out;
}

std::string FrameSelectSql(Store& store, const FrameSource& source) {
  if (source.frame.empty()) {
    if (source.study.empty())
      throw InputError("no frame: give --study (its pivot is the default frame) or --frame");
    RequireStudy(store, source.study);
    return WideSelectSql(store, source.study, false, source.censor_rule);
  }
  const std::string frame = TrimStatement(source.frame);
  if (!IsIdentifier(frame)) return TrimTrailing(source.frame);
  const auto found =
      store.Query("SELECT 1 FROM sqlite_schema WHERE type IN ('view', 'table') AND name = ?1", {frame});
  if (found.rows.empty()) {
    std::string views;
    for (const auto& row :
         store
             .Query("SELECT name FROM sqlite_schema WHERE type = 'view' AND name LIKE 'wide\\_%' "
                    "ESCAPE '\\' ORDER BY name")
             .rows) {
      views += (views.empty() ? "" : ", ") + std::get<std::string>(row[0]);
    }
    throw InputError(fmt::format("--frame: no view or table named '{}' (pivot views: {})", frame,
                                 views.empty() ? "none" : views));
  }
  return fmt::format("SELECT * FROM \"{}\"", frame);
}

QueryResult ReadFrame(Store& store, const FrameSource& source) {
  return store.GuardedQuery(FrameSelectSql(store, source));
}

std::vector<std::string> FrameColumns(Store& store, const FrameSource& source) {
  if (source.frame.empty() && !source.study.empty()) {
    // The pivot view has the columns of the default frame (whatever the censor
    // rule) and compiles without re-reading the catalog.
    const std::string view = "wide_" + source.study;
    const auto found = store.Query("SELECT 1 FROM sqlite_schema WHERE type = 'view' AND name = ?1", {view});
    if (!found.rows.empty() && FindStudy(store, source.study)) {
      return store.GuardedQuery(fmt::format("SELECT * FROM \"{}\" LIMIT 0", view)).columns;
    }
  }
  const std::string sql = FrameSelectSql(store, source);
  return store.GuardedColumns(sql, "--frame");
}

std::vector<std::string> ParticipantColumnLevels(Store& store, std::int64_t study_id, const std::string& column) {
  std::string sql;
  if (column == "site") {
    sql = "SELECT DISTINCT s.code FROM participant p JOIN site s ON s.site_id = p.site_id WHERE p.study_id = ?1";
  } else if (column == "sex" || column == "arm") {
    sql = fmt::format("SELECT DISTINCT {0} FROM participant WHERE study_id = ?1 AND {0} IS NOT NULL", column);
  } else {
    throw InputError(fmt::format("'{}' is not a participant column with levels (sex, arm, site)", column));
  }
  std::vector<std::string> out;
  for (const auto& row : store.Query(sql, {study_id}).rows) {
    if (const auto* text = std::get_if<std::string>(&row.at(0))) out.push_back(*text);
  }
  return out;
}

std::vector<LevelLabels> LoadLevelLabels(Store& store, const std::string& study) {
  std::vector<LevelLabels> out;
  const auto id = FindStudy(store, study);
  if (!id) return out;
  const std::vector<CatalogVisit> visits = LoadVisits(store, *id);
  for (const CatalogVariable& v : LoadVariables(store, *id)) {
    if (v.levels.empty()) continue;
    LevelLabels labels{v.code, {v.code, v.code + "_value"}, {}};
    for (const CatalogVisit& visit : visits) labels.columns.push_back(v.code + "_" + visit.code);
    for (const CatalogLevel& l : v.levels) labels.levels.emplace_back(l.level, l.label);
    std::sort(labels.levels.begin(), labels.levels.end());
    out.push_back(std::move(labels));
  }
  return out;
}

std::vector<MetaTrialArms> LoadMetaTrials(Store& store, const std::string& study,
                                          const std::string& outcome) {
  const std::int64_t study_id = RequireStudy(store, study);
  const auto rows = store.Query(
      "SELECT t.trial_id, t.label, t.year, t.duration_weeks, t.attributes, a.arm, a.n, a.mean, a.sd, "
      "a.events "
      "FROM meta_trial t JOIN meta_arm_summary a ON a.trial_id = t.trial_id "
      "WHERE t.study_id = ?1 AND a.outcome = ?2 ORDER BY t.year, t.label, t.trial_id, a.arm",
      {study_id, outcome});
  std::vector<MetaTrialArms> trials;
  std::int64_t last_id = -1;
  for (const auto& row : rows.rows) {
    const std::int64_t trial_id = std::get<std::int64_t>(row[0]);
    if (trial_id != last_id) {
      MetaTrialArms t;
      t.label = std::get<std::string>(row[1]);
      t.year = OptionalInt(row[2]);
      t.duration_weeks = OptionalReal(row[3]);
      if (const auto* s = std::get_if<std::string>(&row[4])) t.attributes = *s;
      trials.push_back(std::move(t));
      last_id = trial_id;
    }
    MetaTrialArms::Arm arm;
    arm.n = *OptionalInt(row[6]);
    arm.mean = OptionalReal(row[7]);
    arm.sd = OptionalReal(row[8]);
    arm.events = OptionalInt(row[9]);
    if (std::get<std::string>(row[5]) == "treatment") {
      trials.back().treatment = arm;
    } else {
      trials.back().control = arm;
    }
  }
  if (trials.empty()) {
    std::string known;
    for (const auto& row : store
                               .Query("SELECT DISTINCT a.outcome FROM meta_arm_summary a JOIN meta_trial t "
                                      "ON t.trial_id = a.trial_id WHERE t.study_id = ?1 ORDER BY 1",
                                      {study_id})
                               .rows) {
      known += (known.empty() ? "" : ", ") + std::get<std::string>(row[0]);
    }
    throw InputError(fmt::format("meta: study '{}' has no trial summaries for outcome '{}' (outcomes: {})",
                                 study, outcome, known.empty() ? "none" : known));
  }
  return trials;
}

}  // namespace cohortdb
