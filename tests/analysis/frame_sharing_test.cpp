// Frames share their columns between copies and copy one only when a frame
// changes it (copy-on-write, analysis/frame.h): what one copy does is never
// seen by another, and what no copy changes is never copied.
#include <catch2/catch.hpp>

#include <cmath>

#include "analysis/frame.h"
#include "frame_columns.h"
#include "common/error.h"

using namespace cohortdb;
using namespace cohortdb::analysis;
using cohortdb::analysis::testing::Numeric;

namespace {

// x: 1..4, g: the group numbers 1 2 1 2, e: every value 0.
Frame SmallFrame() {
  return Frame::FromColumns({Numeric("x", {1, 2, 3, 4}), Numeric("g", {1, 2, 1, 2}), Numeric("e", {0, 0, 0, 0})}, 4);
}

}  // namespace

TEST_CASE("frame copies share every column until one of them changes it", "[analysis][frame][cow]") {
  const Frame original = SmallFrame();
  Frame copy = original;
  for (const char* name : {"x", "g", "e"}) CHECK(copy.SharesColumn(original, name));
  CHECK_FALSE(copy.SharesColumn(original, "absent"));

  SECTION("AsCategorical converts the copy's column only") {
    const Column& g = copy.AsCategorical("g", "group");
    CHECK_FALSE(g.numeric);
    CHECK(g.levels == std::vector<std::string>{"1", "2"});
    CHECK(original.Get("g").numeric);
    CHECK(original.Get("g").values == std::vector<double>{1, 2, 1, 2});
    CHECK_FALSE(copy.SharesColumn(original, "g"));
    CHECK(copy.SharesColumn(original, "x"));  // the columns not changed stay shared
    CHECK(copy.SharesColumn(original, "e"));
  }
  SECTION("Put replaces the copy's column only") {
    copy.Put(Numeric("x", {9, 9, 9, 9}));
    CHECK(copy.Get("x").values == std::vector<double>{9, 9, 9, 9});
    CHECK(original.Get("x").values == std::vector<double>{1, 2, 3, 4});
    CHECK(copy.SharesColumn(original, "g"));
  }
  SECTION("a threshold derived on demand is added to the copy only") {
    CHECK(copy.Get("x>=3", "outcome").values == std::vector<double>{0, 0, 1, 1});
    CHECK_FALSE(original.Has("x>=3"));
    CHECK(copy.SharesColumn(original, "x"));
  }
  SECTION("KeepRows cuts the copy's rows, not the original's") {
    copy.KeepRows({1, 3});
    CHECK(copy.rows() == 2);
    CHECK(copy.Get("x").values == std::vector<double>{2, 4});
    CHECK(original.rows() == 4);
    CHECK(original.Get("x").values == std::vector<double>{1, 2, 3, 4});
    CHECK_FALSE(copy.SharesColumn(original, "x"));
  }
  SECTION("KeepRows of every row keeps the columns shared") {
    copy.KeepRows({0, 1, 2, 3});
    CHECK(copy.SharesColumn(original, "x"));
  }
  SECTION("Select shares the columns it selects") {
    const Frame selected = original.Select(std::vector<std::string>{"x"});
    CHECK(selected.SharesColumn(original, "x"));
    CHECK_FALSE(selected.Has("g"));
  }
}

TEST_CASE("a z() column standardised in a frame copy stays raw in the original", "[analysis][frame][cow]") {
  Frame original = SmallFrame();
  ApplyDerive(original, "zx=z(x)");
  Frame copy = original;
  copy.StandardiseDeferred();
  // (x - 2.5) / sd(x), sd = sqrt(5/3)
  const double sd = std::sqrt(5.0 / 3.0);
  CHECK_THAT(copy.Get("zx").values[0], Catch::Matchers::WithinRel(-1.5 / sd, 1e-15));
  CHECK_FALSE(copy.Get("zx").deferred_z);
  CHECK(original.Get("zx").deferred_z);
  CHECK(original.Get("zx").values == std::vector<double>{1, 2, 3, 4});
  CHECK_FALSE(copy.SharesColumn(original, "zx"));
  CHECK(copy.SharesColumn(original, "x"));
  // A failed standardisation (a constant z() column) leaves the original as it was too.
  ApplyDerive(original, "ze=z(e)");
  Frame failing = original;
  REQUIRE_THROWS_AS(failing.StandardiseDeferred(), NumericalError);
  CHECK(original.Get("zx").deferred_z);
  CHECK(original.Get("zx").values == std::vector<double>{1, 2, 3, 4});
}

TEST_CASE("a frame that alone holds a column changes it in place", "[analysis][frame][cow]") {
  Frame frame = SmallFrame();
  const Column* x = &frame.Get("x");
  frame.KeepRows({0, 2});
  CHECK(&frame.Get("x") == x);  // no copy of the column
  CHECK(x->values == std::vector<double>{1, 3});
  frame.Put(Numeric("x", {7, 8}));
  CHECK(&frame.Get("x") == x);
  CHECK(x->values == std::vector<double>{7, 8});
  // Once shared, the frame that changes the column gets a column of its own;
  // a reference taken before still reads the other frame's column.
  const Frame other = frame;
  frame.Put(Numeric("x", {5, 6}));
  CHECK(&frame.Get("x") != x);
  CHECK(&other.Get("x") == x);
  CHECK(x->values == std::vector<double>{7, 8});
}

TEST_CASE("a frame's columns read in order through columns()", "[analysis][frame]") {
  const Frame frame = SmallFrame();
  std::vector<std::string> names;
  for (const Column& c : frame.columns()) names.push_back(c.name);
  CHECK(names == std::vector<std::string>{"x", "g", "e"});
  CHECK(frame.columns().size() == 3);
  CHECK(Frame().columns().size() == 0);
}
