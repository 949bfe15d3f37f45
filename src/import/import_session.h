#pragma once
// ImportSession: the state one `cohortdb import` command shares across its
// files: the study, the resolved variable catalog (code maps, missing codes,
// unit conversions cached per variable), visits, sites and participants, and
// the collected errors. Created inside the caller's transaction; it writes
// through an ImportWriter and never commits. Not thread-safe.

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/calendar_date.h"
#include "import/importer.h"
#include "import/participant_table.h"
#include "import/spec.h"
#include "store/catalog.h"
#include "store/import_writer.h"

namespace cohortdb {

class CsvReader;
class CsvRecord;

// Hash for heterogeneous lookup of std::string keys by std::string_view.
// Deliberately not noexcept: libstdc++ then stores each node's hash instead
// of rehashing node keys while it walks a bucket (measured at 6% of a
// 500,000-row import when participants were kept in such a map).
struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
template <typename V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

// A catalog variable as this spec reads it.
struct ResolvedVariable {
  CatalogVariable catalog;
  RecordKind kind = RecordKind::kCovariate;
  // catalog.value_type, read once for Convert's per-cell dispatch (any
  // other text reads as real, as Convert always did).
  enum class Type { kReal, kInteger, kBoolean, kCategorical, kText, kDate, kDatetime };
  Type type = Type::kReal;
  std::string source_unit;            // unit of delivered values when no unit column says it
  std::vector<std::string> missing;   // column-specific missing codes
  StringMap<std::pair<std::int64_t, std::string>> codes;  // source code -> (level, label)
  bool has_current_records = false;   // the store already holds current values of it
  std::size_t index = 0;              // position in the session's variables (bit of the seen masks)
  // Visits (0: none) this import has loaded values of it at, written to
  // record_coverage when the file ends.
  std::vector<std::int64_t> loaded_visits;
  // Dates: the order of year, month and day in delivered values.
  DateOrder date_order = DateOrder::kYmd;
  // A conversion from a delivered unit, and how many stored values of the
  // current file it converted (import_batch_conversion).
  struct AppliedConversion {
    double factor = 1, offset = 0;
    bool from_spec = false;  // [units] of the spec, else the unit_conversion table
    std::int64_t values = 0;
  };
  // Cache: delivered unit -> conversion, nullopt when no conversion exists.
  StringMap<std::optional<AppliedConversion>> unit_cache;
};

// A converted cell, ready to become a RecordRow.
struct ConvertedValue {
  std::optional<double> value;
  std::optional<std::string_view> text;  // label (categorical) or raw text
  const char* censoring = "none";
  std::optional<double> detection_limit;
  std::string iso_text;  // date/datetime: the ISO 8601 text stored as value_text
  // The cell was read as something other than its exact text: blanks around
  // it, or a number not written plainly (IsPlainNumber). Counted in the
  // import summary.
  bool normalised = false;
  // The conversion applied (an entry of the variable's unit_cache), counted
  // when the value is written; nullptr when none was.
  ResolvedVariable::AppliedConversion* conversion = nullptr;
};

class ImportSession {
 public:
  ImportSession(Store& store, ImportWriter& writer, const ImportSpec& spec, const ImportOptions& options);

  FileImportReport ImportFile(const std::string& path);

  const std::vector<std::string>& errors() const { return errors_; }
  std::int64_t error_count() const { return error_count_; }
  // Errors that make a file unreadable (header, quoting, cannot open): they
  // fail the import even with --quarantine. errors() holds the first
  // --max-errors of all errors.
  std::int64_t file_error_count() const { return file_error_count_; }
  const std::string& study_code() const { return spec_.study; }

 private:
  // What every row of the participant reads (id, seen) comes first: it then
  // shares the cache line of the table entry's key (ParticipantTable).
  struct ParticipantState {
    std::int64_t id = 0;
    // Which variables this session loaded for the participant at one visit
    // (seen_visit; 0 = no visit, -1 = none yet): bit i is variables_[i].
    // Other visits and variables past 63 live in seen_overflow_.
    std::int64_t seen_visit = -1;
    std::uint64_t seen_mask = 0;
    // Known site, sex, age, birth year and arm; null when none is (a file
    // without attribute columns loads none), which keeps the table entry at
    // one cache line: 32 MB instead of 96 MB at 500,000 participants.
    std::unique_ptr<ParticipantAttributes> attributes;
  };
  // "a" on the heap, or null when it knows nothing (ParticipantState).
  static std::unique_ptr<ParticipantAttributes> KeepAttributes(const ParticipantAttributes& a) {
    return a.empty() ? nullptr : std::make_unique<ParticipantAttributes>(a);
  }
  struct SeenKey {
    std::int64_t participant_id, visit_key;
    std::size_t word;
    bool operator==(const SeenKey&) const = default;
  };
  struct SeenKeyHash {
    std::size_t operator()(const SeenKey& k) const {
      return std::hash<std::int64_t>{}(k.participant_id * 1000003 + k.visit_key * 131 + static_cast<std::int64_t>(k.word));
    }
  };
  struct RowError {
    RowError() = default;
    RowError(std::size_t c, std::string m) : column(c), message(std::move(m)) {}
    std::size_t column = 0;  // 1-based; 0 when the error is about the whole row
    std::string message;
    // A missing unit conversion is reported once per variable and unit of a
    // file: "fold" is that key, "fold_at" where the row count goes in.
    std::string fold;
    std::size_t fold_at = 0;
  };
  struct FoldedError {
    std::int64_t first_line = 0, last_line = 0, rows = 0;
    std::size_t column = 0, fold_at = 0;
    std::string message;
    std::optional<std::size_t> shown;  // index in errors_
  };
  // Whether a REDCap form is collected on a row (see FormStates).
  enum class FormState { kCollected, kNotDesignated, kNotSaved };
  // Where each role lives in the header (0-based indexes; kNone when absent).
  struct ColumnPlan {
    static constexpr std::size_t kNone = static_cast<std::size_t>(-1);
    std::size_t participant = kNone, site = kNone, visit = kNone, sex = kNone, age = kNone, birth_year = kNone,
                arm = kNone, repeat_instrument = kNone, repeat_instance = kNone;
    std::size_t variable = kNone, value = kNone, unit = kNone;      // long files
    std::vector<std::pair<std::size_t, ResolvedVariable*>> values;  // wide files
    std::vector<std::pair<std::size_t, std::string>> extras;
    // For each extra, the record-table column it feeds per RecordKind (see
    // ExtraSlot in import_records.cpp).
    std::vector<std::array<int, 4>> extra_slots;
    std::string record_kind;
    // REDCap forms: name and its <form>_complete column (kNone if absent);
    // for each entry of "values", the index of its form (-1: none) and
    // whether it is a checkbox column (field___code).
    std::vector<std::pair<std::string, std::size_t>> forms;
    std::vector<int> value_form;
    std::vector<bool> value_checkbox;
  };
  struct PendingRecord {
    ResolvedVariable* variable = nullptr;
    ConvertedValue converted;
    std::string_view source_value;
    std::optional<std::string_view> source_unit;
    std::size_t column = 0;  // 1-based column of the value
  };

  void ResolveCatalog();
  ResolvedVariable& ResolveVariable(const VariableSpec* vspec, const std::string& code, const std::string& type_hint);
  void CreateSpecVisits();
  std::optional<std::int64_t> VisitId(std::string_view code);
  std::int64_t SiteId(std::string_view code);

  // Returns an error message, or nullopt when "raw" converted into "out".
  std::optional<std::string> Convert(ResolvedVariable& variable, std::string_view raw, std::string_view unit,
                                     ConvertedValue& out);
  // Convert for date and datetime variables: ISO text and day number.
  std::optional<std::string> ConvertDate(ResolvedVariable& variable, std::string_view trimmed, std::string_view unit,
                                         ConvertedValue& out);
  bool IsMissing(const ResolvedVariable& variable, std::string_view raw) const;

  void ReadFile(const std::string& path, const std::string& file_sha, FileImportReport& report);
  void ImportRecords(CsvReader& reader, const std::vector<std::string>& header, FileImportReport& report);
  // The steps of one record-file row (import_records.cpp). The readers add
  // what is wrong to "row_errors"; FindParticipant also checks the row's
  // attributes against those loaded before; CheckRecords finds values whose
  // key is taken (by this row, this file, or an earlier import unless
  // --replace, which it marks in "supersede"). Only a row without errors is
  // written: StoreParticipant creates or updates its participant and
  // WriteRecords supersedes and queues its values. A rejected row writes
  // nothing, and ForgetRowCatalog removes the sites and visits its readers
  // created.
  std::optional<std::int64_t> ReadVisit(const CsvRecord& r, const ColumnPlan& plan, std::string& visit_key,
                                        std::vector<RowError>& row_errors);
  ParticipantAttributes ReadAttributes(const CsvRecord& r, const ColumnPlan& plan, std::vector<RowError>& row_errors);
  void ReadValues(const CsvRecord& r, const ColumnPlan& plan, const std::vector<std::string>& header,
                  std::vector<PendingRecord>& pending, std::vector<RowError>& row_errors);
  ParticipantState* FindParticipant(const CsvRecord& r, const ColumnPlan& plan, std::string_view external_id,
                                    const ParticipantAttributes& attrs, std::vector<RowError>& row_errors);
  std::optional<RowError> CheckRecords(const ColumnPlan& plan, ParticipantState* participant,
                                       std::string_view external_id, std::optional<std::int64_t> visit_id,
                                       const std::string& visit_key, const std::vector<PendingRecord>& pending,
                                       std::vector<bool>& supersede);
  ParticipantState& StoreParticipant(ParticipantState* participant, std::string_view external_id,
                                     const ParticipantAttributes& attrs, FileImportReport& report);
  void WriteRecords(const CsvRecord& r, const ColumnPlan& plan, ParticipantState& participant,
                    std::optional<std::int64_t> visit_id, const std::vector<PendingRecord>& pending,
                    const std::vector<bool>& supersede, FileImportReport& report);
  void ForgetRowCatalog();
  // A row error for a failed Convert; after a missing unit conversion it is
  // folded per variable and unit, the count inserted at the message's
  // " (no conversion" found from "offset" on.
  RowError MissingUnitError(const ResolvedVariable& variable, std::size_t column, std::string message,
                            std::size_t offset) const;
  // Assigns the wide columns of a REDCap export to forms: [redcap] forms,
  // else the header's order (each <form>_complete column closes its form).
  void PlanForms(const std::vector<std::string>& header, ColumnPlan& plan);
  // For each form of the plan, whether this row collects it: not designated
  // for the row's event by [redcap] events / instrument_events, or not saved
  // (its <form>_complete cell is blank), or collected.
  void FormStates(const CsvRecord& r, const ColumnPlan& plan, std::vector<RowError>& row_errors,
                  std::vector<FormState>& states) const;
  // Writes the conversions the current file used to import_batch_conversion.
  void RecordConversions();
  // Completes the folded errors of the current file with their row counts.
  void FinishFoldedErrors();
  // Counts a normalised cell of a loaded row in the report (the first one is
  // named in the summary).
  static void NoteNormalised(FileImportReport& report, std::int64_t line, std::size_t column, std::string_view text);
  void ImportTrialSummary(CsvReader& reader, const std::vector<std::string>& header, FileImportReport& report);
  ColumnPlan PlanColumns(const std::vector<std::string>& header);

  // Reports the errors of a rejected row (quarantine: import_error rows).
  void RejectRow(const CsvRecord& record, const std::vector<std::string>& header, std::vector<RowError>& row_errors);
  void AddError(std::int64_t line, std::size_t column, const std::string& message);
  // Counts an error with its whole text (a file that cannot be read, or a
  // structural CSV error), kept while under --max-errors.
  void AddFileError(std::string message);
  // "FILE:LINE:COLUMN: message" (no COLUMN when it is 0).
  std::string FormatError(std::int64_t line, std::size_t column, const std::string& message) const;
  bool ErrorLimitReached() const;
  std::string RawRow(const CsvRecord& record) const;
  void Progress(const CsvReader& reader, std::int64_t rows, bool final);
  // Whether this session loaded a value of "variable" for the participant
  // at this visit (0: none); MarkSeen records that it did. Together they
  // find duplicates without asking the store, so that records whose key is
  // free can be queued for multi-row inserts.
  bool Seen(const ParticipantState& participant, std::int64_t visit_key, const ResolvedVariable& variable) const;
  void MarkSeen(ParticipantState& participant, std::int64_t visit_key, const ResolvedVariable& variable);

  Store& store_;
  ImportWriter& writer_;
  const ImportSpec& spec_;
  const ImportOptions& options_;
  std::int64_t study_id_ = 0;
  std::vector<UnitConversion> conversions_;
  // Set by Convert when a delivered unit has no conversion (else empty).
  std::string missing_unit_;
  StringMap<FoldedError> folded_;
  std::vector<std::unique_ptr<ResolvedVariable>> variables_;
  StringMap<ResolvedVariable*> by_code_;
  StringMap<ResolvedVariable*> by_name_;  // long files: names in the variable column
  StringMap<std::int64_t> visits_;
  std::int64_t max_visit_order_ = 0;
  StringMap<std::int64_t> sites_;
  ParticipantTable<ParticipantState> participants_;
  std::int64_t next_participant_id_ = 0;  // ids of new participants (see ImportWriter::NextParticipantId)
  std::unordered_map<SeenKey, std::uint64_t, SeenKeyHash> seen_overflow_;
  // CheckRecords: row_seen_[variable index] == row_stamp_ when the current
  // row holds a value of it.
  std::vector<std::uint64_t> row_seen_;
  // ReadValues: the form states of the current row (FormStates).
  std::vector<FormState> form_states_;
  std::uint64_t row_stamp_ = 0;
  // Sites and visits created while reading the current row (code, id).
  std::vector<std::pair<std::string, std::int64_t>> row_created_sites_, row_created_visits_;
  std::vector<std::string> errors_;
  std::int64_t file_error_count_ = 0;
  std::int64_t error_count_ = 0;
  // Current file.
  std::string file_;
  std::int64_t batch_id_ = 0;
  std::string batch_kind_;
  double progress_started_ = 0;
  double progress_last_ = 0;
};

}  // namespace cohortdb
