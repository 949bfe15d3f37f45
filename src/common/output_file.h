#pragma once
// Writing output the user asked for (standard output, --out and --plot
// files) with every write checked: a full disk or a closed file is an
// OutputError (exit code 6), never a silent success. Thread-compatible.

#include <ostream>
#include <string>
#include <string_view>

namespace cohortdb {

// Flushes "out" and throws OutputError "WHAT: write failed: REASON; AFTER"
// if any write to it failed ("after" says what became of the store, e.g.
// "nothing was recorded"; empty for nothing).
void CheckWritten(std::ostream& out, std::string_view what, std::string_view after);

// Writes "text" as the whole content of the file "path", checking the open,
// every write and the close. Errors: OutputError "WHAT: cannot write 'PATH':
// REASON; AFTER".
void WriteOutputFile(const std::string& path, std::string_view text, std::string_view what,
                     std::string_view after);

// Checks, before any work, that the file "path" can be written: opens it for
// appending (creating it, then removing it again, when it did not exist).
// Errors: OutputError "WHAT: cannot write 'PATH': REASON; AFTER" (REASON "it
// is a directory" for a directory).
void CheckOutputFileWritable(const std::string& path, std::string_view what, std::string_view after);

}  // namespace cohortdb
