-- cohortdb: foreign keys off
-- Dates, and the unit conversions each import used.
--   * variable.value_type gains 'date' and 'datetime'. A date record keeps the
--     ISO 8601 text in value_text ('2023-02-28'; a datetime '2023-02-28 14:30'
--     or '2023-02-28 14:30:05') and its day number in value: days since
--     1970-01-01 as R's as.numeric(as.Date(x)) gives them, with the time of
--     day as a fraction for a datetime, so that intervals are differences.
--     SQLite cannot alter a CHECK constraint, so the catalog table is rebuilt
--     with its ids (records, levels and coverage refer to it: foreign keys
--     are off for this migration, the line above, and foreign_key_check must
--     pass before it commits).
--   * import_batch_conversion: per batch, variable and delivered unit, the
--     conversion applied (factor and offset, from the unit_conversion table
--     or from the spec's [units]) and how many values it converted.

CREATE TEMP TABLE keep_variable AS SELECT * FROM variable;
DROP TABLE variable;
CREATE TABLE variable (
  variable_id  INTEGER PRIMARY KEY,
  study_id     INTEGER NOT NULL REFERENCES study (study_id),
  code         TEXT NOT NULL
               CHECK (length(code) BETWEEN 1 AND 48 AND code GLOB '[a-z]*' AND code NOT GLOB '*[^a-z0-9_]*'),
  label        TEXT,
  record_kind  TEXT NOT NULL CHECK (record_kind IN ('biomarker', 'mri_metric', 'outcome', 'covariate')),
  value_type   TEXT NOT NULL
               CHECK (value_type IN ('real', 'integer', 'boolean', 'categorical', 'text', 'date', 'datetime')),
  unit         TEXT,
  min_value    REAL,
  max_value    REAL,
  CHECK (min_value IS NULL OR max_value IS NULL OR min_value <= max_value),
  UNIQUE (study_id, code)
);
INSERT INTO variable SELECT * FROM keep_variable;
DROP TABLE keep_variable;

CREATE TABLE import_batch_conversion (
  batch_id          INTEGER NOT NULL REFERENCES import_batch (batch_id),
  variable_id       INTEGER NOT NULL REFERENCES variable (variable_id),
  from_unit         TEXT NOT NULL,
  to_unit           TEXT NOT NULL,
  factor            REAL NOT NULL CHECK (factor > 0),
  offset            REAL NOT NULL DEFAULT 0,
  origin            TEXT NOT NULL CHECK (origin IN ('unit_conversion', 'spec')),
  values_converted  INTEGER NOT NULL CHECK (values_converted >= 0),
  PRIMARY KEY (batch_id, variable_id, from_unit)
) WITHOUT ROWID;
