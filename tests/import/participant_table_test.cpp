// ParticipantTable: the open-addressing map of external ids the importer
// looks participants up in (src/import/participant_table.h).
#include <catch2/catch.hpp>

#include <string>

#include "import/participant_table.h"

using cohortdb::ParticipantTable;

TEST_CASE("participant table finds every key through many growths and misses the rest", "[import][participants]") {
  ParticipantTable<int> table;
  constexpr int kKeys = 50000;  // the table starts with 1,024 slots
  for (int i = 0; i < kKeys; ++i) table.Insert("C" + std::to_string(i), i);
  for (int i = 0; i < kKeys; ++i) {
    const int* found = table.Find("C" + std::to_string(i));
    REQUIRE(found != nullptr);
    CHECK(*found == i);
  }
  CHECK(table.Find("C50000") == nullptr);
  CHECK(table.Find("") == nullptr);
  CHECK(table.Find("c1") == nullptr);  // case matters, as in SQLite's text comparison
}

TEST_CASE("participant table forgets a key until it is inserted again", "[import][participants]") {
  ParticipantTable<int> table;
  table.Insert("P1", 1);
  table.Insert("P2", 2);
  table.Forget("P1");
  CHECK(table.Find("P1") == nullptr);
  CHECK(*table.Find("P2") == 2);
  table.Forget("P9");  // unknown: nothing happens
  int& revived = table.Insert("P1", 7);
  CHECK(revived == 7);
  CHECK(*table.Find("P1") == 7);
  // Inserting an existing key replaces its value.
  table.Insert("P2", 3);
  CHECK(*table.Find("P2") == 3);
}

TEST_CASE("participant table: Reserve and Prefetch change no lookup", "[import][participants]") {
  ParticipantTable<int> table;
  table.Prefetch("P1", 0);  // an empty table
  table.Prefetch("P1", 1);
  table.Reserve(3000);
  for (int i = 0; i < 3000; ++i) table.Insert("P" + std::to_string(i), i);
  for (int i = 0; i < 3000; ++i) {
    const std::string key = "P" + std::to_string(i);
    table.Prefetch(key, 0);
    table.Prefetch(key, 1);
    table.Prefetch("missing" + key, 1);
    REQUIRE(table.Find(key) != nullptr);
    CHECK(*table.Find(key) == i);
  }
  table.Reserve(10);  // smaller than held: nothing happens
  CHECK(*table.Find("P2999") == 2999);
  CHECK(table.Find("P3000") == nullptr);
}
