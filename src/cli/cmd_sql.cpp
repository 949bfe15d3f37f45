// sql: ad-hoc SQL against a store, read-only unless --write.
#include <CLI/CLI.hpp>

#include <cctype>
#include <chrono>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cli/commands.h"
#include "common/error.h"
#include "common/output_file.h"
#include "common/table_writer.h"
#include "store/store.h"
#include "store/summary.h"

namespace cohortdb::cli {
namespace {

struct SqlOptions {
  std::string store;
  std::string query;
  std::string format = "table";
  bool write = false;
  double timeout_seconds = 60;
};

// The sqlite3 shell's catalog commands people type first: ".tables",
// ".schema" and ".indexes", each with an optional LIKE pattern (the store
// answers them: store/summary.h). Anything else starting with '.' is a
// usage error.
struct DotCommand {
  std::string command;  // ".tables", ".indexes" or ".schema"
  std::string pattern;  // "" for all
};

std::optional<DotCommand> ParseDotCommand(const std::string& text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos || text[first] != '.') return std::nullopt;
  // Words as the shell splits them: blanks separate, '...' or "..." quote,
  // a trailing ';' is dropped.
  std::string rest = text.substr(first);
  while (!rest.empty() && (std::isspace(static_cast<unsigned char>(rest.back())) || rest.back() == ';')) rest.pop_back();
  std::vector<std::string> words;
  for (std::size_t i = 0; i < rest.size();) {
    if (std::isspace(static_cast<unsigned char>(rest[i]))) {
      ++i;
      continue;
    }
    std::string word;
    if (rest[i] == '\'' || rest[i] == '"') {
      const char quote = rest[i++];
      while (i < rest.size() && rest[i] != quote) word.push_back(rest[i++]);
      if (i == rest.size()) throw UsageError(fmt::format("sql: unterminated {} in '{}'", quote, rest));
      ++i;
    } else {
      while (i < rest.size() && !std::isspace(static_cast<unsigned char>(rest[i]))) word.push_back(rest[i++]);
    }
    words.push_back(std::move(word));
  }
  DotCommand dot{words.empty() ? std::string(".") : words[0], words.size() > 1 ? words[1] : std::string()};
  if (dot.command == ".indices") dot.command = ".indexes";
  if (dot.command != ".tables" && dot.command != ".indexes" && dot.command != ".schema") {
    throw UsageError(fmt::format(
        "sql: {} is a sqlite3 shell command; cohortdb sql runs SQL and knows .tables, .schema and .indexes "
        "(each with an optional LIKE pattern); output modes are --format table|box|csv|json|markdown|list",
        dot.command));
  }
  if (words.size() > 2) {
    throw UsageError(fmt::format("sql: {} takes at most one pattern, found '{}'", dot.command, words[2]));
  }
  return dot;
}

}  // namespace

std::function<int()> SetupSql(CLI::App& app) {
  auto o = std::make_shared<SqlOptions>();
  app.add_option("STORE", o->store, "Path of the store")->required();
  app.add_option("QUERY", o->query, "SQL text (several statements allowed); - reads it from standard input")
      ->required();
  app.add_option("--format", o->format,
                 "Output format: table|box|csv|json|markdown|list (list: the sqlite3 shell's list mode, values "
                 "joined by '|', no header, nothing quoted)")
      ->check(CLI::IsMember({"table", "box", "csv", "json", "markdown", "list"}));
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
    const std::optional<DotCommand> dot = ParseDotCommand(o->query);
    Store store = Store::Open(o->store, o->write ? OpenMode::kReadWrite : OpenMode::kReadOnly);
    const auto limit = std::chrono::milliseconds(static_cast<long long>(o->timeout_seconds * 1000));
    if (dot) {
      if (dot->command == ".schema") {
        std::cout << CatalogSchema(store, dot->pattern);
      } else {
        const QueryResult result =
            dot->command == ".tables" ? CatalogTables(store, dot->pattern) : CatalogIndexes(store, dot->pattern);
        WriteTable(std::cout, result, *ParseOutputFormat(o->format));
      }
      return 0;
    }
    const OutputFormat format = *ParseOutputFormat(o->format);
    // One result after another, as the sqlite3 shell prints them; a blank
    // line between two keeps markdown tables apart and CSV blocks visible.
    bool first = true;
    auto separate = [&] {
      if (!first) std::cout << (format == OutputFormat::kCsv ? "\r\n" : "\n");
      first = false;
    };
    const auto writer = MakeRowWriter(std::cout, format);
    if (writer && !o->write) {
      // Read-only csv, json and list print each row as it comes: a SELECT of
      // any size runs in constant memory. (A --write script prints after it
      // commits, so nothing is printed from a script that rolls back.)
      ResultSink sink;
      bool has_columns = false;
      sink.begin = [&](const std::vector<std::string>& columns) {
        has_columns = !columns.empty();
        if (!has_columns) return;
        separate();
        writer->Begin(columns);
      };
      sink.row = [&](std::vector<SqlValue>&& row) {
        writer->Row(row);
        if (!std::cout) CheckWritten(std::cout, "standard output", "");  // stop at the first failed write
      };
      sink.end = [&](std::int64_t rows_changed) {
        if (has_columns) {
          writer->End();
        } else {
          std::cerr << fmt::format("{} row(s) changed\n", rows_changed);
        }
      };
      store.GuardedScript(o->query, false, limit, sink);
      return 0;
    }
    const ScriptResult script = store.GuardedScript(o->query, o->write, limit);
    for (const QueryResult& result : script.results) {
      if (result.columns.empty()) {
        std::cerr << fmt::format("{} row(s) changed\n", result.rows_changed);
        continue;
      }
      separate();
      WriteTable(std::cout, result, format);
    }
    // Checked before anything else is printed: the message names the failed write's own error.
    CheckWritten(std::cout, "standard output",
                 o->write ? "the script's changes were committed; only its output was lost" : "");
    if (script.edit_id) {
      std::cerr << fmt::format("recorded as data edit {} (the data fingerprint of later analysis runs includes it)\n",
                               *script.edit_id);
    }
    return 0;
  };
}

}  // namespace cohortdb::cli
