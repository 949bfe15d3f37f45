#include "import/importer.h"

#include <ostream>

#include <fmt/format.h>

#include "common/error.h"
#include "import/import_session.h"
#include "import/spec.h"
#include "store/frame_column_cache.h"
#include "store/import_writer.h"

namespace cohortdb {
namespace {
void ImportInTransaction(Store& store, const ImportOptions& options, const ImportSpec& spec, ImportReport& report);
}  // namespace

ImportReport RunImport(Store& store, const ImportOptions& options) {
  if (options.files.empty()) throw UsageError("import: expected at least one FILE after the options");
  if (options.max_errors < 1) throw UsageError("import: --max-errors must be at least 1");
  const ImportSpec spec = ParseSpecFile(options.spec_path);
  ImportReport report;
  report.dry_run = options.dry_run;
  try {
    ImportInTransaction(store, options, spec, report);
  } catch (const StoreError& e) {
    // The transaction rolled back (a full disk, an I/O error, a busy store).
    throw StoreError(fmt::format("{}; the store is unchanged", e.what()));
  }
  return report;
}

namespace {

// Loads every file of "options" in one transaction (see RunImport).
void ImportInTransaction(Store& store, const ImportOptions& options, const ImportSpec& spec, ImportReport& report) {
  bool loaded_any = false;
  ImportWriter::BeginBulkLoad(store, /*disable_foreign_keys=*/true);
  struct FkGuard {
    Store& store;
    ~FkGuard() {
      try {
        ImportWriter::EndBulkLoad(store);
      } catch (...) {
      }
    }
  } fk_guard{store};
  {
    // Tuned before the transaction begins: SQLite decides where a
    // transaction keeps its statement journal (memory, with temp_store =
    // MEMORY) when the transaction starts. On disk, the multi-row inserts
    // made two million small writes to a temporary file.
    ImportWriter writer(store);
    writer.TuneForBulkLoad();
    Store::Transaction transaction(store);
    // Empties the frame column cache and lifts its triggers for this
    // transaction: the load's rows pay nothing for them.
    FrameCacheSuspension frame_cache(store);
    ImportSession session(store, writer, spec, options);
    for (const std::string& file : options.files) {
      report.files.push_back(session.ImportFile(file));
      if (!report.files.back().skipped) loaded_any = true;
      if (!options.quarantine && session.error_count() >= options.max_errors) break;
    }
    // Without --quarantine every error fails the command; with it, only the
    // errors that make a file unreadable (header, quoting) do.
    if (!session.errors().empty()) {
      std::string message;
      for (const std::string& e : session.errors()) message += e + "\n";
      if (!options.quarantine && session.error_count() >= options.max_errors) {
        message += fmt::format("import failed: stopped after {} errors (--max-errors {}); the store is unchanged",
                               session.error_count(), options.max_errors);
      } else {
        const auto n = options.quarantine ? session.file_error_count() : session.error_count();
        const auto shown = static_cast<std::int64_t>(session.errors().size());
        message += fmt::format("import failed: {} error{}{}; the store is unchanged", n, n == 1 ? "" : "s",
                               n > shown ? fmt::format(" (the first {} shown; --max-errors {})", shown,
                                                       options.max_errors)
                                         : std::string());
      }
      throw InputError(message);
    }
    if (options.dry_run) return;  // the transaction rolls back
    // The pivot views follow the catalog; refreshed inside the transaction so
    // a failure leaves the store as it was.
    if (loaded_any && spec.shape != FileShape::kTrialSummary) store.RefreshPivots(spec.study);
    frame_cache.Restore();
    transaction.Commit();
  }
}

}  // namespace

void PrintImportReport(std::ostream& out, const ImportReport& report) {
  for (const FileImportReport& f : report.files) {
    if (f.skipped) {
      out << fmt::format("{}: already imported with this spec (batch {}, {} rows); nothing to do\n", f.file, f.batch_id,
                         f.rows_loaded);
      continue;
    }
    out << fmt::format("{}: {} rows read, {} {}, {} rejected; {} values, {} new participants{}{}\n", f.file,
                       f.rows_read, f.rows_loaded, report.dry_run ? "valid" : "loaded", f.rows_rejected, f.values,
                       f.participants_created,
                       f.superseded > 0 ? fmt::format(", {} superseded", f.superseded) : std::string(),
                       report.dry_run ? " (dry run: nothing written)" : fmt::format(" (batch {})", f.batch_id));
    if (f.normalised > 0) {
      out << fmt::format("{}: {} cell{} normalised, first at {} (read as a number or code, or trimmed; "
                         "docs/IMPORT.md, \"Normalisation\")\n",
                         f.file, f.normalised, f.normalised == 1 ? "" : "s", f.first_normalised);
    }
  }
}

}  // namespace cohortdb
