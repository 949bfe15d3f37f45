#include "store/catalog.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>

#include "common/error.h"

namespace cohortdb {
namespace {

template <typename F>
auto Guarded(const char* what, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const SQLite::Exception& e) {
    throw StoreError(fmt::format("{}: {}", what, e.what()));
  }
}

std::optional<double> OptionalDouble(const SQLite::Column& c) {
  if (c.isNull()) return std::nullopt;
  return c.getDouble();
}

void BindOptional(SQLite::Statement& st, int index, const std::optional<double>& v) {
  if (v) st.bind(index, *v);
  else st.bind(index);
}

void BindText(SQLite::Statement& st, int index, const std::string& s) {
  if (s.empty()) st.bind(index);
  else st.bind(index, s);
}

void InsertLevels(SQLite::Database& db, const CatalogVariable& v, std::int64_t id) {
  SQLite::Statement st(db, "INSERT INTO variable_level (variable_id, level, label, source_code) VALUES (?1, ?2, ?3, ?4)");
  for (const auto& l : v.levels) {
    st.bind(1, id);
    st.bind(2, l.level);
    st.bind(3, l.label);
    st.bind(4, l.source_code);
    st.exec();
    st.reset();
  }
}

}  // namespace

std::optional<std::int64_t> FindStudy(Store& store, const std::string& code) {
  return Guarded("reading study", [&]() -> std::optional<std::int64_t> {
    SQLite::Statement st(store.database(), "SELECT study_id FROM study WHERE code = ?1");
    st.bind(1, code);
    if (st.executeStep()) return st.getColumn(0).getInt64();
    return std::nullopt;
  });
}

std::int64_t CreateStudy(Store& store, const std::string& code, const std::string& design,
                         const std::string& title) {
  return Guarded("creating study", [&] {
    SQLite::Statement st(store.database(), "INSERT INTO study (code, title, design) VALUES (?1, ?2, ?3)");
    st.bind(1, code);
    BindText(st, 2, title);
    st.bind(3, design);
    st.exec();
    return store.database().getLastInsertRowid();
  });
}

std::vector<CatalogVariable> LoadVariables(Store& store, std::int64_t study_id) {
  return Guarded("reading the variable catalog", [&] {
    std::vector<CatalogVariable> out;
    SQLite::Statement st(store.database(),
                         "SELECT variable_id, code, ifnull(label, ''), record_kind, value_type, ifnull(unit, ''), "
                         "min_value, max_value FROM variable WHERE study_id = ?1 ORDER BY variable_id");
    st.bind(1, study_id);
    while (st.executeStep()) {
      CatalogVariable v;
      v.id = st.getColumn(0).getInt64();
      v.code = st.getColumn(1).getString();
      v.label = st.getColumn(2).getString();
      v.record_kind = st.getColumn(3).getString();
      v.value_type = st.getColumn(4).getString();
      v.unit = st.getColumn(5).getString();
      v.min_value = OptionalDouble(st.getColumn(6));
      v.max_value = OptionalDouble(st.getColumn(7));
      out.push_back(std::move(v));
    }
    SQLite::Statement lv(store.database(),
                         "SELECT level, label, source_code FROM variable_level WHERE variable_id = ?1 ORDER BY level");
    for (auto& v : out) {
      lv.bind(1, v.id);
      while (lv.executeStep()) {
        v.levels.push_back({lv.getColumn(0).getInt64(), lv.getColumn(1).getString(), lv.getColumn(2).getString()});
      }
      lv.reset();
    }
    return out;
  });
}

std::int64_t CreateVariable(Store& store, std::int64_t study_id, const CatalogVariable& v) {
  return Guarded("creating variable", [&] {
    SQLite::Database& db = store.database();
    SQLite::Statement st(db,
                         "INSERT INTO variable (study_id, code, label, record_kind, value_type, unit, min_value, max_value) "
                         "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    st.bind(1, study_id);
    st.bind(2, v.code);
    BindText(st, 3, v.label);
    st.bind(4, v.record_kind);
    st.bind(5, v.value_type);
    BindText(st, 6, v.unit);
    BindOptional(st, 7, v.min_value);
    BindOptional(st, 8, v.max_value);
    st.exec();
    std::int64_t id = db.getLastInsertRowid();
    InsertLevels(db, v, id);
    return id;
  });
}

void UpdateVariable(Store& store, const CatalogVariable& v) {
  Guarded("updating variable", [&] {
    SQLite::Database& db = store.database();
    SQLite::Statement st(db,
                         "UPDATE variable SET label = ?2, record_kind = ?3, value_type = ?4, unit = ?5, min_value = ?6, "
                         "max_value = ?7 WHERE variable_id = ?1");
    st.bind(1, v.id);
    BindText(st, 2, v.label);
    st.bind(3, v.record_kind);
    st.bind(4, v.value_type);
    BindText(st, 5, v.unit);
    BindOptional(st, 6, v.min_value);
    BindOptional(st, 7, v.max_value);
    st.exec();
    SQLite::Statement del(db, "DELETE FROM variable_level WHERE variable_id = ?1");
    del.bind(1, v.id);
    del.exec();
    InsertLevels(db, v, v.id);
  });
}

bool VariableHasRecords(Store& store, const CatalogVariable& v) {
  return Guarded("reading records", [&] {
    SQLite::Statement st(store.database(),
                         fmt::format("SELECT EXISTS (SELECT 1 FROM {} WHERE variable_id = ?1)", v.record_kind));
    st.bind(1, v.id);
    st.executeStep();
    return st.getColumn(0).getInt() != 0;
  });
}

std::vector<CatalogVisit> LoadVisits(Store& store, std::int64_t study_id) {
  return Guarded("reading visits", [&] {
    std::vector<CatalogVisit> out;
    SQLite::Statement st(store.database(),
                         "SELECT visit_id, code, visit_order FROM visit WHERE study_id = ?1 ORDER BY visit_order");
    st.bind(1, study_id);
    while (st.executeStep()) {
      out.push_back({st.getColumn(0).getInt64(), st.getColumn(1).getString(), st.getColumn(2).getInt64()});
    }
    return out;
  });
}

std::int64_t CreateVisit(Store& store, std::int64_t study_id, const std::string& code, const std::string& label,
                         std::int64_t order, std::optional<std::int64_t> day) {
  return Guarded("creating visit", [&] {
    SQLite::Statement st(store.database(),
                         "INSERT INTO visit (study_id, code, label, visit_order, nominal_day) VALUES (?1, ?2, ?3, ?4, ?5)");
    st.bind(1, study_id);
    st.bind(2, code);
    BindText(st, 3, label);
    st.bind(4, order);
    if (day) st.bind(5, *day);
    else st.bind(5);
    st.exec();
    return store.database().getLastInsertRowid();
  });
}

std::vector<CatalogSite> LoadSites(Store& store, std::int64_t study_id) {
  return Guarded("reading sites", [&] {
    std::vector<CatalogSite> out;
    SQLite::Statement st(store.database(), "SELECT site_id, code FROM site WHERE study_id = ?1");
    st.bind(1, study_id);
    while (st.executeStep()) out.push_back({st.getColumn(0).getInt64(), st.getColumn(1).getString()});
    return out;
  });
}

std::int64_t CreateSite(Store& store, std::int64_t study_id, const std::string& code) {
  return Guarded("creating site", [&] {
    SQLite::Statement st(store.database(), "INSERT INTO site (study_id, code) VALUES (?1, ?2)");
    st.bind(1, study_id);
    st.bind(2, code);
    st.exec();
    return store.database().getLastInsertRowid();
  });
}

void DeleteVisit(Store& store, std::int64_t visit_id) {
  Guarded("removing a visit", [&] {
    SQLite::Statement st(store.database(), "DELETE FROM visit WHERE visit_id = ?1");
    st.bind(1, visit_id);
    st.exec();
  });
}

void DeleteSite(Store& store, std::int64_t site_id) {
  Guarded("removing a site", [&] {
    SQLite::Statement st(store.database(), "DELETE FROM site WHERE site_id = ?1");
    st.bind(1, site_id);
    st.exec();
  });
}

std::vector<UnitConversion> LoadUnitConversions(Store& store) {
  return Guarded("reading unit conversions", [&] {
    std::vector<UnitConversion> out;
    SQLite::Statement st(store.database(), "SELECT from_unit, to_unit, analyte, factor, offset FROM unit_conversion");
    while (st.executeStep()) {
      out.push_back({st.getColumn(0).getString(), st.getColumn(1).getString(), st.getColumn(2).getString(),
                     st.getColumn(3).getDouble(), st.getColumn(4).getDouble()});
    }
    return out;
  });
}

void RecordBatchConversion(Store& store, const BatchConversion& c) {
  Guarded("recording a unit conversion of the batch", [&] {
    SQLite::Statement st(store.database(),
                         "INSERT INTO import_batch_conversion (batch_id, variable_id, from_unit, to_unit, factor, offset, "
                         "origin, values_converted) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    st.bind(1, c.batch_id);
    st.bind(2, c.variable_id);
    st.bind(3, c.from_unit);
    st.bind(4, c.to_unit);
    st.bind(5, c.factor);
    st.bind(6, c.offset);
    st.bind(7, c.origin);
    st.bind(8, c.values);
    st.exec();
  });
}

}  // namespace cohortdb
