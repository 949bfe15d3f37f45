#include <CLI/CLI.hpp>

#include <iostream>
#include <map>

#include <fmt/format.h>

#include "cli/commands.h"
#include "common/error.h"
#include "common/version.h"

namespace cohortdb::cli {

int Run(int argc, char** argv) {
  CLI::App app{"cohortdb: an embedded, single-file cohort warehouse with R-equal statistics"};
  app.set_version_flag("--version", std::string("cohortdb ") + kVersion);
  app.require_subcommand(1);
  std::string footer =
      "\nExamples (from the repository root; demo-output/demo.cohortdb is the store tools/demo makes):\n";
  std::map<CLI::App*, std::function<int()>> runners;
  for (const Command& command : Commands()) {
    CLI::App* sub = app.add_subcommand(command.name, command.summary);
    sub->footer(fmt::format("\nExample:\n  {}", command.example));
    runners[sub] = command.setup(*sub);
    footer += fmt::format("  {}\n", command.example);
  }
  app.footer(footer + "\nExit codes: 0 ok, 1 internal error, 2 usage error, 3 input error, 4 store error, "
                      "5 numerical error.");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "cohortdb: usage error: " << e.what() << " (see cohortdb --help)\n";
    return static_cast<int>(ExitCode::kUsage);
  }
  try {
    for (auto& [sub, run] : runners) {
      if (sub->parsed()) return run();
    }
    return static_cast<int>(ExitCode::kUsage);
  } catch (const Error& e) {
    std::cerr << "cohortdb: " << e.what() << '\n';
    return static_cast<int>(e.code());
  } catch (const std::exception& e) {
    std::cerr << "cohortdb: internal error: " << e.what() << '\n';
    return static_cast<int>(ExitCode::kInternal);
  }
}

}  // namespace cohortdb::cli
