#pragma once
// ImportDictionary: `cohortdb import-dictionary`. Turns a REDCap data
// dictionary (CSV as REDCap exports it, current or legacy column names) into
// catalog variables of one study, in one transaction:
//   dropdown, radio      -> categorical, levels from "1, Female | 2, Male"
//   yesno, truefalse     -> boolean
//   checkbox             -> one boolean variable per choice, <field>___<code>
//   text + integer       -> integer;  text + number*/decimal, calc -> real
//   slider               -> integer 0-100;  other text, notes -> text
//   descriptive, file    -> skipped; the first field (the record id) is skipped
// Validation min/max become the plausible range. Field annotations may carry
// @KIND=<record kind> (default covariate) and @UNIT=<canonical unit>.
// Existing variables are updated. The dictionary file is recorded as an
// import batch; importing the same file again does nothing.

#include <string>

#include "store/store.h"

namespace cohortdb {

struct DictionaryReport {
  bool skipped = false;
  int created = 0;
  int updated = 0;
  int skipped_fields = 0;
};

// Throws InputError "FILE:LINE:COLUMN: ..." on a malformed dictionary; the
// store is then unchanged.
DictionaryReport ImportDictionary(Store& store, const std::string& study, const std::string& path,
                                  const std::string& design = "cohort");

}  // namespace cohortdb
