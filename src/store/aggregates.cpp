#include "store/aggregates.h"

#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "common/quantile.h"

namespace cohortdb {
namespace {

// Per-group state lives on the heap; SQLite's aggregate context holds only
// the pointer so that the final call can free it.
struct Values {
  std::vector<double> x;
  std::vector<double> y;
  double p = -1;
};

Values* State(sqlite3_context* ctx, bool create) {
  auto** slot = static_cast<Values**>(sqlite3_aggregate_context(ctx, create ? sizeof(Values*) : 0));
  if (slot == nullptr) return nullptr;
  if (*slot == nullptr && create) *slot = new Values();
  return *slot;
}

bool IsNumber(sqlite3_value* v) {
  const int type = sqlite3_value_numeric_type(v);
  return type == SQLITE_INTEGER || type == SQLITE_FLOAT;
}

void StepOne(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  Values* state = State(ctx, true);
  if (state == nullptr) return sqlite3_result_error_nomem(ctx);
  if (argc == 2) {  // quantile(x, p)
    if (!IsNumber(argv[1])) return sqlite3_result_error(ctx, "quantile(x, p): p must be a number", -1);
    const double p = sqlite3_value_double(argv[1]);
    if (!(p >= 0 && p <= 1)) return sqlite3_result_error(ctx, "quantile(x, p): p must be between 0 and 1", -1);
    state->p = p;
  }
  if (IsNumber(argv[0])) state->x.push_back(sqlite3_value_double(argv[0]));
}

void StepPair(sqlite3_context* ctx, int, sqlite3_value** argv) {
  Values* state = State(ctx, true);
  if (state == nullptr) return sqlite3_result_error_nomem(ctx);
  if (IsNumber(argv[0]) && IsNumber(argv[1])) {
    state->x.push_back(sqlite3_value_double(argv[0]));
    state->y.push_back(sqlite3_value_double(argv[1]));
  }
}

// Takes ownership of the state and clears the slot.
std::unique_ptr<Values> Take(sqlite3_context* ctx) {
  auto** slot = static_cast<Values**>(sqlite3_aggregate_context(ctx, 0));
  if (slot == nullptr || *slot == nullptr) return nullptr;
  std::unique_ptr<Values> state(*slot);
  *slot = nullptr;
  return state;
}

double Mean(const std::vector<double>& v) {
  double sum = 0;
  for (double x : v) sum += x;
  return sum / static_cast<double>(v.size());
}

// Two-pass sample covariance (accurate for large offsets).
double Covariance(const std::vector<double>& x, const std::vector<double>& y) {
  const double mx = Mean(x), my = Mean(y);
  double s = 0;
  for (std::size_t i = 0; i < x.size(); ++i) s += (x[i] - mx) * (y[i] - my);
  return s / static_cast<double>(x.size() - 1);
}

void FinalMedian(sqlite3_context* ctx) {
  auto state = Take(ctx);
  if (!state || state->x.empty()) return sqlite3_result_null(ctx);
  sqlite3_result_double(ctx, QuantileType7(std::move(state->x), 0.5));
}

void FinalQuantile(sqlite3_context* ctx) {
  auto state = Take(ctx);
  if (!state || state->x.empty()) return sqlite3_result_null(ctx);
  sqlite3_result_double(ctx, QuantileType7(std::move(state->x), state->p));
}

void FinalVariance(sqlite3_context* ctx) {
  auto state = Take(ctx);
  if (!state || state->x.size() < 2) return sqlite3_result_null(ctx);
  sqlite3_result_double(ctx, Covariance(state->x, state->x));
}

void FinalStdev(sqlite3_context* ctx) {
  auto state = Take(ctx);
  if (!state || state->x.size() < 2) return sqlite3_result_null(ctx);
  sqlite3_result_double(ctx, std::sqrt(Covariance(state->x, state->x)));
}

void FinalCovar(sqlite3_context* ctx) {
  auto state = Take(ctx);
  if (!state || state->x.size() < 2) return sqlite3_result_null(ctx);
  sqlite3_result_double(ctx, Covariance(state->x, state->y));
}

void FinalCorr(sqlite3_context* ctx) {
  auto state = Take(ctx);
  if (!state || state->x.size() < 2) return sqlite3_result_null(ctx);
  const double sxy = Covariance(state->x, state->y);
  const double sxx = Covariance(state->x, state->x);
  const double syy = Covariance(state->y, state->y);
  if (sxx <= 0 || syy <= 0) return sqlite3_result_null(ctx);
  sqlite3_result_double(ctx, sxy / std::sqrt(sxx * syy));
}

struct Aggregate {
  const char* name;
  int argc;
  void (*step)(sqlite3_context*, int, sqlite3_value**);
  void (*final)(sqlite3_context*);
};

constexpr Aggregate kAggregates[] = {
    {"median", 1, StepOne, FinalMedian},   {"quantile", 2, StepOne, FinalQuantile},
    {"stdev", 1, StepOne, FinalStdev},     {"variance", 1, StepOne, FinalVariance},
    {"covar", 2, StepPair, FinalCovar},    {"corr", 2, StepPair, FinalCorr},
};

}  // namespace

void RegisterAggregates(sqlite3* db) {
  for (const Aggregate& a : kAggregates) {
    sqlite3_create_function_v2(db, a.name, a.argc, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nullptr, nullptr,
                               a.step, a.final, nullptr);
  }
}

}  // namespace cohortdb
