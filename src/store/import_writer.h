#pragma once
// ImportWriter: the SQL side of `cohortdb import`. Holds prepared statements
// reused across rows for import batches, participants, the four record tables,
// import errors and trial summaries. It writes inside the transaction the
// caller holds (Store::Transaction) and never commits. Whole windows of
// queued rows are written on a thread of its own (see kSortWindow); the
// writer is still used from one thread.
// SQLite failures throw StoreError; a duplicate record is reported through
// the return value, not thrown, so importers can name the input line.

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/store.h"

namespace cohortdb {

enum class RecordKind { kBiomarker = 0, kMriMetric = 1, kOutcome = 2, kCovariate = 3 };

// "biomarker", "mri_metric", "outcome", "covariate".
const char* RecordKindName(RecordKind kind);
// Parses one of the names above; nullopt otherwise.
std::optional<RecordKind> ParseRecordKind(std::string_view name);

struct BatchRecord {
  std::int64_t id = 0;
  std::string file_name;
  std::string started_at;
  std::int64_t rows_loaded = 0;
};

struct NewBatch {
  std::optional<std::int64_t> study_id;
  std::string file_name, file_sha256, spec_name, spec_sha256, record_kind, started_at, tool_version;
};

struct ParticipantAttributes {
  std::optional<std::int64_t> site_id;
  std::string sex;  // empty: unknown to this file
  std::optional<double> age_years;
  std::optional<std::int64_t> birth_year;
  std::string arm;
  // Whether no attribute is known.
  bool empty() const { return !site_id && sex.empty() && !age_years && !birth_year && arm.empty(); }
};

// One value to store. Views must stay valid for the InsertRecord call.
struct RecordRow {
  RecordKind kind = RecordKind::kCovariate;
  std::int64_t participant_id = 0;
  std::optional<std::int64_t> visit_id;
  std::int64_t variable_id = 0;
  std::optional<double> value;
  std::optional<std::string_view> value_text;
  std::string_view source_value;
  std::optional<std::string_view> source_unit;
  const char* censoring = "none";  // none | left | right
  std::optional<double> detection_limit;
  // Kind-specific columns: biomarker (assay, lab), mri_metric (model_name,
  // model_version), outcome (instrument, unused); covariate has none.
  std::optional<std::string_view> field1, field2;
  std::optional<std::string_view> metadata_json;
  std::int64_t batch_id = 0;
};

class ImportWriter {
 public:
  explicit ImportWriter(Store& store);
  ~ImportWriter();
  ImportWriter(const ImportWriter&) = delete;
  ImportWriter& operator=(const ImportWriter&) = delete;

  // Sets connection pragmas for a bulk load (page cache size, temp store).
  void TuneForBulkLoad();

  // Around the import transaction (call outside it): foreign-key checks off
  // for the load, because every id the importer binds was just read from or
  // written to this store in the same transaction; EndBulkLoad turns them on
  // again. "disable_foreign_keys" false leaves them on.
  static void BeginBulkLoad(Store& store, bool disable_foreign_keys);
  static void EndBulkLoad(Store& store);

  // The batch that loaded this file with this spec before, if any.
  std::optional<BatchRecord> FindBatch(const std::string& file_sha256, const std::string& spec_sha256);
  std::int64_t BeginBatch(const NewBatch& batch);
  // Records the counts and end time; "record_kind" (if not empty) replaces
  // the kind given at BeginBatch.
  void FinishBatch(std::int64_t batch_id, std::int64_t rows_read, std::int64_t rows_loaded,
                   std::int64_t rows_rejected, bool quarantined, const std::string& finished_at,
                   const std::string& record_kind = {});

  // Calls "on_row" for every participant of the study. Without
  // "with_attributes" the attributes passed are empty and only the study's
  // (study_id, external_id) index is read, not the participant rows.
  void ForEachParticipant(std::int64_t study_id, bool with_attributes,
                          const std::function<void(std::string_view external_id, std::int64_t id,
                                                   const ParticipantAttributes&)>& on_row);
  // How many participants the study has.
  std::int64_t CountParticipants(std::int64_t study_id);
  // The id the next new participant gets: one past the largest in the store.
  // The importer assigns ids itself (it holds the write transaction) so that
  // participants can be queued like records.
  std::int64_t NextParticipantId();
  // Queues a new participant with id "participant_id" (written with the
  // records, kRecordChunk per INSERT). The caller guarantees the external id
  // is new to the study.
  void QueueParticipant(std::int64_t participant_id, std::int64_t study_id, std::string_view external_id,
                        const ParticipantAttributes& attributes, std::int64_t batch_id);
  // Overwrites the attributes that are set in "attributes" (others unchanged).
  void UpdateParticipant(std::int64_t participant_id, const ParticipantAttributes& attributes);

  // The batch of the current record for this key, or 0 when there is none.
  // Queued records are not seen: call FlushRecords first.
  std::int64_t CurrentRecordBatch(RecordKind kind, std::int64_t participant_id, std::optional<std::int64_t> visit_id,
                                  std::int64_t variable_id);

  // QueueRecord copies a record whose key the caller knows to be free (no
  // current record holds it, or the caller superseded it) into a queue per
  // record kind; the queues are written kRecordChunk rows per multi-row
  // INSERT, which costs about half as much per row as one statement per
  // row, naming only the columns the chunk's rows set (the last window's
  // rest goes in halving runs). A record that fails anyway (the caller was
  // wrong) throws StoreError.
  static constexpr std::size_t kRecordChunk = 256;
  void QueueRecord(const RecordRow& row);
  // Once a kind's queue holds kSortWindow records, sorts them by the key of
  // the <kind>_current index (participant, variable, visit) and writes every
  // full chunk, keeping the rest queued. An unsorted file (imaging pipelines
  // write participants in any order) then inserts into the index in runs
  // instead of at random: the 985,000-row imaging file of the benchmark
  // loads in 3.2 s instead of 5.2 s. The window bounds the memory (about
  // 10 MB per kind). Record ids follow the sorted order within a window
  // (FlushRecords sorts the last, partial one too).
  static constexpr std::size_t kSortWindow = 65536;
  void WriteFullChunks();
  // Writes everything queued (participants and records).
  void FlushRecords();
  // Marks the current record for this key superseded by "batch_id" unless it
  // belongs to that batch itself. Returns the number of rows marked (0 or 1).
  int SupersedeRecord(RecordKind kind, std::int64_t participant_id, std::optional<std::int64_t> visit_id,
                      std::int64_t variable_id, std::int64_t batch_id);
  // True if the store holds a current record of this variable (as
  // record_coverage says, so no record table is scanned).
  bool HasCurrentRecords(std::int64_t variable_id);
  // Notes in record_coverage that this variable has current records at this
  // visit (nullopt: without a visit). Idempotent.
  void AddCoverage(std::int64_t variable_id, std::optional<std::int64_t> visit_id);

  void InsertImportError(std::int64_t batch_id, std::int64_t line, std::optional<std::int64_t> column_index,
                         std::string_view column_name, std::string_view message, std::string_view raw_row);

  // Trial summaries.
  // A meta_trial row as the store holds it.
  struct MetaTrial {
    std::int64_t trial_id = 0;
    std::optional<std::int64_t> year;
    std::optional<double> duration_weeks;
    // The attributes in stored order: name and value (the text of a JSON
    // string; any other JSON value as SQLite renders it, e.g. 7).
    std::vector<std::pair<std::string, std::string>> attributes;
  };
  // The trial "label" of the study, or nullopt when the store has none.
  std::optional<MetaTrial> FindMetaTrial(std::int64_t study_id, std::string_view label);
  // Creates the trial, or updates the existing one: a year or duration given
  // replaces the held one (nullopt keeps it), and each key of
  // "attributes_json" (a JSON object, or empty for none) replaces or adds that
  // key of the held attributes; other keys are kept. Returns the trial id.
  std::int64_t UpsertMetaTrial(std::int64_t study_id, std::string_view label, std::optional<std::int64_t> year,
                               std::optional<double> duration_weeks, std::string_view attributes_json,
                               std::int64_t batch_id);
  // The batch that wrote the (trial, outcome, arm) row (0 when the row names
  // none), or nullopt when there is no such row.
  std::optional<std::int64_t> ArmSummaryBatch(std::int64_t trial_id, std::string_view outcome,
                                              std::string_view arm);
  // Writes the (trial, outcome, arm) row. An existing row is overwritten when
  // "replace" is true; otherwise it makes the insert fail with StoreError, so
  // callers check ArmSummaryBatch first.
  void InsertArmSummary(std::int64_t trial_id, std::string_view outcome, std::string_view arm, std::int64_t n,
                        std::optional<double> mean, std::optional<double> sd, std::optional<std::int64_t> events,
                        std::int64_t batch_id, bool replace);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cohortdb
