#pragma once
// What `cohortdb info` reports about a store, as tables ready to print.

#include <string>

#include "common/value.h"

namespace cohortdb {

class Store;

struct StoreSummary {
  int schema_version = 0;
  int current_version = 0;
  std::int64_t file_bytes = 0;
  QueryResult counts;       // table, rows
  QueryResult studies;      // study, design, participants, sites, visits, variables
  QueryResult variables;    // study, variable, kind, type, unit, range, records
  QueryResult batches;      // the 10 most recent import batches
  QueryResult quarantine;   // rejected rows kept per batch
};

StoreSummary Summarize(Store& store);

// The store's schema as SQL, every object in creation order with its CREATE
// statement. schema/schema.sql is this text for a freshly created store. The
// per-study pivot views (wide_*) that imports generate follow at the end when
// "with_pivots" (cohortdb info --schema), under a comment saying so.
std::string SchemaSql(Store& store, bool with_pivots = false);

// The sqlite3 shell's catalog commands, each with a LIKE pattern ("": all):
// .tables (tables and views, one column "name"), .indexes (name, table; the
// pattern matches the table) and .schema (the CREATE statements of the
// objects named, and of the indexes and triggers on a table named, each
// ending in ";\n").
QueryResult CatalogTables(Store& store, const std::string& pattern);
QueryResult CatalogIndexes(Store& store, const std::string& pattern);
std::string CatalogSchema(Store& store, const std::string& pattern);

}  // namespace cohortdb
