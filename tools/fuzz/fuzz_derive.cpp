// libFuzzer harness for the derived-variable expressions of --derive, --cut
// and thresholds in place of a variable ("pain>=4"), applied to a small
// in-memory frame: any text must either apply or throw InputError (never
// crash, never another exception). The first byte picks the entry point.
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "analysis/frame.h"
#include "common/error.h"
#include "common/value.h"

namespace {

cohortdb::analysis::Frame MakeFrame() {
  using cohortdb::SqlValue;
  cohortdb::QueryResult q;
  q.columns = {"participant_id", "pain_baseline", "pain_week12", "il6", "arm", "age"};
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double pains[][2] = {{5, 3}, {7, 6}, {4, nan}, {8, 2}, {6, 6}};
  for (int i = 0; i < 5; ++i) {
    std::vector<SqlValue> row;
    row.emplace_back(std::int64_t{i + 1});
    row.push_back(std::isnan(pains[i][0]) ? SqlValue() : SqlValue(pains[i][0]));
    row.push_back(std::isnan(pains[i][1]) ? SqlValue() : SqlValue(pains[i][1]));
    row.push_back(i == 2 ? SqlValue() : SqlValue(0.5 * i + 1e-3));
    row.emplace_back(std::string(i % 2 ? "control" : "exercise"));
    row.emplace_back(std::int64_t{30 + 7 * i});
    q.rows.push_back(std::move(row));
  }
  return cohortdb::analysis::Frame::FromQuery(q);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static const cohortdb::analysis::Frame base = MakeFrame();
  cohortdb::analysis::Frame frame = base;
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    switch (data[0] % 4) {
      case 0:
        cohortdb::analysis::ApplyDerive(frame, text);
        break;
      case 1:
        cohortdb::analysis::ApplyCut(frame, text);
        break;
      case 2:
        (void)cohortdb::analysis::ParseThreshold(text);
        break;
      default:
        (void)frame.Get(text, "--outcome");
        break;
    }
    // Whatever was added has one value per row.
    for (const auto& column : frame.columns()) {
      if (column.size() != frame.rows()) __builtin_trap();
    }
  } catch (const cohortdb::InputError&) {
  }
  return 0;
}
