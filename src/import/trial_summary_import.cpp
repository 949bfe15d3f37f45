// ImportSession::ImportTrialSummary: files with one row per trial, outcome and
// arm (n, mean, sd or events; trial year, duration and attributes) feeding
// meta_trial and meta_arm_summary. A trial's year, duration and attributes
// may repeat on each of its rows; a row that contradicts what the store
// holds for the trial is an error unless --replace. A row is checked
// against the store before anything of it is written.
#include <algorithm>

#include <fmt/format.h>

#include "common/error.h"
#include "import/csv_reader.h"
#include "import/import_session.h"
#include "import/message_text.h"
#include "import/value_parser.h"

namespace cohortdb {

void ImportSession::ImportTrialSummary(CsvReader& reader, const std::vector<std::string>& header,
                                       FileImportReport& report) {
  const TrialSummarySpec& ts = spec_.trial_summary;
  constexpr std::size_t kNone = static_cast<std::size_t>(-1);
  std::vector<bool> used(header.size(), false);
  bool header_ok = true;
  auto column = [&](const std::string& name, bool required) -> std::size_t {
    if (name.empty()) return kNone;
    for (std::size_t i = 0; i < header.size(); ++i) {
      if (header[i] == name) {
        used[i] = true;
        return i;
      }
    }
    if (required) {
      AddError(1, 0, fmt::format("expected the column '{}' named in [trial_summary], found no such column in the header", name));
      header_ok = false;
    }
    return kNone;
  };
  const std::size_t trial = column(ts.trial, true), year = column(ts.year, true),
                    duration = column(ts.duration_weeks, true), outcome = column(ts.outcome, true),
                    arm = column(ts.arm, true), n = column(ts.n, true), mean = column(ts.mean, ts.events.empty()),
                    sd = column(ts.sd, ts.events.empty()), events = column(ts.events, true);
  std::vector<std::pair<std::size_t, std::string>> attributes;
  for (const auto& a : ts.attributes) {
    std::size_t i = column(a, true);
    if (i != kNone) attributes.emplace_back(i, a);
  }
  for (const auto& name : spec_.ignore) column(name, false);
  for (std::size_t i = 0; i < header.size(); ++i) {
    if (!used[i]) {
      AddError(1, i + 1, fmt::format("unknown column '{}': expected a column named in [trial_summary] (or attributes, "
                                     "or ignore)", header[i]));
      header_ok = false;
    }
  }
  if (!header_ok) return;

  std::vector<RowError> row_errors;
  std::vector<std::pair<std::size_t, std::string_view>> attribute_values;  // (column, text) of one row
  for (const CsvRecord* rec = reader.Next(); rec != nullptr; rec = reader.Next()) {
    ++report.rows_read;
    const CsvRecord& r = *rec;
    row_errors.clear();
    if (r.size() != header.size()) {
      row_errors.push_back({std::min(r.size(), header.size()) + 1,
                            fmt::format("expected {} fields as in the header, found {}", header.size(), r.size())});
    } else if (!r.problem().empty()) {
      row_errors.push_back({r.problem_column(), r.problem()});
    }
    std::string_view label, outcome_name;
    std::string arm_value;
    std::optional<std::int64_t> year_value, n_value, events_value;
    std::optional<double> duration_value, mean_value, sd_value;
    if (row_errors.empty()) {
      auto number = [&](std::size_t col, const char* what, bool integer, double min, std::optional<double>* out_d,
                        std::optional<std::int64_t>* out_i) {
        if (col == kNone) return;
        std::string_view cell = Trim(r[col]);
        if (cell.empty() || std::find(spec_.missing.begin(), spec_.missing.end(), cell) != spec_.missing.end()) return;
        if (integer) {
          auto v = ParseInteger(cell);
          if (!v || static_cast<double>(*v) < min) {
            row_errors.push_back({col + 1, fmt::format("expected {} (a whole number >= {}), found '{}'", what, min, cell)});
          } else {
            *out_i = *v;
          }
        } else {
          auto v = ParseNumber(cell);
          if (!v || *v < min) {
            row_errors.push_back({col + 1, fmt::format("expected {} (a number >= {}), found '{}'", what,
                                                       FormatNumber(min), cell)});
          } else {
            *out_d = *v;
          }
        }
      };
      label = Trim(r[trial]);
      if (label.empty()) row_errors.push_back({trial + 1, "expected a trial label, found an empty field"});
      outcome_name = Trim(r[outcome]);
      if (outcome_name.empty()) row_errors.push_back({outcome + 1, "expected an outcome name, found an empty field"});
      std::string_view arm_raw = Trim(r[arm]);
      auto code = ts.arm_codes.find(std::string(arm_raw));
      arm_value = code != ts.arm_codes.end() ? code->second : AsciiLower(arm_raw);
      if (arm_value != "treatment" && arm_value != "control") {
        row_errors.push_back({arm + 1, fmt::format("expected the arm treatment or control (or a code of "
                                                   "[trial_summary] arm_codes), found '{}'", arm_raw)});
      }
      number(year, "a year", true, 1900, nullptr, &year_value);
      number(duration, "a duration in weeks", false, 1e-9, &duration_value, nullptr);
      number(n, "the arm size n", true, 1, nullptr, &n_value);
      number(mean, "a mean", false, -1e300, &mean_value, nullptr);
      number(sd, "a standard deviation", false, 0, &sd_value, nullptr);
      number(events, "an event count", true, 0, nullptr, &events_value);
      if (!n_value && n != kNone && Trim(r[n]).empty()) row_errors.push_back({n + 1, "expected the arm size n, found an empty field"});
      if (year_value && *year_value > 2100) row_errors.push_back({year + 1, fmt::format("expected a year up to 2100, found {}", *year_value)});
      if (events_value && n_value && *events_value > *n_value) {
        row_errors.push_back({events + 1, fmt::format("expected events <= n ({}), found {}", *n_value, *events_value)});
      }
      if (row_errors.empty() && !(mean_value && sd_value) && !events_value) {
        row_errors.push_back({mean != kNone ? mean + 1 : 0, "expected a mean and a standard deviation (or events), found none"});
      }
    }
    // The row's attributes, as delivered (a missing cell has none).
    attribute_values.clear();
    if (row_errors.empty()) {
      for (const auto& [col, name] : attributes) {
        std::string_view value = Trim(r[col]);
        if (value.empty() ||
            std::find(spec_.missing.begin(), spec_.missing.end(), value) != spec_.missing.end()) {
          continue;
        }
        attribute_values.emplace_back(col, value);
      }
    }
    // What the store holds for the trial (from earlier imports or earlier
    // rows of this file): a value the row contradicts is an error unless
    // --replace, and the (trial, outcome, arm) row must be new to this file
    // and, unless --replace, to the store.
    std::optional<ImportWriter::MetaTrial> held;
    if (row_errors.empty()) held = writer_.FindMetaTrial(study_id_, label);
    if (held) {
      auto conflict = [&](std::size_t col, std::string_view what, const std::string& old_value,
                          std::string_view new_value) {
        row_errors.push_back(
            {col + 1, fmt::format("expected {} {} for trial {} as loaded before, found {} (use "
                                  "--replace to overwrite)",
                                  what, Quoted(old_value), Quoted(label), Quoted(new_value))});
      };
      if (!options_.replace) {
        if (year_value && held->year && *year_value != *held->year) {
          conflict(year, "year", std::to_string(*held->year), std::to_string(*year_value));
        }
        if (duration_value && held->duration_weeks && *duration_value != *held->duration_weeks) {
          conflict(duration, "duration in weeks", FormatNumber(*held->duration_weeks),
                   FormatNumber(*duration_value));
        }
        for (const auto& [col, value] : attribute_values) {
          for (const auto& [name, old_value] : held->attributes) {
            if (name == header[col] && old_value != value) conflict(col, name, old_value, value);
          }
        }
      }
      if (auto holder = writer_.ArmSummaryBatch(held->trial_id, outcome_name, arm_value)) {
        if (*holder == batch_id_) {
          row_errors.push_back(
              {outcome + 1, fmt::format("expected one row per trial, outcome and arm, found a second "
                                        "row for trial {}, outcome {}, arm {} in this file",
                                        Quoted(label), Quoted(outcome_name), arm_value)});
        } else if (!options_.replace) {
          row_errors.push_back(
              {outcome + 1, fmt::format("expected one row per trial, outcome and arm, found trial {}, "
                                        "outcome {}, arm {} already loaded by batch {} (use --replace "
                                        "to overwrite it)",
                                        Quoted(label), Quoted(outcome_name), arm_value, *holder)});
        }
      }
    }
    if (!row_errors.empty()) {
      RejectRow(r, header, row_errors);
      ++report.rows_rejected;
      if (ErrorLimitReached()) return;
      continue;
    }
    // Attributes are kept as JSON strings: the delivered text, never a
    // number ("007" and "1e3" stay as written).
    std::string attrs;
    for (const auto& [col, value] : attribute_values) {
      attrs += attrs.empty() ? "{" : ",";
      attrs += JsonQuote(header[col]) + ":" + JsonQuote(value);
    }
    if (!attrs.empty()) attrs += "}";
    std::int64_t trial_id =
        writer_.UpsertMetaTrial(study_id_, label, year_value, duration_value, attrs, batch_id_);
    writer_.InsertArmSummary(trial_id, outcome_name, arm_value, *n_value, mean_value, sd_value, events_value,
                             batch_id_, options_.replace);
    ++report.values;
    ++report.rows_loaded;
    // Numbers written other than plainly ("+62", "4.7e0", " 59") are counted
    // as normalised, as in record files.
    for (auto [col, integer] : {std::pair{year, true}, std::pair{duration, false}, std::pair{n, true},
                                std::pair{mean, false}, std::pair{sd, false}, std::pair{events, true}}) {
      if (col == kNone) continue;
      std::string_view cell = Trim(r[col]);
      if (cell.empty() || std::find(spec_.missing.begin(), spec_.missing.end(), cell) != spec_.missing.end()) continue;
      if (!IsPlainNumber(r[col], '.', integer)) NoteNormalised(report, r.line(), col + 1, r[col]);
    }
  }
}

}  // namespace cohortdb
