// import, import-dictionary: loading study exports and REDCap data dictionaries.
#include <CLI/CLI.hpp>
#include <unistd.h>

#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "cli/commands.h"
#include "common/error.h"
#include "common/output_file.h"
#include "import/dictionary.h"
#include "import/importer.h"
#include "store/store.h"

namespace cohortdb::cli {
namespace {

// Exit code of an import --quarantine that kept rejected rows (README.md,
// "Exit codes"; the codes 0-5 are common/error.h's ExitCode).
constexpr int kExitQuarantined = static_cast<int>(ExitCode::kQuarantined);

}  // namespace

std::function<int()> SetupImport(CLI::App& app) {
  auto store_path = std::make_shared<std::string>();
  auto o = std::make_shared<ImportOptions>();
  app.add_option("STORE", *store_path, "Path of the store")->required();
  app.add_option("FILE", o->files, "Export files (CSV/TSV) described by the spec")->required();
  app.add_option("--spec", o->spec_path, "Import spec (TOML, see docs/IMPORT.md)")->required();
  app.add_flag("--dry-run", o->dry_run, "Validate everything and report, writing nothing");
  app.add_option("--max-errors", o->max_errors, "Stop after this many errors (default 20)");
  app.add_flag("--quarantine", o->quarantine, "Load the good rows; keep rejected rows in import_error (exit code 7 when there are any)");
  app.add_flag("--replace", o->replace, "Supersede values already loaded for the same participant, visit and variable");
  return [store_path, o] {
    o->progress = isatty(STDERR_FILENO) != 0;
    Store store = Store::Open(*store_path);
    const ImportReport report = RunImport(store, *o);
    PrintImportReport(std::cout, report);
    CheckWritten(std::cout, "standard output",
                 o->dry_run ? "" : "the import was committed; only its report was lost");
    // As grep tells "found" from "error": a --quarantine import that kept
    // rejected rows committed the good ones, and says so with its own code.
    std::int64_t rejected = 0;
    for (const FileImportReport& f : report.files) rejected += f.skipped ? 0 : f.rows_rejected;
    if (rejected > 0) {
      std::cout.flush();
      std::cerr << fmt::format("cohortdb: {} row{} rejected and {} in import_error; the other rows {} (exit code 7)\n",
                               rejected, rejected == 1 ? "" : "s", o->dry_run ? "would be kept" : "kept",
                               o->dry_run ? "are valid" : "loaded");
      return kExitQuarantined;
    }
    return 0;
  };
}

std::function<int()> SetupImportDictionary(CLI::App& app) {
  auto store_path = std::make_shared<std::string>();
  auto study = std::make_shared<std::string>();
  auto dictionary = std::make_shared<std::string>();
  auto design = std::make_shared<std::string>("cohort");
  app.add_option("STORE", *store_path, "Path of the store")->required();
  app.add_option("DICTIONARY", *dictionary, "REDCap data dictionary (CSV)")->required();
  app.add_option("--study", *study, "Study code the variables belong to")->required();
  app.add_option("--design", *design, "Study design when the study is new: trial|cohort|meta|other")
      ->check(CLI::IsMember({"trial", "cohort", "meta", "other"}));
  return [store_path, study, dictionary, design] {
    Store store = Store::Open(*store_path);
    const DictionaryReport r = ImportDictionary(store, *study, *dictionary, *design);
    if (r.skipped) {
      std::cout << fmt::format("{}: already imported for study {}; nothing to do\n", *dictionary, *study);
    } else {
      const auto plural = [](int n) { return n == 1 ? "" : "s"; };
      std::cout << fmt::format("{}: {} variable{} created, {} updated, {} field{} skipped (study {})\n", *dictionary,
                               r.created, plural(r.created), r.updated, r.skipped_fields, plural(r.skipped_fields),
                               *study);
    }
    return 0;
  };
}

}  // namespace cohortdb::cli
