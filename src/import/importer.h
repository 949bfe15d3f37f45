#pragma once
// RunImport: `cohortdb import` without the command line. Loads one or more
// export files described by one spec into a store, all or nothing: the whole
// command runs in one transaction that commits only if no file had an error
// (or, with quarantine, after rejected rows were recorded in import_error).
//
// Contract:
//  - every file gets an import_batch row (file name, sha256, spec sha256,
//    rows read/loaded/rejected, start/finish time, tool version);
//  - a file already loaded with the same spec (same sha256 pair) is skipped
//    and reported as such;
//  - errors read "FILE:LINE:COLUMN: what was expected, what was found"; up to
//    max_errors are collected, then RunImport throws InputError listing them
//    and the store is unchanged;
//  - dry_run validates everything in a transaction that is rolled back;
//  - replace supersedes current records with the same participant, visit and
//    variable (superseded_by = the new batch) instead of failing.
// Not thread-safe; the Store must not be inside a transaction.

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "store/store.h"

namespace cohortdb {

struct ImportOptions {
  std::string spec_path;
  std::vector<std::string> files;
  bool dry_run = false;
  bool quarantine = false;
  bool replace = false;
  int max_errors = 20;
  bool progress = false;   // print a progress line on stderr
};

struct FileImportReport {
  std::string file;
  bool skipped = false;          // already imported with this spec
  std::int64_t batch_id = 0;     // the new batch, or the earlier one when skipped
  std::int64_t rows_read = 0;
  std::int64_t rows_loaded = 0;
  std::int64_t rows_rejected = 0;
  std::int64_t values = 0;       // records written (or trial arm summaries)
  std::int64_t participants_created = 0;
  std::int64_t superseded = 0;
  // Cells of loaded rows (and header names) read as other than their exact
  // text: blanks around them, numbers such as "+5", ".5", "1e3", "-0"
  // (docs/IMPORT.md, "Normalisation"); the first one as "line L, column C: 'text'".
  std::int64_t normalised = 0;
  std::string first_normalised;
};

struct ImportReport {
  std::vector<FileImportReport> files;
  bool dry_run = false;
};

ImportReport RunImport(Store& store, const ImportOptions& options);

// Human-readable summary lines of a report (one per file).
void PrintImportReport(std::ostream& out, const ImportReport& report);

}  // namespace cohortdb
