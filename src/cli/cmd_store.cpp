// init, migrate, info: creating, upgrading and describing a store.
#include <CLI/CLI.hpp>

#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "cli/commands.h"
#include "common/error.h"
#include "common/table_writer.h"
#include "store/store.h"
#include "store/summary.h"

namespace cohortdb::cli {

std::function<int()> SetupInit(CLI::App& app) {
  auto path = std::make_shared<std::string>();
  app.add_option("STORE", *path, "Path of the store file to create")->required();
  return [path] {
    Store store = Store::Create(*path);
    std::cout << fmt::format("created {} (schema version {})\n", *path, store.schema_version());
    return 0;
  };
}

std::function<int()> SetupMigrate(CLI::App& app) {
  auto path = std::make_shared<std::string>();
  auto target = std::make_shared<int>(-1);
  app.add_option("STORE", *path, "Path of the store file to upgrade")->required();
  app.add_option("--to", *target, "Stop at this schema version (default: the newest)");
  return [path, target] {
    Store::RequireFile(*path);  // migrate upgrades a store; init creates one
    const auto applied =
        Store::Migrate(*path, *target < 0 ? std::nullopt : std::optional<int>(*target));
    if (applied.empty()) {
      std::cout << fmt::format("{} is up to date (schema version {})\n", *path,
                               Store::Inspect(*path).store_version);
    }
    for (const auto& name : applied) std::cout << fmt::format("applied {}\n", name);
    return 0;
  };
}

std::function<int()> SetupInfo(CLI::App& app) {
  auto path = std::make_shared<std::string>();
  auto format = std::make_shared<std::string>("table");
  auto schema = std::make_shared<bool>(false);
  app.add_option("STORE", *path, "Path of the store")->required();
  app.add_flag("--schema", *schema, "Print the store's schema as SQL instead");
  app.add_option("--format", *format, "Output format: table|box|csv|json|markdown")
      ->check(CLI::IsMember({"table", "box", "csv", "json", "markdown"}));
  return [path, format, schema] {
    Store store = Store::Open(*path, OpenMode::kReadOnly);
    if (*schema) {
      std::cout << SchemaSql(store, /*with_pivots=*/true);
      return 0;
    }
    const OutputFormat f = *ParseOutputFormat(*format);
    if (f == OutputFormat::kCsv) {
      throw UsageError(
          "info: --format csv cannot hold info's several tables; use --format json (one document), or "
          "cohortdb sql STORE \"SELECT ...\" --format csv for one table");
    }
    const StoreSummary s = Summarize(store);
    if (f == OutputFormat::kJson) {
      nlohmann::ordered_json doc;
      doc["store"] = *path;
      doc["schema_version"] = s.schema_version;
      doc["current_version"] = s.current_version;
      doc["size_bytes"] = s.file_bytes;
      doc["rows"] = TableJson(s.counts);
      doc["studies"] = TableJson(s.studies);
      doc["variables"] = TableJson(s.variables);
      doc["recent_import_batches"] = TableJson(s.batches);
      doc["quarantined_rows"] = TableJson(s.quarantine);
      std::cout << doc.dump(1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << '\n';
      return 0;
    }
    const double kib = static_cast<double>(s.file_bytes) / 1024.0;
    std::cout << fmt::format("store: {}\nschema version: {}{}\nsize: {}\n", *path, s.schema_version,
                             s.schema_version == s.current_version
                                 ? " (current)"
                                 : fmt::format(" (this cohortdb uses {}: run cohortdb migrate)", s.current_version),
                             kib < 1024 ? fmt::format("{:.1f} KiB", kib) : fmt::format("{:.1f} MiB", kib / 1024));
    auto section = [&](const char* title, const QueryResult& table) {
      std::cout << '\n' << title << ":\n";
      if (table.rows.empty()) {
        std::cout << "(none)\n";
      } else {
        WriteTable(std::cout, table, f);
      }
    };
    section("rows", s.counts);
    section("studies", s.studies);
    section("variables", s.variables);
    section("recent import batches", s.batches);
    if (!s.quarantine.rows.empty()) section("quarantined rows", s.quarantine);
    return 0;
  };
}

}  // namespace cohortdb::cli
