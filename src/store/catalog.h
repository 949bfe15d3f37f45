#pragma once
// Catalog access for importers: studies, sites, visits, the variable catalog
// (with categorical levels) and the unit-conversion table. Plain functions on
// a Store; they run inside whatever transaction the caller holds. Failures of
// SQLite throw StoreError; a constraint the caller should have checked (for
// instance a duplicate code) also throws StoreError.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/store.h"

namespace cohortdb {

struct CatalogLevel {
  std::int64_t level = 0;
  std::string label;
  std::string source_code;
};

struct CatalogVariable {
  std::int64_t id = 0;
  std::string code;
  std::string label;
  std::string record_kind;  // biomarker | mri_metric | outcome | covariate
  std::string value_type;   // real | integer | boolean | categorical | text
  std::string unit;         // canonical unit, empty if none
  std::optional<double> min_value, max_value;
  std::vector<CatalogLevel> levels;
};

struct CatalogVisit {
  std::int64_t id = 0;
  std::string code;
  std::int64_t order = 0;
};

struct CatalogSite {
  std::int64_t id = 0;
  std::string code;
};

struct UnitConversion {
  std::string from_unit, to_unit, analyte;
  double factor = 1, offset = 0;
};

// The study's id, or nullopt if no study has this code.
std::optional<std::int64_t> FindStudy(Store& store, const std::string& code);
// Creates a study (design: trial | cohort | meta | other) and returns its id.
std::int64_t CreateStudy(Store& store, const std::string& code, const std::string& design,
                         const std::string& title);

std::vector<CatalogVariable> LoadVariables(Store& store, std::int64_t study_id);
// Inserts the variable and its levels; returns the new id.
std::int64_t CreateVariable(Store& store, std::int64_t study_id, const CatalogVariable& variable);
// Replaces label, type, unit, range and levels of an existing variable (by id).
void UpdateVariable(Store& store, const CatalogVariable& variable);
// True if any record (current or superseded) refers to the variable.
bool VariableHasRecords(Store& store, const CatalogVariable& variable);

std::vector<CatalogVisit> LoadVisits(Store& store, std::int64_t study_id);
std::int64_t CreateVisit(Store& store, std::int64_t study_id, const std::string& code,
                         const std::string& label, std::int64_t order, std::optional<std::int64_t> day);

std::vector<CatalogSite> LoadSites(Store& store, std::int64_t study_id);
std::int64_t CreateSite(Store& store, std::int64_t study_id, const std::string& code);
// Remove a visit or site that nothing refers to yet (one an import created
// for a row it then rejected).
void DeleteVisit(Store& store, std::int64_t visit_id);
void DeleteSite(Store& store, std::int64_t site_id);

std::vector<UnitConversion> LoadUnitConversions(Store& store);

// A conversion an import batch applied to the values of one variable
// delivered in "from_unit" (origin: "unit_conversion" or "spec").
struct BatchConversion {
  std::int64_t batch_id = 0, variable_id = 0;
  std::string from_unit, to_unit;
  double factor = 1, offset = 0;
  std::string origin;
  std::int64_t values = 0;
};
// Adds the row to import_batch_conversion.
void RecordBatchConversion(Store& store, const BatchConversion& conversion);

}  // namespace cohortdb
