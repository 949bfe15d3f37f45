// codebook: the variable catalog as a data dictionary, with what the store
// holds of each variable (store/codebook.h).
#include <CLI/CLI.hpp>

#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "common/output_file.h"
#include "common/table_writer.h"
#include "store/codebook.h"
#include "store/store.h"

namespace cohortdb::cli {

std::function<int()> SetupCodebook(CLI::App& app) {
  auto path = std::make_shared<std::string>();
  auto study = std::make_shared<std::string>();
  auto format = std::make_shared<std::string>("table");
  app.add_option("STORE", *path, "Path of the store")->required();
  app.add_option("--study", *study, "Only this study's variables (default: every study)");
  app.add_option("--format", *format, "Output format: table|box|csv|json|markdown")
      ->check(CLI::IsMember({"table", "box", "csv", "json", "markdown"}));
  return [path, study, format] {
    Store store = Store::Open(*path, OpenMode::kReadOnly);
    const QueryResult codebook = Codebook(store, *study);
    WriteTable(std::cout, codebook, *ParseOutputFormat(*format));
    CheckWritten(std::cout, "standard output", "");
    return 0;
  };
}

}  // namespace cohortdb::cli
