#include "store/import_writer.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <condition_variable>
#include <exception>
#include <iterator>
#include <mutex>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

#include "common/error.h"

namespace cohortdb {
namespace {

constexpr std::array<const char*, 4> kKindNames = {"biomarker", "mri_metric", "outcome", "covariate"};

[[noreturn]] void Rethrow(const char* what, const SQLite::Exception& e) {
  throw StoreError(fmt::format("{}: {}", what, e.what()));
}

// A prepared statement on the raw C API, for the per-row statements: it binds
// text views without copying (SQLiteCpp's bindNoCopy of a sized buffer binds a
// blob).
class RawStatement {
 public:
  RawStatement(sqlite3* db, const std::string& sql) : db_(db) {
    if (sqlite3_prepare_v3(db, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr) != SQLITE_OK) {
      throw StoreError(fmt::format("preparing import statement: {}", sqlite3_errmsg(db)));
    }
  }
  ~RawStatement() { sqlite3_finalize(stmt_); }
  RawStatement(const RawStatement&) = delete;
  RawStatement& operator=(const RawStatement&) = delete;

  void Text(int i, std::optional<std::string_view> v) {
    Check(v ? sqlite3_bind_text(stmt_, i, v->data(), static_cast<int>(v->size()), SQLITE_STATIC)
            : sqlite3_bind_null(stmt_, i));
  }
  void Int(int i, std::optional<std::int64_t> v) {
    Check(v ? sqlite3_bind_int64(stmt_, i, static_cast<sqlite3_int64>(*v)) : sqlite3_bind_null(stmt_, i));
  }
  void Real(int i, std::optional<double> v) { Check(v ? sqlite3_bind_double(stmt_, i, *v) : sqlite3_bind_null(stmt_, i)); }
  // Steps once; returns the result code (SQLITE_DONE, SQLITE_ROW or an error).
  int Step() { return sqlite3_step(stmt_); }
  void Reset() { sqlite3_reset(stmt_); }
  // Steps to completion and resets; throws StoreError on failure.
  void Run(const char* what) {
    int rc = Step();
    Reset();
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) throw StoreError(fmt::format("{}: {}", what, sqlite3_errmsg(db_)));
  }
  sqlite3_stmt* get() { return stmt_; }

 private:
  void Check(int rc) {
    if (rc != SQLITE_OK) throw StoreError(fmt::format("binding an import value: {}", sqlite3_errstr(rc)));
  }
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

void BindView(SQLite::Statement& st, int index, std::optional<std::string_view> v) {
  if (v) st.bind(index, std::string(*v));
  else st.bind(index);
}

void BindDouble(SQLite::Statement& st, int index, std::optional<double> v) {
  if (v) st.bind(index, *v);
  else st.bind(index);
}

void BindInt(SQLite::Statement& st, int index, std::optional<std::int64_t> v) {
  if (v) st.bind(index, static_cast<int64_t>(*v));
  else st.bind(index);
}

// The columns of a record INSERT that a run of records may leave out: a
// column every record of the run leaves NULL (censoring: at its default,
// 'none') is not named, so the row stored is the same while SQLite binds and
// copies fewer values per row (the REDCap file's covariates bind 6 of 11).
enum OptionalColumn : unsigned {
  kVisitColumn = 1u << 0,
  kValueTextColumn = 1u << 1,
  kSourceUnitColumn = 1u << 2,
  kCensoringColumn = 1u << 3,
  kDetectionLimitColumn = 1u << 4,
  kMetadataColumn = 1u << 5,
  kField1Column = 1u << 6,
  kField2Column = 1u << 7,
};
constexpr unsigned kOptionalColumnCount = 8;

// The extra columns of a kind (RecordRow::field1, field2), nullptr when none.
std::array<const char*, 2> ExtraColumnNames(RecordKind kind) {
  switch (kind) {
    case RecordKind::kBiomarker: return {"assay", "lab"};
    case RecordKind::kMriMetric: return {"model_name", "model_version"};
    case RecordKind::kOutcome: return {"instrument", nullptr};
    case RecordKind::kCovariate: return {nullptr, nullptr};
  }
  return {nullptr, nullptr};
}

// The INSERT of "rows" records of this kind with positional parameters: per
// record participant_id, variable_id, value, source_value and batch_id, then
// the optional columns in "columns" (a set of OptionalColumn), in the order
// BindRecord binds them.
std::string MultiInsertSql(RecordKind kind, unsigned columns, std::size_t rows) {
  static constexpr std::array<const char*, 6> kOptionalNames = {"visit_id", "value_text", "source_unit",
                                                                "censoring", "detection_limit", "metadata"};
  const auto extra = ExtraColumnNames(kind);
  std::string names = "participant_id, variable_id, value, source_value, batch_id";
  std::string group = "(?, ?, ?, ?, ?";
  for (unsigned bit = 0; bit < kOptionalColumnCount; ++bit) {
    if ((columns & (1u << bit)) == 0) continue;
    const char* name = bit < kOptionalNames.size() ? kOptionalNames[bit] : extra[bit - kOptionalNames.size()];
    names += fmt::format(", {}", name);
    group += ", ?";
  }
  group += ")";
  std::string sql = fmt::format("INSERT INTO {} ({}) VALUES ", kKindNames[static_cast<int>(kind)], names);
  for (std::size_t i = 0; i < rows; ++i) {
    if (i > 0) sql += ", ";
    sql += group;
  }
  return sql;
}

// A queued record: numbers inline, texts as (offset, length) into the
// queue's arena; length -1 is NULL.
struct TextRef {
  std::uint32_t offset = 0;
  std::int32_t length = -1;
};

struct QueuedRecord {
  std::int64_t participant_id = 0;
  std::int64_t variable_id = 0;
  std::int64_t batch_id = 0;
  std::optional<std::int64_t> visit_id;
  std::optional<double> value;
  std::optional<double> detection_limit;
  const char* censoring = "none";
  TextRef value_text, source_value, source_unit, field1, field2, metadata;
};

struct QueuedParticipant {
  std::int64_t participant_id = 0;
  std::int64_t study_id = 0;
  std::string external_id;
  ParticipantAttributes attributes;
  std::int64_t batch_id = 0;
};

std::string ParticipantInsertSql(std::size_t rows) {
  std::string sql =
      "INSERT INTO participant (participant_id, study_id, external_id, site_id, sex, age_years, birth_year, arm, "
      "batch_id) VALUES ";
  for (std::size_t i = 0; i < rows; ++i) sql += i == 0 ? "(?, ?, ?, ?, ?, ?, ?, ?, ?)" : ", (?, ?, ?, ?, ?, ?, ?, ?, ?)";
  return sql;
}

struct RecordQueue {
  std::vector<QueuedRecord> records;
  std::string arena;

  TextRef Keep(std::optional<std::string_view> text) {
    TextRef ref;
    if (!text) return ref;
    ref.offset = static_cast<std::uint32_t>(arena.size());
    ref.length = static_cast<std::int32_t>(text->size());
    arena.append(*text);
    return ref;
  }
  std::optional<std::string_view> Text(TextRef ref) const {
    if (ref.length < 0) return std::nullopt;
    return std::string_view(arena.data() + ref.offset, static_cast<std::size_t>(ref.length));
  }

  // Empties the queue; its memory stays for the next window.
  void Clear() {
    records.clear();
    arena.clear();
  }

  // Moves records [n, end) to "tail" (emptied first; their texts into its
  // arena) and keeps the first n here.
  void MoveTail(std::size_t n, RecordQueue& tail) {
    tail.Clear();
    if (n >= records.size()) return;
    for (auto it = records.begin() + static_cast<std::ptrdiff_t>(n); it != records.end(); ++it) {
      QueuedRecord r = *it;
      for (TextRef* ref : {&r.value_text, &r.source_value, &r.source_unit, &r.field1, &r.field2, &r.metadata}) {
        if (ref->length < 0) continue;
        const std::uint32_t offset = static_cast<std::uint32_t>(tail.arena.size());
        tail.arena.append(arena, ref->offset, static_cast<std::size_t>(ref->length));
        ref->offset = offset;
      }
      tail.records.push_back(r);
    }
    records.resize(n);
  }
};

// The optional columns (OptionalColumn) that records [begin, end) of "queue"
// need: those that at least one of them sets.
unsigned NeededColumns(const RecordQueue& queue, std::size_t begin, std::size_t end) {
  unsigned columns = 0;
  for (std::size_t i = begin; i < end; ++i) {
    const QueuedRecord& q = queue.records[i];
    if (q.visit_id) columns |= kVisitColumn;
    if (q.value_text.length >= 0) columns |= kValueTextColumn;
    if (q.source_unit.length >= 0) columns |= kSourceUnitColumn;
    if (std::string_view(q.censoring) != "none") columns |= kCensoringColumn;
    if (q.detection_limit) columns |= kDetectionLimitColumn;
    if (q.metadata.length >= 0) columns |= kMetadataColumn;
    if (q.field1.length >= 0) columns |= kField1Column;
    if (q.field2.length >= 0) columns |= kField2Column;
  }
  return columns;
}

// Binds one record at parameters p + 1, p + 2, ... in the order of
// MultiInsertSql(kind, columns, ...); returns the last parameter bound.
int BindRecord(RawStatement& st, int p, const RecordQueue& queue, const QueuedRecord& q, unsigned columns) {
  st.Int(++p, q.participant_id);
  st.Int(++p, q.variable_id);
  st.Real(++p, q.value);
  st.Text(++p, queue.Text(q.source_value).value_or(std::string_view()));
  st.Int(++p, q.batch_id);
  if (columns & kVisitColumn) st.Int(++p, q.visit_id);
  if (columns & kValueTextColumn) st.Text(++p, queue.Text(q.value_text));
  if (columns & kSourceUnitColumn) st.Text(++p, queue.Text(q.source_unit));
  if (columns & kCensoringColumn) st.Text(++p, std::string_view(q.censoring));
  if (columns & kDetectionLimitColumn) st.Real(++p, q.detection_limit);
  if (columns & kMetadataColumn) st.Text(++p, queue.Text(q.metadata));
  if (columns & kField1Column) st.Text(++p, queue.Text(q.field1));
  if (columns & kField2Column) st.Text(++p, queue.Text(q.field2));
  return p;
}

// A queued record's position in the order of the <kind>_current index
// (participant, variable, visit); "index" is its place in the queue.
struct SortKey {
  std::int64_t participant_id, variable_id, visit_key;
  std::uint32_t index;
  bool operator<(const SortKey& o) const {
    return std::tie(participant_id, variable_id, visit_key, index) <
           std::tie(o.participant_id, o.variable_id, o.visit_key, o.index);
  }
};

// Work handed to the writer thread: participants and, per record kind,
// sorted records (whole chunks).
struct WriteJob {
  std::vector<QueuedParticipant> participants;
  std::array<RecordQueue, 4> records;
};

}  // namespace

const char* RecordKindName(RecordKind kind) { return kKindNames[static_cast<int>(kind)]; }

std::optional<RecordKind> ParseRecordKind(std::string_view name) {
  for (std::size_t i = 0; i < kKindNames.size(); ++i) {
    if (name == kKindNames[i]) return static_cast<RecordKind>(i);
  }
  return std::nullopt;
}

struct ImportWriter::Impl {
  explicit Impl(Store& s) : store(s), db(s.database()) {}
  Store& store;
  SQLite::Database& db;
  std::array<std::unique_ptr<RawStatement>, 4> find_current;
  std::array<std::unique_ptr<RawStatement>, 4> supersede;
  std::unique_ptr<RawStatement> insert_participant;
  std::unique_ptr<RawStatement> insert_participant_chunk;
  std::vector<QueuedParticipant> participants;
  // Writes every queued participant (after Drain).
  void WriteParticipants();
  void WriteParticipantRows(const std::vector<QueuedParticipant>& rows);
  std::unique_ptr<RawStatement> insert_error;
  std::unique_ptr<RawStatement> add_coverage;
  // Record INSERTs by kind, column set (NeededColumns) and row count.
  std::unordered_map<std::size_t, std::unique_ptr<RawStatement>> insert_records;
  std::array<RecordQueue, 4> queues;
  // Writes records [begin, begin + count) of "queue" (count <= kRecordChunk)
  // in one multi-row INSERT naming the columns they need.
  void WriteQueued(RecordKind kind, const RecordQueue& queue, std::size_t begin, std::size_t count);
  // Writes every record of "queue", whole chunks first, then the rest in
  // halving runs (128, 64, ..., 1 rows).
  void WriteAll(RecordKind kind, const RecordQueue& queue);
  // Writes every queued record of a kind (after Drain) and empties its queue.
  void WriteQueue(RecordKind kind);

  // The writer thread. Submit hands it a job (waiting while an earlier one
  // is still unclaimed, so at most two windows are in flight); WaitIdle
  // returns once it has nothing left; Drain also rethrows its failure.
  // Every use of the connection from the importing thread is preceded by
  // WaitIdle: here by Drain, elsewhere by the Store's connection gate.
  std::mutex mutex;
  std::condition_variable changed;
  std::optional<WriteJob> pending;
  bool writing = false;
  bool stopping = false;
  std::exception_ptr failure;
  std::thread worker;
  void Submit(WriteJob job);
  void WaitIdle();
  void Drain();
  void Work();
  void Stop();
  // Orders a kind's queue by the key of its <kind>_current index. Every
  // queued record belongs to a row already accepted, so order is free.
  void SortQueue(RecordKind kind);
  // SortQueue's scratch: the keys it sorts (32 bytes each, where sorting
  // positions compared 128-byte records scattered over a window) and the
  // buffer the records are moved into.
  std::vector<SortKey> sort_keys;
  std::vector<QueuedRecord> sort_scratch;

  // Emptied windows (queues and participant vectors) kept for the next ones,
  // so that their memory is reused instead of freed by the writer thread and
  // allocated (and paged in) afresh for every window: that churn was about a
  // seventh of the CPU time of the 500,000-row REDCap import. Guarded by
  // "mutex"; at most kSpares of each are kept.
  static constexpr std::size_t kSpares = 8;
  std::vector<RecordQueue> spare_queues;
  std::vector<std::vector<QueuedParticipant>> spare_participants;
  // An empty queue, with the memory of a written window when one is spare.
  RecordQueue SpareQueue();
  std::vector<QueuedParticipant> SpareParticipants();
  // Returns the emptied buffers of a written job to the spares (holding "mutex").
  void Recycle(WriteJob& job);

  RawStatement& Lazy(std::unique_ptr<RawStatement>& st, const std::string& sql) {
    if (!st) st = std::make_unique<RawStatement>(db.getHandle(), sql);
    return *st;
  }
  RawStatement& FindCurrent(RecordKind kind) {
    return Lazy(find_current[static_cast<int>(kind)],
                fmt::format("SELECT batch_id FROM {} WHERE participant_id = ?1 AND variable_id = ?2 "
                            "AND ifnull(visit_id, 0) = ?3 AND superseded_by IS NULL",
                            RecordKindName(kind)));
  }
  RawStatement& Supersede(RecordKind kind) {
    return Lazy(supersede[static_cast<int>(kind)],
                fmt::format("UPDATE {} SET superseded_by = ?4 WHERE participant_id = ?1 AND variable_id = ?2 "
                            "AND ifnull(visit_id, 0) = ?3 AND superseded_by IS NULL AND batch_id <> ?4",
                            RecordKindName(kind)));
  }
};

void ImportWriter::Impl::WriteQueued(RecordKind kind, const RecordQueue& queue, std::size_t begin, std::size_t count) {
  const unsigned columns = NeededColumns(queue, begin, begin + count);
  const std::size_t key = (static_cast<std::size_t>(kind) << kOptionalColumnCount | columns) * (kRecordChunk + 1) + count;
  std::unique_ptr<RawStatement>& cached = insert_records[key];
  RawStatement& st = Lazy(cached, MultiInsertSql(kind, columns, count));
  int p = 0;
  for (std::size_t i = begin; i < begin + count; ++i) p = BindRecord(st, p, queue, queue.records[i], columns);
  st.Run(count == 1 ? "inserting a record" : "inserting records");
}

void ImportWriter::Impl::WriteAll(RecordKind kind, const RecordQueue& queue) {
  const std::size_t n = queue.records.size();
  std::size_t begin = 0;
  for (; begin + kRecordChunk <= n; begin += kRecordChunk) WriteQueued(kind, queue, begin, kRecordChunk);
  // The rest (the last window's) in halving runs: at most 8 statements.
  for (std::size_t run = kRecordChunk / 2; run >= 1; run /= 2) {
    if (n - begin >= run) {
      WriteQueued(kind, queue, begin, run);
      begin += run;
    }
  }
}

void ImportWriter::Impl::Submit(WriteJob job) {
  std::unique_lock lock(mutex);
  changed.wait(lock, [&] { return !pending.has_value(); });
  pending.emplace(std::move(job));
  if (!worker.joinable()) worker = std::thread([this] { Work(); });
  changed.notify_all();
}

void ImportWriter::Impl::Work() {
  std::unique_lock lock(mutex);
  for (;;) {
    changed.wait(lock, [&] { return pending.has_value() || stopping; });
    if (!pending) return;  // stopping, nothing left
    WriteJob job = std::move(*pending);
    pending.reset();
    writing = true;
    const bool failed = failure != nullptr;
    changed.notify_all();
    lock.unlock();
    std::exception_ptr error;
    if (!failed) {  // after a failure the import is lost anyway
      try {
        WriteParticipantRows(job.participants);
        for (std::size_t k = 0; k < 4; ++k) WriteAll(static_cast<RecordKind>(k), job.records[k]);
      } catch (...) {
        error = std::current_exception();
      }
    }
    lock.lock();
    if (error && !failure) failure = error;
    Recycle(job);
    writing = false;
    changed.notify_all();
  }
}

void ImportWriter::Impl::WaitIdle() {
  std::unique_lock lock(mutex);
  changed.wait(lock, [&] { return !pending.has_value() && !writing; });
}

void ImportWriter::Impl::Drain() {
  WaitIdle();
  std::lock_guard lock(mutex);
  if (failure) std::rethrow_exception(failure);
}

void ImportWriter::Impl::Stop() {
  {
    std::lock_guard lock(mutex);
    stopping = true;
    changed.notify_all();
  }
  if (worker.joinable()) worker.join();
}

ImportWriter::ImportWriter(Store& store) : impl_(std::make_unique<Impl>(store)) {
  store.SetConnectionGate([impl = impl_.get()] { impl->WaitIdle(); });
}

ImportWriter::~ImportWriter() {
  impl_->Stop();
  impl_->store.SetConnectionGate(nullptr);
}

void ImportWriter::TuneForBulkLoad() {
  impl_->Drain();
  try {
    impl_->db.exec("PRAGMA cache_size = -131072; PRAGMA temp_store = MEMORY;");
  } catch (const SQLite::Exception& e) {
    Rethrow("tuning the connection", e);
  }
}

void ImportWriter::BeginBulkLoad(Store& store, bool disable_foreign_keys) {
  if (disable_foreign_keys) store.Exec("PRAGMA foreign_keys = OFF");
}

void ImportWriter::EndBulkLoad(Store& store) {
  store.Exec("PRAGMA foreign_keys = ON");
}

std::optional<BatchRecord> ImportWriter::FindBatch(const std::string& file_sha256, const std::string& spec_sha256) {
  impl_->Drain();
  try {
    SQLite::Statement st(impl_->db,
                         "SELECT batch_id, file_name, started_at, rows_loaded FROM import_batch "
                         "WHERE file_sha256 = ?1 AND spec_sha256 = ?2");
    st.bind(1, file_sha256);
    st.bind(2, spec_sha256);
    if (!st.executeStep()) return std::nullopt;
    return BatchRecord{st.getColumn(0).getInt64(), st.getColumn(1).getString(), st.getColumn(2).getString(),
                       st.getColumn(3).getInt64()};
  } catch (const SQLite::Exception& e) {
    Rethrow("reading import batches", e);
  }
}

std::int64_t ImportWriter::BeginBatch(const NewBatch& b) {
  impl_->Drain();
  try {
    SQLite::Statement st(impl_->db,
                         "INSERT INTO import_batch (study_id, file_name, file_sha256, spec_name, spec_sha256, record_kind, "
                         "started_at, tool_version) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    BindInt(st, 1, b.study_id);
    st.bind(2, b.file_name);
    st.bind(3, b.file_sha256);
    st.bind(4, b.spec_name);
    st.bind(5, b.spec_sha256);
    st.bind(6, b.record_kind);
    st.bind(7, b.started_at);
    st.bind(8, b.tool_version);
    st.exec();
    return impl_->db.getLastInsertRowid();
  } catch (const SQLite::Exception& e) {
    Rethrow("recording the import batch", e);
  }
}

void ImportWriter::FinishBatch(std::int64_t batch_id, std::int64_t rows_read, std::int64_t rows_loaded,
                               std::int64_t rows_rejected, bool quarantined, const std::string& finished_at,
                               const std::string& record_kind) {
  impl_->Drain();
  try {
    SQLite::Statement st(impl_->db,
                         "UPDATE import_batch SET rows_read = ?2, rows_loaded = ?3, rows_rejected = ?4, status = ?5, "
                         "finished_at = ?6, record_kind = ifnull(?7, record_kind) WHERE batch_id = ?1");
    st.bind(1, batch_id);
    st.bind(2, rows_read);
    st.bind(3, rows_loaded);
    st.bind(4, rows_rejected);
    st.bind(5, quarantined ? "quarantined" : "loaded");
    st.bind(6, finished_at);
    if (record_kind.empty()) st.bind(7);
    else st.bind(7, record_kind);
    st.exec();
  } catch (const SQLite::Exception& e) {
    Rethrow("finishing the import batch", e);
  }
}

void ImportWriter::ForEachParticipant(
    std::int64_t study_id, bool with_attributes,
    const std::function<void(std::string_view, std::int64_t, const ParticipantAttributes&)>& on_row) {
  impl_->Drain();
  // The raw C API: 500,000 rows through SQLite::Column objects (each holding
  // the statement by shared_ptr) cost a third of the load.
  RawStatement st(impl_->db.getHandle(),
                  with_attributes ? "SELECT participant_id, external_id, site_id, sex, age_years, birth_year, arm "
                                    "FROM participant WHERE study_id = ?1"
                                  : "SELECT participant_id, external_id FROM participant WHERE study_id = ?1");
  st.Int(1, study_id);
  sqlite3_stmt* s = st.get();
  const auto text = [s](int i) {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
    return p == nullptr ? std::string_view() : std::string_view(p, static_cast<std::size_t>(sqlite3_column_bytes(s, i)));
  };
  const auto is_null = [s](int i) { return sqlite3_column_type(s, i) == SQLITE_NULL; };
  ParticipantAttributes a;
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) {
    if (with_attributes) {
      a.site_id = is_null(2) ? std::nullopt : std::optional<std::int64_t>(sqlite3_column_int64(s, 2));
      a.sex = text(3);
      a.age_years = is_null(4) ? std::nullopt : std::optional<double>(sqlite3_column_double(s, 4));
      a.birth_year = is_null(5) ? std::nullopt : std::optional<std::int64_t>(sqlite3_column_int64(s, 5));
      a.arm = text(6);
    }
    on_row(text(1), sqlite3_column_int64(s, 0), a);
  }
  if (rc != SQLITE_DONE) throw StoreError(fmt::format("reading participants: {}", sqlite3_errmsg(impl_->db.getHandle())));
}

std::int64_t ImportWriter::CountParticipants(std::int64_t study_id) {
  impl_->Drain();
  try {
    SQLite::Statement st(impl_->db, "SELECT count(*) FROM participant WHERE study_id = ?1");
    st.bind(1, study_id);
    st.executeStep();
    return st.getColumn(0).getInt64();
  } catch (const SQLite::Exception& e) {
    Rethrow("counting participants", e);
  }
}

std::int64_t ImportWriter::NextParticipantId() {
  impl_->Drain();
  try {
    SQLite::Statement st(impl_->db, "SELECT ifnull(max(participant_id), 0) + 1 FROM participant");
    st.executeStep();
    return st.getColumn(0).getInt64();
  } catch (const SQLite::Exception& e) {
    Rethrow("reading participant ids", e);
  }
}

void ImportWriter::QueueParticipant(std::int64_t participant_id, std::int64_t study_id, std::string_view external_id,
                                    const ParticipantAttributes& a, std::int64_t batch_id) {
  impl_->participants.push_back(
      QueuedParticipant{participant_id, study_id, std::string(external_id), a, batch_id});
}

void ImportWriter::Impl::WriteParticipants() {
  Drain();
  WriteParticipantRows(participants);
  participants.clear();
}

void ImportWriter::Impl::WriteParticipantRows(const std::vector<QueuedParticipant>& rows) {
  const auto bind = [](RawStatement& st, int p, const QueuedParticipant& q) {
    const ParticipantAttributes& a = q.attributes;
    st.Int(++p, q.participant_id);
    st.Int(++p, q.study_id);
    st.Text(++p, std::string_view(q.external_id));
    st.Int(++p, a.site_id);
    st.Text(++p, a.sex.empty() ? std::nullopt : std::optional<std::string_view>(a.sex));
    st.Real(++p, a.age_years);
    st.Int(++p, a.birth_year);
    st.Text(++p, a.arm.empty() ? std::nullopt : std::optional<std::string_view>(a.arm));
    st.Int(++p, q.batch_id);
  };
  constexpr int kColumns = 9;
  std::size_t begin = 0;
  for (; begin + kRecordChunk <= rows.size(); begin += kRecordChunk) {
    RawStatement& st = Lazy(insert_participant_chunk, ParticipantInsertSql(kRecordChunk));
    for (std::size_t i = 0; i < kRecordChunk; ++i) bind(st, static_cast<int>(i) * kColumns, rows[begin + i]);
    st.Run("inserting participants");
  }
  if (begin == rows.size()) return;
  RawStatement& one = Lazy(insert_participant, ParticipantInsertSql(1));
  for (; begin < rows.size(); ++begin) {
    bind(one, 0, rows[begin]);
    one.Run("inserting a participant");
  }
}

void ImportWriter::UpdateParticipant(std::int64_t participant_id, const ParticipantAttributes& a) {
  impl_->Drain();
  impl_->WriteParticipants();  // the participant may still be queued
  try {
    SQLite::Statement st(impl_->db,
                         "UPDATE participant SET site_id = ifnull(?2, site_id), sex = ifnull(?3, sex), "
                         "age_years = ifnull(?4, age_years), birth_year = ifnull(?5, birth_year), arm = ifnull(?6, arm) "
                         "WHERE participant_id = ?1");
    st.bind(1, participant_id);
    BindInt(st, 2, a.site_id);
    BindView(st, 3, a.sex.empty() ? std::nullopt : std::optional<std::string_view>(a.sex));
    BindDouble(st, 4, a.age_years);
    BindInt(st, 5, a.birth_year);
    BindView(st, 6, a.arm.empty() ? std::nullopt : std::optional<std::string_view>(a.arm));
    st.exec();
  } catch (const SQLite::Exception& e) {
    Rethrow("updating a participant", e);
  }
}

std::int64_t ImportWriter::CurrentRecordBatch(RecordKind kind, std::int64_t participant_id,
                                              std::optional<std::int64_t> visit_id, std::int64_t variable_id) {
  impl_->Drain();
  RawStatement& find = impl_->FindCurrent(kind);
  find.Int(1, participant_id);
  find.Int(2, variable_id);
  find.Int(3, visit_id.value_or(0));
  std::int64_t batch = 0;
  if (find.Step() == SQLITE_ROW) batch = sqlite3_column_int64(find.get(), 0);
  find.Reset();
  return batch;
}

void ImportWriter::QueueRecord(const RecordRow& row) {
  RecordQueue& queue = impl_->queues[static_cast<int>(row.kind)];
  QueuedRecord q;
  q.participant_id = row.participant_id;
  q.variable_id = row.variable_id;
  q.batch_id = row.batch_id;
  q.visit_id = row.visit_id;
  q.value = row.value;
  q.detection_limit = row.detection_limit;
  q.censoring = row.censoring;
  q.value_text = queue.Keep(row.value_text);
  q.source_value = queue.Keep(row.source_value);
  q.source_unit = queue.Keep(row.source_unit);
  q.field1 = queue.Keep(row.field1);
  q.field2 = queue.Keep(row.field2);
  q.metadata = queue.Keep(row.metadata_json);
  queue.records.push_back(q);
}

void ImportWriter::Impl::WriteQueue(RecordKind kind) {
  RecordQueue& queue = queues[static_cast<int>(kind)];
  if (queue.records.empty()) return;
  Drain();
  WriteAll(kind, queue);
  queue.Clear();
}

void ImportWriter::Impl::SortQueue(RecordKind kind) {
  std::vector<QueuedRecord>& records = queues[static_cast<int>(kind)].records;
  sort_keys.clear();
  for (std::size_t i = 0; i < records.size(); ++i) {
    const QueuedRecord& r = records[i];
    sort_keys.push_back(SortKey{r.participant_id, r.variable_id, r.visit_id.value_or(0), static_cast<std::uint32_t>(i)});
  }
  if (std::is_sorted(sort_keys.begin(), sort_keys.end())) return;  // a file in participant and variable order
  std::sort(sort_keys.begin(), sort_keys.end());
  // Each record moves once (a record is 128 bytes).
  sort_scratch.clear();
  for (const SortKey& k : sort_keys) sort_scratch.push_back(records[k.index]);
  records.swap(sort_scratch);
}

RecordQueue ImportWriter::Impl::SpareQueue() {
  std::lock_guard lock(mutex);
  if (spare_queues.empty()) return {};
  RecordQueue queue = std::move(spare_queues.back());
  spare_queues.pop_back();
  return queue;
}

std::vector<QueuedParticipant> ImportWriter::Impl::SpareParticipants() {
  std::lock_guard lock(mutex);
  if (spare_participants.empty()) return {};
  std::vector<QueuedParticipant> rows = std::move(spare_participants.back());
  spare_participants.pop_back();
  return rows;
}

void ImportWriter::Impl::Recycle(WriteJob& job) {
  if (job.participants.capacity() > 0 && spare_participants.size() < kSpares) {
    job.participants.clear();
    spare_participants.push_back(std::move(job.participants));
  }
  for (RecordQueue& queue : job.records) {
    if (queue.records.capacity() == 0 || spare_queues.size() >= kSpares) continue;
    queue.Clear();
    spare_queues.push_back(std::move(queue));
  }
}

void ImportWriter::WriteFullChunks() {
  bool full = impl_->participants.size() >= kSortWindow;
  for (const RecordQueue& queue : impl_->queues) full = full || queue.records.size() >= kSortWindow;
  if (!full) return;
  // Every queued participant and, of each full window, its sorted whole
  // chunks go to the writer thread; the rest stays queued.
  WriteJob job;
  job.participants = impl_->SpareParticipants();
  job.participants.swap(impl_->participants);
  for (std::size_t k = 0; k < 4; ++k) {
    RecordQueue& queue = impl_->queues[k];
    if (queue.records.size() < kSortWindow) continue;
    impl_->SortQueue(static_cast<RecordKind>(k));
    RecordQueue rest = impl_->SpareQueue();
    queue.MoveTail(queue.records.size() / kRecordChunk * kRecordChunk, rest);
    const std::size_t arena_bytes = queue.arena.size();
    job.records[k] = std::move(queue);
    queue = std::move(rest);
    queue.records.reserve(kSortWindow + kRecordChunk);  // the next window, without regrowing
    queue.arena.reserve(arena_bytes + arena_bytes / 8);
  }
  impl_->Submit(std::move(job));
}

void ImportWriter::FlushRecords() {
  impl_->Drain();
  impl_->WriteParticipants();
  for (std::size_t k = 0; k < 4; ++k) {
    // The last, partial window is sorted like the full ones.
    impl_->SortQueue(static_cast<RecordKind>(k));
    impl_->WriteQueue(static_cast<RecordKind>(k));
  }
}

int ImportWriter::SupersedeRecord(RecordKind kind, std::int64_t participant_id, std::optional<std::int64_t> visit_id,
                                  std::int64_t variable_id, std::int64_t batch_id) {
  impl_->Drain();
  RawStatement& st = impl_->Supersede(kind);
  st.Int(1, participant_id);
  st.Int(2, variable_id);
  st.Int(3, visit_id.value_or(0));
  st.Int(4, batch_id);
  st.Run("superseding a record");
  return sqlite3_changes(impl_->db.getHandle());
}

bool ImportWriter::HasCurrentRecords(std::int64_t variable_id) {
  impl_->Drain();
  try {
    SQLite::Statement st(impl_->db, "SELECT EXISTS (SELECT 1 FROM record_coverage WHERE variable_id = ?1)");
    st.bind(1, variable_id);
    st.executeStep();
    return st.getColumn(0).getInt() != 0;
  } catch (const SQLite::Exception& e) {
    Rethrow("reading record coverage", e);
  }
}

void ImportWriter::AddCoverage(std::int64_t variable_id, std::optional<std::int64_t> visit_id) {
  impl_->Drain();
  RawStatement& st = impl_->Lazy(impl_->add_coverage,
                                 "INSERT OR IGNORE INTO record_coverage (variable_id, visit_key) VALUES (?1, ?2)");
  st.Int(1, variable_id);
  st.Int(2, visit_id.value_or(0));
  st.Run("recording record coverage");
}

void ImportWriter::InsertImportError(std::int64_t batch_id, std::int64_t line, std::optional<std::int64_t> column_index,
                                     std::string_view column_name, std::string_view message, std::string_view raw_row) {
  impl_->Drain();
  RawStatement& st = impl_->Lazy(impl_->insert_error,
                                 "INSERT INTO import_error (batch_id, line, column_index, column_name, message, raw_row) "
                                 "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  st.Int(1, batch_id);
  st.Int(2, line);
  st.Int(3, column_index);
  st.Text(4, column_name.empty() ? std::nullopt : std::optional<std::string_view>(column_name));
  st.Text(5, message);
  st.Text(6, raw_row);
  st.Run("recording an import error");
}

std::optional<ImportWriter::MetaTrial> ImportWriter::FindMetaTrial(std::int64_t study_id,
                                                                   std::string_view label) {
  impl_->Drain();
  try {
    SQLite::Statement find(impl_->db,
                           "SELECT trial_id, year, duration_weeks, attributes FROM meta_trial "
                           "WHERE study_id = ?1 AND label = ?2");
    find.bind(1, study_id);
    BindView(find, 2, label);
    if (!find.executeStep()) return std::nullopt;
    MetaTrial trial;
    trial.trial_id = find.getColumn(0).getInt64();
    if (!find.getColumn(1).isNull()) trial.year = find.getColumn(1).getInt64();
    if (!find.getColumn(2).isNull()) trial.duration_weeks = find.getColumn(2).getDouble();
    SQLite::Statement attrs(
        impl_->db,
        "SELECT key, value FROM meta_trial, json_each(meta_trial.attributes) WHERE trial_id = ?1 "
        "ORDER BY id");
    attrs.bind(1, trial.trial_id);
    while (attrs.executeStep()) {
      trial.attributes.emplace_back(attrs.getColumn(0).getString(), attrs.getColumn(1).getString());
    }
    return trial;
  } catch (const SQLite::Exception& e) {
    Rethrow("reading a trial", e);
  }
}

std::int64_t ImportWriter::UpsertMetaTrial(std::int64_t study_id, std::string_view label,
                                           std::optional<std::int64_t> year, std::optional<double> duration_weeks,
                                           std::string_view attributes_json, std::int64_t batch_id) {
  impl_->Drain();
  try {
    SQLite::Statement find(impl_->db, "SELECT trial_id FROM meta_trial WHERE study_id = ?1 AND label = ?2");
    find.bind(1, study_id);
    BindView(find, 2, label);
    std::optional<std::string_view> attrs;
    if (!attributes_json.empty()) attrs = attributes_json;
    if (find.executeStep()) {
      std::int64_t id = find.getColumn(0).getInt64();
      // json_patch merges the row's keys into the held object (RFC 7396).
      SQLite::Statement up(
          impl_->db,
          "UPDATE meta_trial SET year = ifnull(?2, year), duration_weeks = ifnull(?3, duration_weeks), "
          "attributes = CASE WHEN ?4 IS NULL THEN attributes "
          "ELSE json_patch(ifnull(attributes, '{}'), ?4) END WHERE trial_id = ?1");
      up.bind(1, id);
      BindInt(up, 2, year);
      BindDouble(up, 3, duration_weeks);
      BindView(up, 4, attrs);
      up.exec();
      return id;
    }
    SQLite::Statement ins(impl_->db,
                          "INSERT INTO meta_trial (study_id, label, year, duration_weeks, attributes, batch_id) "
                          "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    ins.bind(1, study_id);
    BindView(ins, 2, label);
    BindInt(ins, 3, year);
    BindDouble(ins, 4, duration_weeks);
    BindView(ins, 5, attrs);
    ins.bind(6, batch_id);
    ins.exec();
    return impl_->db.getLastInsertRowid();
  } catch (const SQLite::Exception& e) {
    Rethrow("writing a trial", e);
  }
}

std::optional<std::int64_t> ImportWriter::ArmSummaryBatch(std::int64_t trial_id, std::string_view outcome,
                                                          std::string_view arm) {
  impl_->Drain();
  try {
    SQLite::Statement st(
        impl_->db,
        "SELECT ifnull(batch_id, 0) FROM meta_arm_summary WHERE trial_id = ?1 AND outcome = ?2 AND arm = ?3");
    st.bind(1, trial_id);
    BindView(st, 2, outcome);
    BindView(st, 3, arm);
    if (!st.executeStep()) return std::nullopt;
    return st.getColumn(0).getInt64();
  } catch (const SQLite::Exception& e) {
    Rethrow("reading a trial arm summary", e);
  }
}

void ImportWriter::InsertArmSummary(std::int64_t trial_id, std::string_view outcome, std::string_view arm,
                                    std::int64_t n, std::optional<double> mean, std::optional<double> sd,
                                    std::optional<std::int64_t> events, std::int64_t batch_id, bool replace) {
  impl_->Drain();
  try {
    SQLite::Statement st(impl_->db,
                         fmt::format("INSERT {} INTO meta_arm_summary (trial_id, outcome, arm, n, mean, sd, events, batch_id) "
                                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                                     replace ? "OR REPLACE" : ""));
    st.bind(1, trial_id);
    BindView(st, 2, outcome);
    BindView(st, 3, arm);
    st.bind(4, n);
    BindDouble(st, 5, mean);
    BindDouble(st, 6, sd);
    BindInt(st, 7, events);
    st.bind(8, batch_id);
    st.exec();
  } catch (const SQLite::Exception& e) {
    Rethrow("writing a trial arm summary", e);
  }
}

}  // namespace cohortdb
