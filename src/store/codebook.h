#pragma once
// The codebook of a store (`cohortdb codebook`): the variable catalog as a
// data dictionary, one row per variable with what the store holds of it.
// Reads only; one grouped query per record table (not one per variable).

#include <string>

#include "common/value.h"

namespace cohortdb {

class Store;

// One row per catalog variable of "study" (every study when empty), in study
// then catalog order, with the columns:
//   study, variable, label, type, unit, levels ("1 = Female, 2 = Male": the
//   source code = the level's label, in level order), range ("0..10", "0..",
//   NULL when none), table (the record table: biomarker, mri_metric, outcome,
//   covariate), visits (the visits it has values at, in visit order, comma-
//   separated; NULL for a participant-level variable), values (current
//   records, censored ones included), participants (participants with at
//   least one), missing (cells without a value: the study's participants
//   times its visits, or times 1 for a participant-level variable, minus
//   values), censored (values below or above a detection limit), and for
//   real and integer variables min, max and mean of the uncensored values
//   (NULL otherwise).
// Throws InputError naming the known studies when "study" is not one.
QueryResult Codebook(Store& store, const std::string& study);

}  // namespace cohortdb
