// Benchmark driver for tools/bench/layouts: how long SQLite alone takes to
// store the import benchmark's values in three record layouts, with the
// values already parsed and validated (so only SQLite's share is timed).
//
//   bench_layouts REDCAP.csv IMAGING.csv WORK_DIR [LAYOUT]
//
// With LAYOUT (store, compact or wide), only that layout is written.
// The two files are the cohort exports of tools/bench/import (REDCap flat
// export with the columns of examples/cohort/cohort.toml, imaging long
// file). Each layout writes, into a fresh WAL database in WORK_DIR with the
// import's connection settings (128 MiB page cache, temp store in memory,
// multi-row INSERTs of 256 rows, foreign keys off), every participant and
// every non-missing value, the imaging rows sorted by key in windows of
// 65,536 as ImportWriter does:
//   store     the store's own record tables (schema/schema.sql): one row per
//             value with source value, unit, censoring and batch, and the
//             <kind>_current unique index;
//   compact   the smallest per-value layout: one row per value holding only
//             its key, value and batch, clustered on the key (WITHOUT ROWID,
//             no second index, no source value);
//   wide      one row per REDCap line (a typed column per variable, the
//             line's batch), the imaging values as in "compact".
// Prints one line per layout: "<name> <rows> <wall s> <cpu s> <MB>".

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "import/csv_reader.h"

namespace {

// The REDCap columns holding values, in file order after record_id, site and
// sex (sex is both a participant attribute and a categorical variable).
constexpr int kRedcapValueColumns = 9;  // sex, age, comorb 1-4, met, cbp, pain_nrs
constexpr std::size_t kChunk = 256;
constexpr std::size_t kWindow = 65536;

struct Participant {
  std::string external_id;
  int site = 0;
  int sex = 0;
  double age = 0;
};

struct Value {
  std::int64_t participant = 0;
  int variable = 0;  // 1-9 REDCap columns, 10 LMM, 11 InterMAT
  double value = 0;
  std::string source;
  const char* unit = nullptr;
};

struct Data {
  std::vector<Participant> participants;  // id = index + 1
  std::vector<Value> redcap;              // participant-major, as the file
  std::vector<Value> imaging;             // sorted within windows
  std::vector<std::array<std::optional<double>, kRedcapValueColumns>> lines;  // wide rows
};

std::optional<double> ParseValue(std::string_view text) {
  if (text.empty() || text == "NA" || text == "-999") return std::nullopt;
  return std::stod(std::string(text));
}

Data Load(const std::string& redcap_path, const std::string& imaging_path) {
  Data data;
  std::unordered_map<std::string, std::int64_t> ids;
  std::unordered_map<std::string, int> sites;
  static const char* kUnits[kRedcapValueColumns] = {nullptr, "years", nullptr, nullptr, nullptr,
                                                    nullptr, "MET-min/week", nullptr, "NRS"};
  cohortdb::CsvReader redcap(redcap_path, ',');
  redcap.Next();  // header
  while (const cohortdb::CsvRecord* row = redcap.Next()) {
    Participant p;
    p.external_id = std::string((*row)[0]);
    p.site = sites.emplace(std::string((*row)[1]), static_cast<int>(sites.size()) + 1).first->second;
    p.sex = (*row)[2] == "1" ? 1 : 2;
    p.age = std::stod(std::string((*row)[3]));
    data.participants.push_back(p);
    std::int64_t id = static_cast<std::int64_t>(data.participants.size());
    ids.emplace(p.external_id, id);
    auto& line = data.lines.emplace_back();
    for (int c = 0; c < kRedcapValueColumns; ++c) {
      std::string_view text = (*row)[2 + c];
      line[c] = ParseValue(text);
      if (line[c]) data.redcap.push_back({id, c + 1, *line[c], std::string(text), kUnits[c]});
    }
  }
  cohortdb::CsvReader imaging(imaging_path, ',');
  imaging.Next();
  while (const cohortdb::CsvRecord* row = imaging.Next()) {
    auto value = ParseValue((*row)[2]);
    if (!value) continue;
    auto id = ids.find(std::string((*row)[0]));
    if (id == ids.end()) throw std::runtime_error("imaging subject not in the REDCap file");
    data.imaging.push_back({id->second, (*row)[1] == "LMM" ? 10 : 11, *value, std::string((*row)[2]), "cm3/kg/m"});
  }
  auto by_key = [](const Value& a, const Value& b) {
    return a.participant != b.participant ? a.participant < b.participant : a.variable < b.variable;
  };
  for (std::size_t begin = 0; begin < data.imaging.size(); begin += kWindow) {
    auto end = data.imaging.begin() + static_cast<std::ptrdiff_t>(std::min(data.imaging.size(), begin + kWindow));
    std::sort(data.imaging.begin() + static_cast<std::ptrdiff_t>(begin), end, by_key);
  }
  return data;
}

class Db {
 public:
  explicit Db(const std::string& path) {
    if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) throw std::runtime_error("cannot open " + path);
    Exec("PRAGMA journal_mode = WAL; PRAGMA foreign_keys = OFF; PRAGMA cache_size = -131072;"
         " PRAGMA temp_store = MEMORY;");
  }
  ~Db() {
    for (auto* st : statements_) sqlite3_finalize(st);
    sqlite3_close(db_);
  }
  void Exec(const std::string& sql) {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
      std::string message = error ? error : "?";
      sqlite3_free(error);
      throw std::runtime_error(message + " in: " + sql);
    }
  }
  // The names of the frame column cache's triggers (migration 0008).
  std::vector<std::string> FrameCacheTriggers() {
    std::vector<std::string> names;
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db_,
                       "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name GLOB 'frame_cache_clear_*'",
                       -1, &st, nullptr);
    while (st != nullptr && sqlite3_step(st) == SQLITE_ROW) {
      names.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
    }
    sqlite3_finalize(st);
    return names;
  }
  // "INSERT INTO table (columns) VALUES (?, ...), ..." for kChunk rows.
  sqlite3_stmt* PrepareChunk(const std::string& head, int columns, std::size_t rows) {
    std::string sql = head + " VALUES ";
    for (std::size_t r = 0; r < rows; ++r) {
      sql += r ? ",(" : "(";
      for (int c = 0; c < columns; ++c) sql += c ? ",?" : "?";
      sql += ")";
    }
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) throw std::runtime_error(sqlite3_errmsg(db_));
    statements_.push_back(st);
    return st;
  }
  void Step(sqlite3_stmt* st) {
    if (sqlite3_step(st) != SQLITE_DONE) throw std::runtime_error(sqlite3_errmsg(db_));
    sqlite3_reset(st);
  }

 private:
  sqlite3* db_ = nullptr;
  std::vector<sqlite3_stmt*> statements_;
};

// Writes "rows" in chunks: bind(statement, first_parameter, row) binds one.
template <typename Row, typename Bind>
std::size_t WriteChunked(Db& db, const std::string& head, int columns, const std::vector<Row>& rows, Bind bind) {
  sqlite3_stmt* full = db.PrepareChunk(head, columns, kChunk);
  std::size_t i = 0;
  for (; i + kChunk <= rows.size(); i += kChunk) {
    for (std::size_t r = 0; r < kChunk; ++r) bind(full, static_cast<int>(r) * columns + 1, rows[i + r]);
    db.Step(full);
  }
  if (i < rows.size()) {
    sqlite3_stmt* tail = db.PrepareChunk(head, columns, rows.size() - i);
    for (std::size_t r = 0; i + r < rows.size(); ++r) bind(tail, static_cast<int>(r) * columns + 1, rows[i + r]);
    db.Step(tail);
  }
  return rows.size();
}

void BindText(sqlite3_stmt* st, int at, const std::string& text) {
  sqlite3_bind_text(st, at, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
}
void BindOptionalText(sqlite3_stmt* st, int at, const char* text) {
  if (text) {
    sqlite3_bind_text(st, at, text, -1, SQLITE_STATIC);
  } else {
    sqlite3_bind_null(st, at);
  }
}

std::size_t WriteParticipants(Db& db, const Data& data, const std::string& table) {
  std::int64_t id = 0;
  return WriteChunked(db, "INSERT INTO " + table + " (participant_id, study_id, external_id, site_id, sex, age_years, batch_id)",
                      7, data.participants, [&id](sqlite3_stmt* st, int at, const Participant& p) {
                        sqlite3_bind_int64(st, at, ++id);
                        sqlite3_bind_int64(st, at + 1, 1);
                        BindText(st, at + 2, p.external_id);
                        sqlite3_bind_int64(st, at + 3, p.site);
                        sqlite3_bind_text(st, at + 4, p.sex == 1 ? "female" : "male", -1, SQLITE_STATIC);
                        sqlite3_bind_double(st, at + 5, p.age);
                        sqlite3_bind_int64(st, at + 6, 1);
                      });
}

// The store's tables: the caller passes a store made by `cohortdb init`.
std::size_t WriteStoreLayout(Db& db, const Data& data) {
  // As an import does: the frame cache's triggers are lifted inside the
  // transaction (the import puts them back before it commits), so no row
  // pays for them.
  for (const std::string& name : db.FrameCacheTriggers()) db.Exec("DROP TRIGGER \"" + name + "\"");
  std::size_t rows = WriteParticipants(db, data, "participant");
  auto bind = [](sqlite3_stmt* st, int at, const Value& v) {
    sqlite3_bind_int64(st, at, v.participant);
    sqlite3_bind_int64(st, at + 1, v.variable);
    sqlite3_bind_double(st, at + 2, v.value);
    BindText(st, at + 3, v.source);
    BindOptionalText(st, at + 4, v.unit);
    sqlite3_bind_int64(st, at + 5, 1);
  };
  std::vector<Value> covariates, outcomes;
  for (const Value& v : data.redcap) (v.variable >= 8 ? outcomes : covariates).push_back(v);
  const std::string columns = " (participant_id, variable_id, value, source_value, source_unit, batch_id)";
  rows += WriteChunked(db, "INSERT INTO covariate" + columns, 6, covariates, bind);
  rows += WriteChunked(db, "INSERT INTO outcome" + columns, 6, outcomes, bind);
  rows += WriteChunked(db, "INSERT INTO mri_metric (participant_id, variable_id, value, source_value, source_unit, batch_id, model_name, model_version)",
                       8, data.imaging, [&bind](sqlite3_stmt* st, int at, const Value& v) {
                         bind(st, at, v);
                         sqlite3_bind_text(st, at + 6, "nako-seg", -1, SQLITE_STATIC);
                         sqlite3_bind_text(st, at + 7, "2.1.0", -1, SQLITE_STATIC);
                       });
  return rows;
}

const char* kParticipantTable =
    "CREATE TABLE participant (participant_id INTEGER PRIMARY KEY, study_id INTEGER NOT NULL,"
    " external_id TEXT NOT NULL, site_id INTEGER, sex TEXT, age_years REAL, batch_id INTEGER,"
    " UNIQUE (study_id, external_id));";
const char* kCompactTable =
    "CREATE TABLE value (participant_id INTEGER NOT NULL, variable_id INTEGER NOT NULL,"
    " visit_key INTEGER NOT NULL, value REAL, batch_id INTEGER NOT NULL,"
    " PRIMARY KEY (participant_id, variable_id, visit_key)) WITHOUT ROWID;";

void BindCompact(sqlite3_stmt* st, int at, const Value& v) {
  sqlite3_bind_int64(st, at, v.participant);
  sqlite3_bind_int64(st, at + 1, v.variable);
  sqlite3_bind_int64(st, at + 2, 0);
  sqlite3_bind_double(st, at + 3, v.value);
  sqlite3_bind_int64(st, at + 4, 1);
}

std::size_t WriteCompactLayout(Db& db, const Data& data) {
  db.Exec(std::string(kParticipantTable) + kCompactTable);
  std::size_t rows = WriteParticipants(db, data, "participant");
  const std::string head = "INSERT INTO value (participant_id, variable_id, visit_key, value, batch_id)";
  rows += WriteChunked(db, head, 5, data.redcap, BindCompact);
  rows += WriteChunked(db, head, 5, data.imaging, BindCompact);
  return rows;
}

std::size_t WriteWideLayout(Db& db, const Data& data) {
  std::string line_table =
      "CREATE TABLE cohort_line (participant_id INTEGER NOT NULL, visit_key INTEGER NOT NULL,"
      " batch_id INTEGER NOT NULL";
  std::string head = "INSERT INTO cohort_line (participant_id, visit_key, batch_id";
  for (int c = 1; c <= kRedcapValueColumns; ++c) {
    line_table += ", v" + std::to_string(c) + " REAL";
    head += ", v" + std::to_string(c);
  }
  line_table += ", PRIMARY KEY (participant_id, visit_key)) WITHOUT ROWID;";
  head += ")";
  db.Exec(std::string(kParticipantTable) + kCompactTable + line_table);
  std::size_t rows = WriteParticipants(db, data, "participant");
  std::int64_t id = 0;
  rows += WriteChunked(db, head, 3 + kRedcapValueColumns, data.lines,
                       [&id](sqlite3_stmt* st, int at, const std::array<std::optional<double>, kRedcapValueColumns>& line) {
                         sqlite3_bind_int64(st, at, ++id);
                         sqlite3_bind_int64(st, at + 1, 0);
                         sqlite3_bind_int64(st, at + 2, 1);
                         for (int c = 0; c < kRedcapValueColumns; ++c) {
                           if (line[c]) {
                             sqlite3_bind_double(st, at + 3 + c, *line[c]);
                           } else {
                             sqlite3_bind_null(st, at + 3 + c);
                           }
                         }
                       });
  rows += WriteChunked(db, "INSERT INTO value (participant_id, variable_id, visit_key, value, batch_id)", 5,
                       data.imaging, BindCompact);
  return rows;
}

double CpuSeconds() { return static_cast<double>(std::clock()) / CLOCKS_PER_SEC; }

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4 && argc != 5) {
    std::fprintf(stderr, "usage: bench_layouts REDCAP.csv IMAGING.csv WORK_DIR [store|compact|wide]\n");
    return 2;
  }
  const std::string only = argc == 5 ? argv[4] : "";
  if (!only.empty() && only != "store" && only != "compact" && only != "wide") {
    std::fprintf(stderr, "bench_layouts: expected the layout store, compact or wide, found '%s'\n", only.c_str());
    return 2;
  }
  try {
    const Data data = Load(argv[1], argv[2]);
    const std::string dir = argv[3];
    struct Layout {
      const char* name;
      std::size_t (*write)(Db&, const Data&);
    };
    for (const Layout& layout : {Layout{"store", WriteStoreLayout}, Layout{"compact", WriteCompactLayout},
                                 Layout{"wide", WriteWideLayout}}) {
      if (!only.empty() && only != layout.name) continue;
      // The store layout is written into a store made by `cohortdb init`
      // (the script creates it); the others into an empty file.
      const std::string path = dir + "/layout_" + layout.name + ".db";
      auto wall = std::chrono::steady_clock::now();
      double cpu = CpuSeconds();
      std::size_t rows = 0;
      {
        Db db(path);
        db.Exec("BEGIN");
        rows = layout.write(db, data);
        db.Exec("COMMIT");
      }
      double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall).count();
      double cpu_s = CpuSeconds() - cpu;
      std::FILE* f = std::fopen(path.c_str(), "rb");
      double mb = 0;
      if (f) {
        std::fseek(f, 0, SEEK_END);
        mb = static_cast<double>(std::ftell(f)) / 1e6;
        std::fclose(f);
      }
      std::printf("%s %zu %.2f %.2f %.0f\n", layout.name, rows, wall_s, cpu_s, mb);
      std::fflush(stdout);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_layouts: %s\n", e.what());
    return 1;
  }
  return 0;
}
