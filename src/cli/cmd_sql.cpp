// sql: ad-hoc SQL against a store, read-only unless --write.
#include <CLI/CLI.hpp>

#include <chrono>
#include <iostream>
#include <iterator>
#include <memory>

#include <fmt/format.h>

#include "cli/commands.h"
#include "common/error.h"
#include "common/table_writer.h"
#include "store/store.h"

namespace cohortdb::cli {
namespace {

struct SqlOptions {
  std::string store;
  std::string query;
  std::string format = "table";
  bool write = false;
  double timeout_seconds = 60;
};

}  // namespace

std::function<int()> SetupSql(CLI::App& app) {
  auto o = std::make_shared<SqlOptions>();
  app.add_option("STORE", o->store, "Path of the store")->required();
  app.add_option("QUERY", o->query, "SQL text (several statements allowed); - reads it from standard input")
      ->required();
  app.add_option("--format", o->format, "Output format: table|box|csv|json|markdown")
      ->check(CLI::IsMember({"table", "box", "csv", "json", "markdown"}));
  app.add_flag("--write", o->write, "Allow statements that change the store (run in one transaction)");
  app.add_option("--timeout", o->timeout_seconds,
                 "Stop a query running longer than this many seconds (0.001 to 86400, default 60)");
  return [o] {
    // Checked here rather than by CLI11, whose range message prints DBL_MAX
    // in full; NaN fails both comparisons.
    if (!(o->timeout_seconds >= 0.001 && o->timeout_seconds <= 86400)) {
      throw UsageError(fmt::format("sql: --timeout: expected seconds from 0.001 to 86400, found {}", o->timeout_seconds));
    }
    if (o->query == "-") o->query.assign(std::istreambuf_iterator<char>(std::cin), {});
    Store store = Store::Open(o->store, o->write ? OpenMode::kReadWrite : OpenMode::kReadOnly);
    const auto limit = std::chrono::milliseconds(static_cast<long long>(o->timeout_seconds * 1000));
    const ScriptResult script = store.GuardedScript(o->query, o->write, limit);
    const OutputFormat format = *ParseOutputFormat(o->format);
    bool first = true;
    for (const QueryResult& result : script.results) {
      if (result.columns.empty()) {
        std::cerr << fmt::format("{} row(s) changed\n", result.rows_changed);
        continue;
      }
      // One result after another, as the sqlite3 shell prints them; a blank
      // line between two keeps markdown tables apart and CSV blocks visible.
      if (!first) std::cout << (format == OutputFormat::kCsv ? "\r\n" : "\n");
      first = false;
      WriteTable(std::cout, result, format);
    }
    return 0;
  };
}

}  // namespace cohortdb::cli
