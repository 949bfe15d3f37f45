-- Bulk-load speed (tools/bench/import). Two things in the record tables cost
-- more than everything else an import writes:
--   * CHECK (censoring IN ('none', 'left', 'right')): SQLite evaluates an IN
--     list of three or more constants through a temporary b-tree that it
--     builds and frees for every inserted row. The same test written with OR
--     costs a few comparisons.
--   * the <table>_variable index on (variable_id, visit_id): its keys arrive in
--     as many places as a file has variables, so every insert splits pages in
--     the middle of the index. Its one use, finding which (variable, visit)
--     pairs hold data so the pivots can choose their columns, now reads the
--     small record_coverage table that imports keep.
-- SQLite cannot alter a CHECK constraint, so each record table is rebuilt with
-- its rows and record ids (through a temporary copy, which leaves the views
-- that name the tables valid throughout).

-- Which (variable, visit) pairs hold at least one current record; visit_key is
-- the visit_id, or 0 for records without a visit. Kept by `cohortdb import`
-- and recomputed after `cohortdb sql --write`, so pivots never scan records.
CREATE TABLE record_coverage (
  variable_id  INTEGER NOT NULL REFERENCES variable (variable_id) ON DELETE CASCADE,
  visit_key    INTEGER NOT NULL,
  PRIMARY KEY (variable_id, visit_key)
) WITHOUT ROWID;

CREATE TEMP TABLE keep_biomarker AS SELECT * FROM biomarker;
DROP TABLE biomarker;
CREATE TABLE biomarker (
  record_id        INTEGER PRIMARY KEY,
  participant_id   INTEGER NOT NULL REFERENCES participant (participant_id),
  visit_id         INTEGER REFERENCES visit (visit_id),
  variable_id      INTEGER NOT NULL REFERENCES variable (variable_id),
  value            REAL,
  value_text       TEXT,
  source_value     TEXT NOT NULL,
  source_unit      TEXT,
  censoring        TEXT NOT NULL DEFAULT 'none' CHECK (censoring = 'none' OR censoring = 'left' OR censoring = 'right'),
  detection_limit  REAL,
  assay            TEXT,
  lab              TEXT,
  metadata         TEXT CHECK (metadata IS NULL OR json_valid(metadata)),
  batch_id         INTEGER NOT NULL REFERENCES import_batch (batch_id),
  superseded_by    INTEGER REFERENCES import_batch (batch_id),
  CHECK ((censoring = 'none') = (detection_limit IS NULL)),
  CHECK (censoring = 'none' OR value IS NULL)
);
INSERT INTO biomarker SELECT * FROM keep_biomarker;
DROP TABLE keep_biomarker;
CREATE UNIQUE INDEX biomarker_current ON biomarker (participant_id, variable_id, ifnull(visit_id, 0))
  WHERE superseded_by IS NULL;
INSERT OR IGNORE INTO record_coverage (variable_id, visit_key)
  SELECT DISTINCT variable_id, ifnull(visit_id, 0) FROM biomarker WHERE superseded_by IS NULL;

CREATE TEMP TABLE keep_mri_metric AS SELECT * FROM mri_metric;
DROP TABLE mri_metric;
CREATE TABLE mri_metric (
  record_id        INTEGER PRIMARY KEY,
  participant_id   INTEGER NOT NULL REFERENCES participant (participant_id),
  visit_id         INTEGER REFERENCES visit (visit_id),
  variable_id      INTEGER NOT NULL REFERENCES variable (variable_id),
  value            REAL,
  value_text       TEXT,
  source_value     TEXT NOT NULL,
  source_unit      TEXT,
  censoring        TEXT NOT NULL DEFAULT 'none' CHECK (censoring = 'none' OR censoring = 'left' OR censoring = 'right'),
  detection_limit  REAL,
  model_name       TEXT,
  model_version    TEXT,
  metadata         TEXT CHECK (metadata IS NULL OR json_valid(metadata)),
  batch_id         INTEGER NOT NULL REFERENCES import_batch (batch_id),
  superseded_by    INTEGER REFERENCES import_batch (batch_id),
  CHECK ((censoring = 'none') = (detection_limit IS NULL)),
  CHECK (censoring = 'none' OR value IS NULL)
);
INSERT INTO mri_metric SELECT * FROM keep_mri_metric;
DROP TABLE keep_mri_metric;
CREATE UNIQUE INDEX mri_metric_current ON mri_metric (participant_id, variable_id, ifnull(visit_id, 0))
  WHERE superseded_by IS NULL;
INSERT OR IGNORE INTO record_coverage (variable_id, visit_key)
  SELECT DISTINCT variable_id, ifnull(visit_id, 0) FROM mri_metric WHERE superseded_by IS NULL;

CREATE TEMP TABLE keep_outcome AS SELECT * FROM outcome;
DROP TABLE outcome;
CREATE TABLE outcome (
  record_id        INTEGER PRIMARY KEY,
  participant_id   INTEGER NOT NULL REFERENCES participant (participant_id),
  visit_id         INTEGER REFERENCES visit (visit_id),
  variable_id      INTEGER NOT NULL REFERENCES variable (variable_id),
  value            REAL,
  value_text       TEXT,
  source_value     TEXT NOT NULL,
  source_unit      TEXT,
  censoring        TEXT NOT NULL DEFAULT 'none' CHECK (censoring = 'none' OR censoring = 'left' OR censoring = 'right'),
  detection_limit  REAL,
  instrument       TEXT,
  metadata         TEXT CHECK (metadata IS NULL OR json_valid(metadata)),
  batch_id         INTEGER NOT NULL REFERENCES import_batch (batch_id),
  superseded_by    INTEGER REFERENCES import_batch (batch_id),
  CHECK ((censoring = 'none') = (detection_limit IS NULL)),
  CHECK (censoring = 'none' OR value IS NULL)
);
INSERT INTO outcome SELECT * FROM keep_outcome;
DROP TABLE keep_outcome;
CREATE UNIQUE INDEX outcome_current ON outcome (participant_id, variable_id, ifnull(visit_id, 0))
  WHERE superseded_by IS NULL;
INSERT OR IGNORE INTO record_coverage (variable_id, visit_key)
  SELECT DISTINCT variable_id, ifnull(visit_id, 0) FROM outcome WHERE superseded_by IS NULL;

CREATE TEMP TABLE keep_covariate AS SELECT * FROM covariate;
DROP TABLE covariate;
CREATE TABLE covariate (
  record_id        INTEGER PRIMARY KEY,
  participant_id   INTEGER NOT NULL REFERENCES participant (participant_id),
  visit_id         INTEGER REFERENCES visit (visit_id),
  variable_id      INTEGER NOT NULL REFERENCES variable (variable_id),
  value            REAL,
  value_text       TEXT,
  source_value     TEXT NOT NULL,
  source_unit      TEXT,
  censoring        TEXT NOT NULL DEFAULT 'none' CHECK (censoring = 'none' OR censoring = 'left' OR censoring = 'right'),
  detection_limit  REAL,
  metadata         TEXT CHECK (metadata IS NULL OR json_valid(metadata)),
  batch_id         INTEGER NOT NULL REFERENCES import_batch (batch_id),
  superseded_by    INTEGER REFERENCES import_batch (batch_id),
  CHECK ((censoring = 'none') = (detection_limit IS NULL)),
  CHECK (censoring = 'none' OR value IS NULL)
);
INSERT INTO covariate SELECT * FROM keep_covariate;
DROP TABLE keep_covariate;
CREATE UNIQUE INDEX covariate_current ON covariate (participant_id, variable_id, ifnull(visit_id, 0))
  WHERE superseded_by IS NULL;
INSERT OR IGNORE INTO record_coverage (variable_id, visit_key)
  SELECT DISTINCT variable_id, ifnull(visit_id, 0) FROM covariate WHERE superseded_by IS NULL;
