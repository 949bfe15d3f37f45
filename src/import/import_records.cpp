// ImportSession, the rows of record files (REDCap, long, wide): each data row
// is read (visit, participant attributes, values) and checked against what
// the session knows; then its participant and records are written. A row with
// any error writes nothing.
#include <algorithm>
#include <array>

#include <fmt/format.h>

#include "import/csv_reader.h"
#include "import/import_session.h"
#include "import/message_text.h"
#include "import/value_parser.h"
#include "store/catalog.h"

namespace cohortdb {
namespace {

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

void ImportSession::ImportRecords(CsvReader& reader, const std::vector<std::string>& header,
                                  FileImportReport& report) {
  std::int64_t errors_before = error_count_;
  ColumnPlan plan = PlanColumns(header);
  for (const auto& [col, field] : plan.extras) {
    std::array<int, 4>& slots = plan.extra_slots.emplace_back();
    for (std::size_t k = 0; k < slots.size(); ++k) slots[k] = ExtraSlot(static_cast<RecordKind>(k), field);
  }
  batch_kind_ = spec_.defines_participants && plan.record_kind != "mixed" ? "mixed" : plan.record_kind;
  if (error_count_ > errors_before) return;  // header problems: the rows cannot be read
  std::vector<RowError> row_errors;
  std::vector<PendingRecord> pending;
  std::vector<bool> supersede;
  std::string visit_key;
  // How many rows ahead the participant of a row is prefetched: its table
  // slot kPrefetchRows ahead, then its entry half as far ahead.
  constexpr std::size_t kPrefetchRows = 16;
  for (const CsvRecord* rec = reader.Next(); rec != nullptr; rec = reader.Next()) {
    for (int stage = 0; stage < 2; ++stage) {
      const CsvRecord* ahead = reader.Peek(stage == 0 ? kPrefetchRows : kPrefetchRows / 2);
      if (ahead != nullptr && plan.participant < ahead->size()) {
        participants_.Prefetch(Trim((*ahead)[plan.participant]), stage);
      }
    }
    ++report.rows_read;
    if ((report.rows_read & 0x3FFF) == 0) Progress(reader, report.rows_read, false);
    row_errors.clear();
    pending.clear();
    row_created_sites_.clear();
    row_created_visits_.clear();
    const CsvRecord& r = *rec;
    if (r.size() != header.size()) {
      row_errors.push_back({std::min(r.size(), header.size()) + 1,
                            fmt::format("expected {} fields as in the header, found {}", header.size(), r.size())});
    } else if (!r.problem().empty()) {
      row_errors.push_back({r.problem_column(), r.problem()});
    }
    ParticipantState* participant = nullptr;
    std::string_view external_id;
    std::optional<std::int64_t> visit_id;
    ParticipantAttributes attrs;
    if (row_errors.empty()) {
      external_id = Trim(r[plan.participant]);
      if (external_id.empty()) {
        row_errors.push_back({plan.participant + 1, fmt::format("expected a participant id in column {}, found an "
                                                                 "empty field",
                                                                 Quoted(header[plan.participant]))});
      }
      visit_id = ReadVisit(r, plan, visit_key, row_errors);
      attrs = ReadAttributes(r, plan, row_errors);
      ReadValues(r, plan, header, pending, row_errors);
      // Looked up after validation so a rejected row creates nothing.
      if (!external_id.empty()) participant = FindParticipant(r, plan, external_id, attrs, row_errors);
    }
    // Every check runs before anything of the row is written, so that a
    // rejected row (kept by --quarantine) changes nothing in the store.
    if (row_errors.empty()) {
      if (auto failure = CheckRecords(plan, participant, external_id, visit_id, visit_key, pending, supersede)) {
        row_errors.push_back(*failure);
      }
    }
    if (row_errors.empty()) {
      ParticipantState& stored = StoreParticipant(participant, external_id, attrs, report);
      if (external_id.size() != r[plan.participant].size()) {
        NoteNormalised(report, r.line(), plan.participant + 1, r[plan.participant]);
      }
      if (spec_.shape == FileShape::kLong && Trim(r[plan.variable]).size() != r[plan.variable].size()) {
        NoteNormalised(report, r.line(), plan.variable + 1, r[plan.variable]);
      }
      WriteRecords(r, plan, stored, visit_id, pending, supersede, report);
      report.values += static_cast<std::int64_t>(pending.size());
      ++report.rows_loaded;
      continue;
    }
    ForgetRowCatalog();
    RejectRow(r, header, row_errors);
    ++report.rows_rejected;
    if (ErrorLimitReached()) return;
  }
}

std::optional<std::int64_t> ImportSession::ReadVisit(const CsvRecord& r, const ColumnPlan& plan, std::string& visit_key,
                                                     std::vector<RowError>& row_errors) {
  std::optional<std::int64_t> visit_id;
  visit_key.clear();
  if (!spec_.fixed_visit.empty()) {
    visit_id = VisitId(spec_.fixed_visit);
    if (!visit_id) {
      visit_id = CreateVisit(store_, study_id_, spec_.fixed_visit, "", ++max_visit_order_, std::nullopt);
      visits_[spec_.fixed_visit] = *visit_id;
      row_created_visits_.emplace_back(spec_.fixed_visit, *visit_id);
    }
  } else {
    // The visit key: the visit column's value, with "#<instance>" appended
    // on REDCap repeat rows; a flat REDCap export (no event column) keys its
    // repeat rows "#<instance>" alone. Rows of a flat export without a repeat
    // instance have no visit.
    const bool repeat = plan.repeat_instance != ColumnPlan::kNone && !Trim(r[plan.repeat_instance]).empty();
    if (plan.visit == ColumnPlan::kNone && !repeat) return visit_id;
    // A repeat row's key is the instance's doing: errors point at that column.
    std::size_t column = plan.visit != ColumnPlan::kNone && !repeat ? plan.visit
                         : repeat                                    ? plan.repeat_instance
                                                                     : plan.visit;
    if (plan.visit != ColumnPlan::kNone) visit_key.assign(Trim(r[plan.visit]));
    if (repeat) {
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
        row_errors.push_back({column + 1, fmt::format("expected a visit of the visit map ({}), found {}", keys,
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
        if (!valid && repeat) {
          row_errors.push_back(
              {column + 1, fmt::format("expected a [visit] map entry for the repeat rows, found the key {} (a "
                                       "repeating instrument or event row is keyed '<event>#<instance>', or "
                                       "'#<instance>' in a flat export: map it, e.g. \"{}\" = \"visit{}\")",
                                       Quoted(visit_key), visit_key, Trim(r[plan.repeat_instance]))});
        } else if (!valid) {
          row_errors.push_back({column + 1, fmt::format("expected a visit code (a-z first, then a-z, 0-9 and _; at most "
                                                        "32 characters) or a [visit] map entry, found {}",
                                                        Quoted(code))});
        } else {
          visit_id = CreateVisit(store_, study_id_, code, "", ++max_visit_order_, std::nullopt);
          visits_[code] = *visit_id;
          row_created_visits_.emplace_back(code, *visit_id);
        }
      }
    }
  }
  return visit_id;
}

ParticipantAttributes ImportSession::ReadAttributes(const CsvRecord& r, const ColumnPlan& plan,
                                                    std::vector<RowError>& row_errors) {
  ParticipantAttributes attrs;
  // An attribute cell holding one of the file's missing codes is empty, as
  // for every other column.
  const auto cell = [&](std::size_t col) {
    std::string_view s = Trim(r[col]);
    return std::find(spec_.missing.begin(), spec_.missing.end(), s) == spec_.missing.end() ? s : std::string_view();
  };
  if (plan.site != ColumnPlan::kNone) {
    std::string_view s = cell(plan.site);
    if (!s.empty()) attrs.site_id = SiteId(s);
  }
  if (plan.sex != ColumnPlan::kNone) {
    std::string_view s = cell(plan.sex);
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
    std::string_view s = cell(plan.age);
    if (!s.empty()) {
      auto age = ParseNumber(s);
      if (!age || *age < 0 || *age >= 130) {
        row_errors.push_back({plan.age + 1, fmt::format("expected an age in years from 0 to 129, found {}", Quoted(s))});
      } else {
        attrs.age_years = *age;
      }
    }
  }
  if (plan.birth_year != ColumnPlan::kNone) {
    std::string_view s = cell(plan.birth_year);
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
    std::string_view s = cell(plan.arm);
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
  return attrs;
}

void ImportSession::ReadValues(const CsvRecord& r, const ColumnPlan& plan, const std::vector<std::string>& header,
                               std::vector<PendingRecord>& pending, std::vector<RowError>& row_errors) {
  if (spec_.shape == FileShape::kLong) {
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
      p.column = plan.value + 1;
      std::string_view unit = plan.unit != ColumnPlan::kNone ? r[plan.unit] : std::string_view();
      if (!Trim(unit).empty()) p.source_unit = unit;
      else if (!rv->source_unit.empty()) p.source_unit = rv->source_unit;
      if (auto err = Convert(*rv, p.source_value, unit, p.converted)) {
        row_errors.push_back(MissingUnitError(*rv, plan.value + 1, *err, 0));
      } else {
        pending.push_back(p);
      }
    }
  } else {
    std::vector<FormState>& forms = form_states_;
    FormStates(r, plan, row_errors, forms);
    for (std::size_t k = 0; k < plan.values.size(); ++k) {
      const auto& [col, rv] = plan.values[k];
      std::string_view cell = r[col];
      if (IsMissing(*rv, cell)) continue;
      // A form not collected at this event stores nothing: REDCap exports
      // its checkboxes as 0 on every row of the record.
      const int form = k < plan.value_form.size() ? plan.value_form[k] : -1;
      const FormState state = form >= 0 ? forms[static_cast<std::size_t>(form)] : FormState::kCollected;
      if (state != FormState::kCollected && plan.value_checkbox[k] && Trim(cell) == "0") continue;
      if (state == FormState::kNotDesignated) {
        row_errors.push_back({col + 1, fmt::format("column {}: expected no value, as form '{}' is not collected at event {} "
                                                   "([redcap] {}), found {}",
                                                   Quoted(header[col]), plan.forms[static_cast<std::size_t>(form)].first,
                                                   Quoted(Trim(r[plan.visit])),
                                                   spec_.instrument_events.empty() ? "events" : "instrument_events",
                                                   Quoted(Trim(cell)))});
        continue;
      }
      PendingRecord p;
      p.variable = rv;
      p.source_value = cell;
      p.column = col + 1;
      if (!rv->source_unit.empty()) p.source_unit = rv->source_unit;
      if (auto err = Convert(*rv, cell, {}, p.converted)) {
        const std::string prefix = fmt::format("column {}: ", Quoted(header[col]));
        row_errors.push_back(MissingUnitError(*rv, col + 1, prefix + *err, prefix.size()));
      } else {
        pending.push_back(p);
      }
    }
  }
}

ImportSession::ParticipantState* ImportSession::FindParticipant(const CsvRecord& r, const ColumnPlan& plan,
                                                               std::string_view external_id,
                                                               const ParticipantAttributes& attrs,
                                                               std::vector<RowError>& row_errors) {
  ParticipantState* participant = nullptr;
  if (!external_id.empty()) {
    participant = participants_.Find(external_id);
    if (participant == nullptr && !spec_.defines_participants) {
      row_errors.push_back({plan.participant + 1,
                            fmt::format("expected a participant of study '{}', found unknown participant {} (import the "
                                        "file that defines participants first, or set defines_participants = true)",
                                        spec_.study, Quoted(external_id))});
    }
    if (participant != nullptr) {
      static const ParticipantAttributes kUnknown;
      const ParticipantAttributes& have = participant->attributes ? *participant->attributes : kUnknown;
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
  return participant;
}

ImportSession::ParticipantState& ImportSession::StoreParticipant(ParticipantState* participant,
                                                                std::string_view external_id,
                                                                const ParticipantAttributes& attrs,
                                                                FileImportReport& report) {
  if (participant == nullptr) {
    const std::int64_t id = next_participant_id_++;
    writer_.QueueParticipant(id, study_id_, external_id, attrs, batch_id_);
    participant = &participants_.Insert(external_id, ParticipantState{.id = id, .attributes = KeepAttributes(attrs)});
    ++report.participants_created;
  } else if (!attrs.empty()) {
    if (!participant->attributes) participant->attributes = std::make_unique<ParticipantAttributes>();
    ParticipantAttributes& have = *participant->attributes;
    ParticipantAttributes update;
    bool changed = false;
    if (!attrs.sex.empty() && attrs.sex != have.sex) { update.sex = attrs.sex; have.sex = attrs.sex; changed = true; }
    if (!attrs.arm.empty() && attrs.arm != have.arm) { update.arm = attrs.arm; have.arm = attrs.arm; changed = true; }
    if (attrs.age_years && attrs.age_years != have.age_years) { update.age_years = attrs.age_years; have.age_years = attrs.age_years; changed = true; }
    if (attrs.birth_year && attrs.birth_year != have.birth_year) { update.birth_year = attrs.birth_year; have.birth_year = attrs.birth_year; changed = true; }
    if (attrs.site_id && attrs.site_id != have.site_id) { update.site_id = attrs.site_id; have.site_id = attrs.site_id; changed = true; }
    if (changed) writer_.UpdateParticipant(participant->id, update);
  }
  return *participant;
}

std::optional<ImportSession::RowError> ImportSession::CheckRecords(
    const ColumnPlan& plan, ParticipantState* participant, std::string_view external_id,
    std::optional<std::int64_t> visit_id, const std::string& visit_key, const std::vector<PendingRecord>& pending,
    std::vector<bool>& supersede) {
  supersede.assign(pending.size(), false);
  const std::int64_t visit_slot = visit_id.value_or(0);
  // Only a message needs it: built then, not for every row.
  const auto visit_text = [&]() -> std::string {
    return visit_id ? fmt::format("visit {}", Quoted(visit_key.empty() ? spec_.fixed_visit : visit_key)) : "no visit";
  };
  const auto column_of = [&](const PendingRecord& p) {
    if (spec_.shape == FileShape::kLong) return plan.variable + 1;
    std::size_t col = 0;
    for (const auto& [c, rv] : plan.values) {
      if (rv == p.variable) col = c + 1;  // the variable's last column: the one that repeats it
    }
    return col;
  };
  const auto second_value = [&](const PendingRecord& p, std::string_view where) {
    return RowError{column_of(p), fmt::format("expected one value per participant, visit and variable, found a second "
                                              "value for participant {}, {}, variable '{}' {}",
                                              Quoted(external_id), visit_text(), p.variable->catalog.code, where)};
  };
  // Two cells of the row for one variable (two checkbox codes or columns
  // mapped to it).
  ++row_stamp_;
  if (row_seen_.size() < variables_.size()) row_seen_.resize(variables_.size(), 0);
  for (const PendingRecord& p : pending) {
    std::uint64_t& stamp = row_seen_[p.variable->index];
    if (stamp == row_stamp_) return second_value(p, "in this row");
    stamp = row_stamp_;
  }
  if (participant == nullptr) return std::nullopt;  // a new participant holds nothing yet
  bool flushed = false;
  for (std::size_t i = 0; i < pending.size(); ++i) {
    const PendingRecord& p = pending[i];
    const RecordKind kind = p.variable->kind;
    const std::int64_t variable_id = p.variable->catalog.id;
    std::int64_t holder_batch = 0;
    if (Seen(*participant, visit_slot, *p.variable)) {
      // This command loaded the key; the store can tell which of its files
      // once the queues are written.
      if (!flushed) writer_.FlushRecords();
      flushed = true;
      holder_batch = writer_.CurrentRecordBatch(kind, participant->id, visit_id, variable_id);
    } else if (p.variable->has_current_records) {
      // Not loaded by this command, so not queued: only an earlier import
      // can hold it.
      holder_batch = writer_.CurrentRecordBatch(kind, participant->id, visit_id, variable_id);
    }
    if (holder_batch == 0) continue;
    if (holder_batch == batch_id_) return second_value(p, "in this file");
    if (!options_.replace) {
      return RowError{column_of(p), fmt::format("expected a new value, found participant {}, {}, variable '{}' already "
                                                "loaded by batch {} (use --replace to supersede it)",
                                                Quoted(external_id), visit_text(), p.variable->catalog.code, holder_batch)};
    }
    supersede[i] = true;
  }
  return std::nullopt;
}

void ImportSession::WriteRecords(const CsvRecord& r, const ColumnPlan& plan, ParticipantState& participant,
                                 std::optional<std::int64_t> visit_id, const std::vector<PendingRecord>& pending,
                                 const std::vector<bool>& supersede, FileImportReport& report) {
  // Metadata and kind-specific fields shared by the row's records.
  std::string metadata;
  auto add_meta = [&](std::string_view key, std::string_view value) {
    metadata += metadata.empty() ? "{" : ",";
    metadata += JsonQuote(key);
    metadata += ':';
    metadata += JsonQuote(value);
  };
  // A repeating instrument has both; a repeating event only the instance.
  if (plan.repeat_instrument != ColumnPlan::kNone && !Trim(r[plan.repeat_instrument]).empty()) {
    add_meta("redcap_repeat_instrument", Trim(r[plan.repeat_instrument]));
  }
  if (plan.repeat_instance != ColumnPlan::kNone && !Trim(r[plan.repeat_instance]).empty()) {
    add_meta("redcap_repeat_instance", Trim(r[plan.repeat_instance]));
  }
  std::optional<std::string_view> fields[2];
  const std::int64_t visit_slot = visit_id.value_or(0);
  for (std::size_t i = 0; i < pending.size(); ++i) {
    const PendingRecord& p = pending[i];
    RecordRow row;
    row.kind = p.variable->kind;
    row.participant_id = participant.id;
    row.visit_id = visit_id;
    row.variable_id = p.variable->catalog.id;
    row.value = p.converted.value;
    row.value_text = p.converted.text;
    if (!p.converted.iso_text.empty()) row.value_text = p.converted.iso_text;
    if (p.converted.conversion != nullptr) ++p.converted.conversion->values;
    row.source_value = p.source_value;
    row.source_unit = p.source_unit;
    row.censoring = p.converted.censoring;
    row.detection_limit = p.converted.detection_limit;
    row.batch_id = batch_id_;
    std::string record_meta = metadata;
    fields[0].reset();
    fields[1].reset();
    for (std::size_t e = 0; e < plan.extras.size(); ++e) {
      const auto& [col, field] = plan.extras[e];
      std::string_view value = Trim(r[col]);
      if (value.empty() || std::find(spec_.missing.begin(), spec_.missing.end(), value) != spec_.missing.end()) {
        continue;  // the file's missing codes mean no value here too
      }
      const int slot = plan.extra_slots[e][static_cast<std::size_t>(row.kind)];
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
    if (supersede[i]) {
      report.superseded += writer_.SupersedeRecord(row.kind, row.participant_id, row.visit_id, row.variable_id, batch_id_);
    }
    writer_.QueueRecord(row);
    if (p.converted.normalised) NoteNormalised(report, r.line(), p.column, p.source_value);
    MarkSeen(participant, visit_slot, *p.variable);
    std::vector<std::int64_t>& loaded = p.variable->loaded_visits;
    if (std::find(loaded.begin(), loaded.end(), visit_slot) == loaded.end()) loaded.push_back(visit_slot);
  }
  writer_.WriteFullChunks();
}

ImportSession::RowError ImportSession::MissingUnitError(const ResolvedVariable& variable, std::size_t column,
                                                       std::string message, std::size_t offset) const {
  RowError e{column, std::move(message)};
  if (!missing_unit_.empty()) {
    // The row count goes before the parenthesis: "... found unit 'x' in 20 rows (lines 2 to 41) (no conversion ...".
    e.fold = variable.catalog.code + '\x1f' + missing_unit_;
    e.fold_at = e.message.find(" (no conversion", offset);
    if (e.fold_at == std::string::npos) e.fold_at = e.message.size();
  }
  return e;
}

void ImportSession::PlanForms(const std::vector<std::string>& header, ColumnPlan& plan) {
  if (!spec_.event_forms.empty() && plan.visit == ColumnPlan::kNone) {
    AddError(1, 0, fmt::format("expected the event column 'redcap_event_name' that [redcap] {} refers to, found no "
                               "such column in the header",
                               spec_.instrument_events.empty() ? "events" : "instrument_events"));
  }
  plan.value_form.assign(plan.values.size(), -1);
  plan.value_checkbox.assign(plan.values.size(), false);
  const auto form_index = [&](const std::string& form) {
    for (std::size_t i = 0; i < plan.forms.size(); ++i) {
      if (plan.forms[i].first == form) return static_cast<int>(i);
    }
    plan.forms.emplace_back(form, ColumnPlan::kNone);
    return static_cast<int>(plan.forms.size() - 1);
  };
  // The <form>_complete columns, in header order, unless the catalog holds a
  // field of that name (then it is a value column).
  std::vector<std::pair<std::size_t, int>> completes;
  for (std::size_t i = 0; i < header.size(); ++i) {
    const std::string& name = header[i];
    if (name.size() <= 9 || name.compare(name.size() - 9, 9, "_complete") != 0) continue;
    if (std::any_of(plan.values.begin(), plan.values.end(), [&](const auto& v) { return v.first == i; })) continue;
    const int form = form_index(name.substr(0, name.size() - 9));
    plan.forms[static_cast<std::size_t>(form)].second = i;
    completes.emplace_back(i, form);
  }
  for (std::size_t k = 0; k < plan.values.size(); ++k) {
    const auto& [col, rv] = plan.values[k];
    const std::string& name = header[col];
    const std::size_t sep = name.find("___");
    const std::string field = sep == std::string::npos ? name : name.substr(0, sep);
    plan.value_checkbox[k] = sep != std::string::npos && rv->catalog.value_type == "boolean";
    if (!spec_.field_forms.empty()) {
      auto it = spec_.field_forms.find(name);
      if (it == spec_.field_forms.end()) it = spec_.field_forms.find(field);
      if (it != spec_.field_forms.end()) plan.value_form[k] = form_index(it->second);
      continue;
    }
    for (const auto& [complete_col, form] : completes) {
      if (complete_col > col) {
        plan.value_form[k] = form;
        break;
      }
    }
  }
  // A mapping of events to forms needs to know the forms of the columns.
  if (!spec_.event_forms.empty() && !plan.values.empty() &&
      std::none_of(plan.value_form.begin(), plan.value_form.end(), [](int f) { return f >= 0; })) {
    AddError(1, 0, fmt::format("expected <form>_complete columns (or [redcap] forms in the spec) to tell which form each "
                               "column belongs to, as [redcap] {} needs, found none",
                               spec_.instrument_events.empty() ? "events" : "instrument_events"));
  }
}

void ImportSession::FormStates(const CsvRecord& r, const ColumnPlan& plan, std::vector<RowError>& row_errors,
                               std::vector<FormState>& states) const {
  states.assign(plan.forms.size(), FormState::kCollected);
  if (plan.forms.empty()) return;
  const std::vector<std::string>* designated = nullptr;
  if (!spec_.event_forms.empty() && plan.visit != ColumnPlan::kNone) {
    const std::string_view event = Trim(r[plan.visit]);
    auto it = spec_.event_forms.find(std::string(event));
    if (it == spec_.event_forms.end()) {
      // An event the visit map does not know is reported once, by ReadVisit.
      if (std::any_of(row_errors.begin(), row_errors.end(), [&](const RowError& e) { return e.column == plan.visit + 1; })) {
        return;
      }
      std::string events;
      for (const auto& [name, forms] : spec_.event_forms) events += (events.empty() ? "" : ", ") + name;
      row_errors.push_back({plan.visit + 1, fmt::format("expected an event of [redcap] {} ({}), found {}",
                                                        spec_.instrument_events.empty() ? "events" : "instrument_events",
                                                        events, Quoted(event))});
      return;
    }
    designated = &it->second;
  }
  for (std::size_t i = 0; i < plan.forms.size(); ++i) {
    const auto& [form, complete] = plan.forms[i];
    if (designated != nullptr && std::find(designated->begin(), designated->end(), form) == designated->end()) {
      states[i] = FormState::kNotDesignated;
      continue;
    }
    if (complete != ColumnPlan::kNone) {
      const std::string_view status = Trim(r[complete]);
      if (status.empty() || std::find(spec_.missing.begin(), spec_.missing.end(), status) != spec_.missing.end()) {
        states[i] = FormState::kNotSaved;
      }
    }
  }
  // A form whose status is blank but which holds a value (a ticked box, a
  // number) was entered after all: its zeros are data too.
  for (std::size_t k = 0; k < plan.values.size() && k < plan.value_form.size(); ++k) {
    const int form = plan.value_form[k];
    if (form < 0 || states[static_cast<std::size_t>(form)] != FormState::kNotSaved) continue;
    const auto& [col, rv] = plan.values[k];
    if (IsMissing(*rv, r[col]) || (plan.value_checkbox[k] && Trim(r[col]) == "0")) continue;
    states[static_cast<std::size_t>(form)] = FormState::kCollected;
  }
}

void ImportSession::NoteNormalised(FileImportReport& report, std::int64_t line, std::size_t column,
                                   std::string_view text) {
  if (report.normalised++ == 0) {
    // A long cell is shown by its start: the line and column find the rest.
    constexpr std::size_t kShown = 40;
    std::string shown = Quoted(text.substr(0, kShown));
    if (text.size() > kShown) shown += "...";
    report.first_normalised = fmt::format("line {}, column {}: {}", line, column, shown);
  }
}

void ImportSession::ForgetRowCatalog() {
  for (const auto& [code, id] : row_created_sites_) {
    DeleteSite(store_, id);
    sites_.erase(code);
  }
  for (const auto& [code, id] : row_created_visits_) {
    DeleteVisit(store_, id);
    visits_.erase(code);
    --max_visit_order_;
  }
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

}  // namespace cohortdb
