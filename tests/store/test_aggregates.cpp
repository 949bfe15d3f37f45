// SQL aggregates against R (tests/reference/store_aggregates.R).
#include <catch2/catch.hpp>

#include "store/store.h"

namespace cohortdb {
namespace {

using Catch::Matchers::WithinRel;

double Real(Store& store, const std::string& sql) {
  const auto result = store.Query(sql);
  return std::get<double>(result.rows.at(0).at(0));
}

// The R script's x and y, NA as NULL; a text value that aggregates skip.
Store MakeData() {
  Store store = Store::Create(":memory:");
  store.Exec(
      "CREATE TEMP TABLE d (x, y);"
      "INSERT INTO d VALUES (2.5, 1.2), (NULL, 3.4), (7.25, NULL), (1, 0.7), (3.5, 2.2), (10, 5.1),"
      " (NULL, 8.0), (4.75, 2.9), (6, 3.3), (0.5, 0.1), (9, 4.4);");
  return store;
}

}  // namespace

TEST_CASE("median and quantile follow R's type 7", "[store][aggregates]") {
  Store store = MakeData();
  CHECK_THAT(Real(store, "SELECT median(x) FROM d"), WithinRel(4.75, 1e-12));
  CHECK_THAT(Real(store, "SELECT quantile(x, 0) FROM d"), WithinRel(0.5, 1e-12));
  CHECK_THAT(Real(store, "SELECT quantile(x, 0.1) FROM d"), WithinRel(0.90000000000000002, 1e-12));
  CHECK_THAT(Real(store, "SELECT quantile(x, 0.25) FROM d"), WithinRel(2.5, 1e-12));
  CHECK_THAT(Real(store, "SELECT quantile(x, 0.9) FROM d"), WithinRel(9.1999999999999993, 1e-12));
  CHECK_THAT(Real(store, "SELECT quantile(x, 1) FROM d"), WithinRel(10.0, 1e-12));
}

TEST_CASE("stdev / variance / covar and corr are the sample statistics R computes", "[store][aggregates]") {
  Store store = MakeData();
  CHECK_THAT(Real(store, "SELECT stdev(x) FROM d"), WithinRel(3.3883480898186624, 1e-12));
  CHECK_THAT(Real(store, "SELECT variance(x) FROM d"), WithinRel(11.480902777777779, 1e-12));
  CHECK_THAT(Real(store, "SELECT covar(x, y) FROM d"), WithinRel(6.1379464285714285, 1e-12));
  CHECK_THAT(Real(store, "SELECT corr(x, y) FROM d"), WithinRel(0.98969783131493716, 1e-12));
}

TEST_CASE("aggregates skip NULLs and text / and give NULL for too few values", "[store][aggregates]") {
  Store store = Store::Create(":memory:");
  store.Exec("CREATE TEMP TABLE e (x, y); INSERT INTO e VALUES (NULL, 1), ('abc', 2), (3, NULL), (5, 5);");
  const auto row = store.Query(
                            "SELECT median(x), stdev(x), variance(x), covar(x, y), corr(x, y), median(x) FILTER "
                            "(WHERE x IS NULL), stdev(y) FROM e")
                       .rows.at(0);
  CHECK_THAT(std::get<double>(row[0]), WithinRel(4.0, 1e-12));  // median of 3 and 5
  CHECK_THAT(std::get<double>(row[1]), WithinRel(1.4142135623730951, 1e-12));
  CHECK_THAT(std::get<double>(row[2]), WithinRel(2.0, 1e-12));
  CHECK(std::holds_alternative<std::monostate>(row[3]));  // one complete pair
  CHECK(std::holds_alternative<std::monostate>(row[4]));
  CHECK(std::holds_alternative<std::monostate>(row[5]));  // no values
  CHECK_THAT(std::get<double>(row[6]), WithinRel(2.0816659994661326, 1e-12));  // sd(c(1, 2, 5))
}

TEST_CASE("corr of a constant column is NULL / quantile checks p", "[store][aggregates]") {
  Store store = Store::Create(":memory:");
  store.Exec("CREATE TEMP TABLE c (x, y); INSERT INTO c VALUES (1, 2), (1, 3), (1, 4);");
  CHECK(std::holds_alternative<std::monostate>(store.Query("SELECT corr(x, y) FROM c").rows[0][0]));
  CHECK_THROWS_WITH(store.Query("SELECT quantile(y, 1.5) FROM c"),
                    Catch::Contains("quantile(x, p): p must be between 0 and 1"));
  // Grouped use.
  const auto grouped = store.Query("SELECT x, median(y) FROM c GROUP BY x");
  CHECK_THAT(std::get<double>(grouped.rows[0][1]), WithinRel(3.0, 1e-12));
}

}  // namespace cohortdb
