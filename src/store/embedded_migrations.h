#pragma once
// The schema migrations compiled into this binary from migrations/*.sql,
// ordered by version (the number their file name starts with).

#include <string>
#include <vector>

namespace cohortdb {

struct EmbeddedMigration {
  int version;
  const char* name;  // file name, e.g. "0001_init.sql"
  const char* sql;
};

const std::vector<EmbeddedMigration>& EmbeddedMigrations();

}  // namespace cohortdb
