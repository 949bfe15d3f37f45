#pragma once
// The command table of the cohortdb binary: every subcommand with its summary
// and an example, in the order `cohortdb --help` lists them. Each command lives
// in its own cmd_<name>.cpp and is added here with one line.

#include <functional>
#include <vector>

namespace CLI {
class App;
}

namespace cohortdb::cli {

// Adds a command's arguments and options to "app"; returns the function that
// runs it after parsing. The function returns the process exit code (0) or
// throws a cohortdb::Error.
using CommandSetup = std::function<int()> (*)(CLI::App& app);

struct Command {
  const char* name;
  const char* summary;
  const char* example;
  CommandSetup setup;
};

const std::vector<Command>& Commands();

// Parses argv, runs the command, maps errors to exit codes (README "Exit codes").
int Run(int argc, char** argv);

// Setup functions, one per cmd_*.cpp.
std::function<int()> SetupInit(CLI::App& app);
std::function<int()> SetupMigrate(CLI::App& app);
std::function<int()> SetupInfo(CLI::App& app);
std::function<int()> SetupCodebook(CLI::App& app);
std::function<int()> SetupCodebook(CLI::App& app);
std::function<int()> SetupSql(CLI::App& app);
std::function<int()> SetupImport(CLI::App& app);
std::function<int()> SetupImportDictionary(CLI::App& app);
std::function<int()> SetupResults(CLI::App& app);
std::function<int()> SetupRecipe(CLI::App& app);
// The analysis commands, generated from the analysis registry (cmd_analysis.cpp).
std::function<int()> SetupAnalysis(CLI::App& app);
Command AnalysisCommand(const char* name);

}  // namespace cohortdb::cli
