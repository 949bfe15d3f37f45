#include <CLI/CLI.hpp>

#include <iostream>
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli/commands.h"
#include "common/close_matches.h"
#include "common/error.h"
#include "common/output_file.h"
#include "common/version.h"
#include "store/store.h"

namespace cohortdb::cli {

namespace {

std::vector<std::string> SubcommandNames(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    names.push_back(sub->get_name());
  }
  return names;
}

std::string DidYouMean(const std::string& typed, const std::vector<std::string>& names, const char* prefix) {
  const auto close = CloseMatches(typed, names);
  if (close.empty()) return {};
  return fmt::format(" (did you mean {}{}?)", prefix, fmt::join(close, std::string(", ") + prefix));
}

// CLI11's message, made specific: an unknown command or subcommand is named
// with the closest names ("A subcommand is required" otherwise), a mistyped
// option gets the closest options of its command, and the help to read is
// that of the command in use.
std::string UsageMessage(CLI::App& app, int argc, char** argv, const std::string& what) {
  // The chain of commands the arguments name: "recipe", "run", ...
  CLI::App* current = &app;
  std::string path = "cohortdb";
  int next = 1;
  while (next < argc) {
    const std::string arg = argv[next];
    if (arg.empty() || arg[0] == '-') break;
    CLI::App* sub = nullptr;
    try {
      sub = current->get_subcommand(arg);
    } catch (const CLI::OptionNotFound&) {
      sub = nullptr;
    }
    if (!sub) break;
    current = sub;
    path += " " + arg;
    ++next;
  }
  const auto subcommands = SubcommandNames(*current);
  if (!subcommands.empty() && next < argc && argv[next][0] != '-') {
    const std::string typed = argv[next];
    return fmt::format("{}unknown command '{}'{} (commands: {}; see {} --help)",
                       current == &app ? std::string() : path.substr(std::string("cohortdb ").size()) + ": ", typed,
                       DidYouMean(typed, subcommands, ""), fmt::join(subcommands, ", "), path);
  }
  std::string hint;
  std::vector<std::string> options;
  for (const CLI::Option* o : current->get_options()) {
    for (const std::string& name : o->get_lnames()) options.push_back(name);
  }
  for (int i = next; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0 || arg.size() < 3) continue;
    arg = arg.substr(2, arg.find('=') == std::string::npos ? std::string::npos : arg.find('=') - 2);
    if (std::find(options.begin(), options.end(), arg) != options.end()) continue;
    // The mistyped option comes first: CLI11's own complaint ("--x is
    // required", "arguments were not expected") follows from it.
    hint = fmt::format("unknown option --{}{}; ", arg, DidYouMean(arg, options, "--"));
    break;
  }
  return fmt::format("{}{} (see {} --help)", hint, what, path);
}

}  // namespace

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
    std::cerr << "cohortdb: usage error: " << UsageMessage(app, argc, argv, e.what()) << '\n';
    return static_cast<int>(ExitCode::kUsage);
  }
  // A guarded query SQLite cannot interrupt at its time limit ends the
  // process instead of running on (store.h).
  SetOverrunExit(true);
  try {
    for (auto& [sub, run] : runners) {
      if (!sub->parsed()) continue;
      const int code = run();
      CheckWritten(std::cout, "standard output", "");  // a full disk or closed file is never a success
      return code;
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
