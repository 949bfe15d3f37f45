#pragma once
// The report of analysis runs recorded earlier (`cohortdb results STORE RUN
// [RUN ...] --report FILE.html`): each run read back from the store, its
// tables as recorded and its forest plot drawn again from the recorded rows
// (analysis::RestoreRecordedPlot), for RunReportHtml. Reads the store only.

#include <cstdint>
#include <string>
#include <vector>

#include "recipes/html_report.h"

namespace cohortdb {
class Store;
}

namespace cohortdb::recipes {

// The runs "run_ids" in the order given; "store_path" names the store in the
// report's command lines. When the runs are one recipe run -- runs of one
// recipe version (whose stored text still has its SHA-256) with consecutive
// ids, holding consecutive steps of it in the recipe's order -- the report is
// that recipe's as `recipe run --report` wrote it (recipe, title,
// description, steps); otherwise a report of runs ("cohortdb runs 12, 17"),
// where a run from a recipe still takes its step's title. A plot that cannot
// be drawn again says why (ReportStep::plot_missing). generated_at and codes
// are the caller's. Throws InputError for the first id that names no run.
RunReport RecordedRunsReport(Store& store, const std::string& store_path,
                             const std::vector<std::int64_t>& run_ids);

}  // namespace cohortdb::recipes
