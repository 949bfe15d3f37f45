// The frame column cache through the built binary: an analysis fills it; an
// import (a new batch, --replace, --quarantine) empties it in its own
// transaction and leaves the cache triggers in place; a dry run leaves it;
// after each, the default reader's output equals the views' output.
#include <catch2/catch.hpp>

#include <fstream>
#include <string>

#include "test_support.h"

using namespace cohortdb::test;

namespace {

const char* kSpec = R"(study = "fc"
shape = "long"
defines_participants = true

[participant]
id = "id"

[visit]
column = "visit"

[long]
variable = "name"
value = "value"

[variables.x]
)";

struct CacheStore {
  ScratchDir dir;
  std::string store = dir / "s.cohortdb";
  CacheStore() {
    std::ofstream(dir / "fc.toml") << kSpec;
    REQUIRE(Cohortdb("init '" + store + "'").exit_code == 0);
  }
  RunResult Import(const std::string& csv, const std::string& extra = "") {
    std::ofstream(dir / "fc.csv", std::ios::binary) << csv;
    return Cohortdb("import '" + store + "' --spec fc.toml fc.csv " + extra, dir.path().string());
  }
  // An analysis that records its run, so that it may fill the cache.
  void Fill() {
    REQUIRE(Cohortdb("describe '" + store + "' --study fc --vars x", dir.path().string()).exit_code == 0);
    REQUIRE(std::stoi(QueryOne(store, "SELECT count(*) FROM frame_column")) > 0);
  }
  int Cached() { return std::stoi(QueryOne(store, "SELECT count(*) FROM frame_column")); }
  int Triggers() {
    return std::stoi(QueryOne(store, "SELECT count(*) FROM sqlite_master WHERE name GLOB 'frame_cache_clear_*'"));
  }
  // The summary of x through the default reader (the cache) and the views.
  void CheckSameAsViews() {
    const std::string args = "describe '" + store + "' --study fc --vars x --no-record --format csv";
    const RunResult cached = Cohortdb(args, dir.path().string());
    const RunResult views = RunShell("COHORTDB_FRAME_READER=views '" + kBinary + "' " + args, dir.path().string());
    REQUIRE(cached.exit_code == 0);
    REQUIRE(views.exit_code == 0);
    CHECK(cached.out == views.out);
  }
};

}  // namespace

TEST_CASE("imports empty the frame cache and keep its triggers", "[import][frame_cache]") {
  CacheStore s;
  REQUIRE(s.Import("id,visit,name,value\nP1,v1,x,1\nP2,v1,x,3\n").exit_code == 0);
  CHECK(s.Triggers() == 33);
  s.Fill();
  s.CheckSameAsViews();

  // A new batch.
  REQUIRE(s.Import("id,visit,name,value\nP3,v1,x,5\n").exit_code == 0);
  CHECK(s.Cached() == 0);
  CHECK(s.Triggers() == 33);
  s.CheckSameAsViews();

  // --replace supersedes P1's value.
  s.Fill();
  REQUIRE(s.Import("id,visit,name,value\nP1,v1,x,7\n", "--replace").exit_code == 0);
  CHECK(s.Cached() == 0);
  CHECK(s.Triggers() == 33);
  s.CheckSameAsViews();

  // --quarantine loads the good rows.
  s.Fill();
  CHECK(s.Import("id,visit,name,value\nP4,v1,x,abc\nP5,v1,x,9\n", "--quarantine").exit_code == 7);
  CHECK(s.Cached() == 0);
  CHECK(s.Triggers() == 33);
  s.CheckSameAsViews();

  // A dry run and a failed import change nothing, the cache included.
  s.Fill();
  const int cached = s.Cached();
  REQUIRE(s.Import("id,visit,name,value\nP6,v1,x,2\n", "--dry-run").exit_code == 0);
  CHECK(s.Import("id,visit,name,value\nP7,v1,x,abc\n").exit_code != 0);
  CHECK(s.Cached() == cached);
  CHECK(s.Triggers() == 33);
  s.CheckSameAsViews();
}
