-- cohortdb schema, version 1: studies, participants, visits, the variable
-- catalog, the four record tables with source values and provenance, import
-- bookkeeping, trial summaries for meta-analysis, recipes and analysis runs.
-- Identifiers that become SQL column or view names (study and variable codes)
-- are restricted to [a-z][a-z0-9_]* so generated pivots never need quoting.

CREATE TABLE study (
  study_id    INTEGER PRIMARY KEY,
  code        TEXT NOT NULL UNIQUE
              CHECK (length(code) BETWEEN 1 AND 48 AND code GLOB '[a-z]*' AND code NOT GLOB '*[^a-z0-9_]*'),
  title       TEXT,
  design      TEXT NOT NULL DEFAULT 'cohort' CHECK (design IN ('trial', 'cohort', 'meta', 'other')),
  created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE import_batch (
  batch_id       INTEGER PRIMARY KEY,
  study_id       INTEGER REFERENCES study (study_id),
  file_name      TEXT NOT NULL,
  file_sha256    TEXT NOT NULL CHECK (length(file_sha256) = 64),
  spec_name      TEXT,
  spec_sha256    TEXT NOT NULL CHECK (length(spec_sha256) = 64),
  record_kind    TEXT CHECK (record_kind IN ('participant', 'biomarker', 'mri_metric', 'outcome',
                                             'covariate', 'trial_summary', 'dictionary', 'mixed')),
  status         TEXT NOT NULL DEFAULT 'loaded' CHECK (status IN ('loaded', 'quarantined')),
  rows_read      INTEGER NOT NULL DEFAULT 0 CHECK (rows_read >= 0),
  rows_loaded    INTEGER NOT NULL DEFAULT 0 CHECK (rows_loaded >= 0),
  rows_rejected  INTEGER NOT NULL DEFAULT 0 CHECK (rows_rejected >= 0),
  started_at     TEXT NOT NULL,
  finished_at    TEXT,
  tool_version   TEXT NOT NULL,
  UNIQUE (file_sha256, spec_sha256)
);

-- One row per rejected input row of a --quarantine import.
CREATE TABLE import_error (
  error_id     INTEGER PRIMARY KEY,
  batch_id     INTEGER NOT NULL REFERENCES import_batch (batch_id) ON DELETE CASCADE,
  line         INTEGER CHECK (line >= 1),
  column_index INTEGER CHECK (column_index >= 1),
  column_name  TEXT,
  message      TEXT NOT NULL,
  raw_row      TEXT
);
CREATE INDEX import_error_batch ON import_error (batch_id);

CREATE TABLE site (
  site_id   INTEGER PRIMARY KEY,
  study_id  INTEGER NOT NULL REFERENCES study (study_id),
  code      TEXT NOT NULL CHECK (length(code) >= 1),
  label     TEXT,
  UNIQUE (study_id, code)
);

CREATE TABLE participant (
  participant_id INTEGER PRIMARY KEY,
  study_id       INTEGER NOT NULL REFERENCES study (study_id),
  external_id    TEXT NOT NULL CHECK (length(external_id) >= 1),
  site_id        INTEGER REFERENCES site (site_id),
  sex            TEXT CHECK (sex IN ('female', 'male', 'other', 'unknown')),
  age_years      REAL CHECK (age_years >= 0 AND age_years < 130),
  birth_year     INTEGER CHECK (birth_year BETWEEN 1880 AND 2100),
  arm            TEXT CHECK (arm IS NULL OR length(arm) >= 1),
  batch_id       INTEGER REFERENCES import_batch (batch_id),
  UNIQUE (study_id, external_id)
);
CREATE INDEX participant_site ON participant (site_id);

CREATE TABLE visit (
  visit_id     INTEGER PRIMARY KEY,
  study_id     INTEGER NOT NULL REFERENCES study (study_id),
  code         TEXT NOT NULL
               CHECK (length(code) BETWEEN 1 AND 32 AND code GLOB '[a-z]*' AND code NOT GLOB '*[^a-z0-9_]*'),
  label        TEXT,
  visit_order  INTEGER NOT NULL,
  nominal_day  INTEGER,
  UNIQUE (study_id, code),
  UNIQUE (study_id, visit_order)
);

-- The variable catalog. unit is the canonical unit every stored value is in;
-- min_value/max_value the plausible range (inclusive) checked on import.
CREATE TABLE variable (
  variable_id  INTEGER PRIMARY KEY,
  study_id     INTEGER NOT NULL REFERENCES study (study_id),
  code         TEXT NOT NULL
               CHECK (length(code) BETWEEN 1 AND 48 AND code GLOB '[a-z]*' AND code NOT GLOB '*[^a-z0-9_]*'),
  label        TEXT,
  record_kind  TEXT NOT NULL CHECK (record_kind IN ('biomarker', 'mri_metric', 'outcome', 'covariate')),
  value_type   TEXT NOT NULL CHECK (value_type IN ('real', 'integer', 'boolean', 'categorical', 'text')),
  unit         TEXT,
  min_value    REAL,
  max_value    REAL,
  CHECK (min_value IS NULL OR max_value IS NULL OR min_value <= max_value),
  UNIQUE (study_id, code)
);

-- Levels of a categorical or boolean variable: the stored value is "level",
-- source_code is the code as the export delivers it (REDCap's "1" of "1, Female").
CREATE TABLE variable_level (
  variable_id  INTEGER NOT NULL REFERENCES variable (variable_id) ON DELETE CASCADE,
  level        INTEGER NOT NULL,
  label        TEXT NOT NULL,
  source_code  TEXT NOT NULL,
  PRIMARY KEY (variable_id, level),
  UNIQUE (variable_id, source_code)
);

-- value_canonical = value_source * factor + offset. analyte '' applies to
-- every variable; otherwise only to the variable with that code (checked first).
CREATE TABLE unit_conversion (
  from_unit  TEXT NOT NULL,
  to_unit    TEXT NOT NULL,
  analyte    TEXT NOT NULL DEFAULT '',
  factor     REAL NOT NULL CHECK (factor > 0),
  offset     REAL NOT NULL DEFAULT 0,
  note       TEXT,
  PRIMARY KEY (from_unit, to_unit, analyte),
  CHECK (from_unit <> to_unit)
);

-- The four record tables share one shape. value is in the variable's canonical
-- unit, NULL when the delivered value was censored (then censoring says which
-- side and detection_limit holds the limit, canonical unit) or text-typed.
-- source_value/source_unit are exactly as delivered. A row replaced by a later
-- import (--replace) keeps superseded_by = that batch; current rows have NULL.
CREATE TABLE biomarker (
  record_id        INTEGER PRIMARY KEY,
  participant_id   INTEGER NOT NULL REFERENCES participant (participant_id),
  visit_id         INTEGER REFERENCES visit (visit_id),
  variable_id      INTEGER NOT NULL REFERENCES variable (variable_id),
  value            REAL,
  value_text       TEXT,
  source_value     TEXT NOT NULL,
  source_unit      TEXT,
  censoring        TEXT NOT NULL DEFAULT 'none' CHECK (censoring IN ('none', 'left', 'right')),
  detection_limit  REAL,
  assay            TEXT,
  lab              TEXT,
  metadata         TEXT CHECK (metadata IS NULL OR json_valid(metadata)),
  batch_id         INTEGER NOT NULL REFERENCES import_batch (batch_id),
  superseded_by    INTEGER REFERENCES import_batch (batch_id),
  CHECK ((censoring = 'none') = (detection_limit IS NULL)),
  CHECK (censoring = 'none' OR value IS NULL)
);
CREATE UNIQUE INDEX biomarker_current ON biomarker (participant_id, variable_id, ifnull(visit_id, 0))
  WHERE superseded_by IS NULL;
CREATE INDEX biomarker_variable ON biomarker (variable_id, visit_id);
CREATE INDEX biomarker_batch ON biomarker (batch_id);

CREATE TABLE mri_metric (
  record_id        INTEGER PRIMARY KEY,
  participant_id   INTEGER NOT NULL REFERENCES participant (participant_id),
  visit_id         INTEGER REFERENCES visit (visit_id),
  variable_id      INTEGER NOT NULL REFERENCES variable (variable_id),
  value            REAL,
  value_text       TEXT,
  source_value     TEXT NOT NULL,
  source_unit      TEXT,
  censoring        TEXT NOT NULL DEFAULT 'none' CHECK (censoring IN ('none', 'left', 'right')),
  detection_limit  REAL,
  model_name       TEXT,
  model_version    TEXT,
  metadata         TEXT CHECK (metadata IS NULL OR json_valid(metadata)),
  batch_id         INTEGER NOT NULL REFERENCES import_batch (batch_id),
  superseded_by    INTEGER REFERENCES import_batch (batch_id),
  CHECK ((censoring = 'none') = (detection_limit IS NULL)),
  CHECK (censoring = 'none' OR value IS NULL)
);
CREATE UNIQUE INDEX mri_metric_current ON mri_metric (participant_id, variable_id, ifnull(visit_id, 0))
  WHERE superseded_by IS NULL;
CREATE INDEX mri_metric_variable ON mri_metric (variable_id, visit_id);
CREATE INDEX mri_metric_batch ON mri_metric (batch_id);

CREATE TABLE outcome (
  record_id        INTEGER PRIMARY KEY,
  participant_id   INTEGER NOT NULL REFERENCES participant (participant_id),
  visit_id         INTEGER REFERENCES visit (visit_id),
  variable_id      INTEGER NOT NULL REFERENCES variable (variable_id),
  value            REAL,
  value_text       TEXT,
  source_value     TEXT NOT NULL,
  source_unit      TEXT,
  censoring        TEXT NOT NULL DEFAULT 'none' CHECK (censoring IN ('none', 'left', 'right')),
  detection_limit  REAL,
  instrument       TEXT,
  metadata         TEXT CHECK (metadata IS NULL OR json_valid(metadata)),
  batch_id         INTEGER NOT NULL REFERENCES import_batch (batch_id),
  superseded_by    INTEGER REFERENCES import_batch (batch_id),
  CHECK ((censoring = 'none') = (detection_limit IS NULL)),
  CHECK (censoring = 'none' OR value IS NULL)
);
CREATE UNIQUE INDEX outcome_current ON outcome (participant_id, variable_id, ifnull(visit_id, 0))
  WHERE superseded_by IS NULL;
CREATE INDEX outcome_variable ON outcome (variable_id, visit_id);
CREATE INDEX outcome_batch ON outcome (batch_id);

CREATE TABLE covariate (
  record_id        INTEGER PRIMARY KEY,
  participant_id   INTEGER NOT NULL REFERENCES participant (participant_id),
  visit_id         INTEGER REFERENCES visit (visit_id),
  variable_id      INTEGER NOT NULL REFERENCES variable (variable_id),
  value            REAL,
  value_text       TEXT,
  source_value     TEXT NOT NULL,
  source_unit      TEXT,
  censoring        TEXT NOT NULL DEFAULT 'none' CHECK (censoring IN ('none', 'left', 'right')),
  detection_limit  REAL,
  metadata         TEXT CHECK (metadata IS NULL OR json_valid(metadata)),
  batch_id         INTEGER NOT NULL REFERENCES import_batch (batch_id),
  superseded_by    INTEGER REFERENCES import_batch (batch_id),
  CHECK ((censoring = 'none') = (detection_limit IS NULL)),
  CHECK (censoring = 'none' OR value IS NULL)
);
CREATE UNIQUE INDEX covariate_current ON covariate (participant_id, variable_id, ifnull(visit_id, 0))
  WHERE superseded_by IS NULL;
CREATE INDEX covariate_variable ON covariate (variable_id, visit_id);
CREATE INDEX covariate_batch ON covariate (batch_id);

-- Every record of every kind, current or superseded, with its study, visit and
-- variable codes: the base for ad-hoc SQL and for generated pivots.
CREATE VIEW record_all AS
  SELECT r.record_kind, r.record_id, p.study_id, s.code AS study, r.participant_id,
         p.external_id, v.code AS visit, v.visit_order, var.code AS variable, r.variable_id,
         r.value, r.value_text, var.unit, r.source_value, r.source_unit, r.censoring,
         r.detection_limit, r.batch_id, r.superseded_by
  FROM (SELECT 'biomarker' AS record_kind, record_id, participant_id, visit_id, variable_id, value,
               value_text, source_value, source_unit, censoring, detection_limit, batch_id, superseded_by
          FROM biomarker
        UNION ALL
        SELECT 'mri_metric', record_id, participant_id, visit_id, variable_id, value, value_text,
               source_value, source_unit, censoring, detection_limit, batch_id, superseded_by
          FROM mri_metric
        UNION ALL
        SELECT 'outcome', record_id, participant_id, visit_id, variable_id, value, value_text,
               source_value, source_unit, censoring, detection_limit, batch_id, superseded_by
          FROM outcome
        UNION ALL
        SELECT 'covariate', record_id, participant_id, visit_id, variable_id, value, value_text,
               source_value, source_unit, censoring, detection_limit, batch_id, superseded_by
          FROM covariate) AS r
  JOIN participant p ON p.participant_id = r.participant_id
  JOIN study s ON s.study_id = p.study_id
  JOIN variable var ON var.variable_id = r.variable_id
  LEFT JOIN visit v ON v.visit_id = r.visit_id;

-- Only the rows in force (not superseded by a --replace import).
CREATE VIEW record_current AS SELECT * FROM record_all WHERE superseded_by IS NULL;

-- Trial-level summaries for meta-analysis: one row per trial, then one per
-- trial, outcome and arm (continuous: n, mean, sd; binary: n, events).
CREATE TABLE meta_trial (
  trial_id        INTEGER PRIMARY KEY,
  study_id        INTEGER NOT NULL REFERENCES study (study_id),
  label           TEXT NOT NULL CHECK (length(label) >= 1),
  year            INTEGER CHECK (year BETWEEN 1900 AND 2100),
  duration_weeks  REAL CHECK (duration_weeks > 0),
  attributes      TEXT CHECK (attributes IS NULL OR json_valid(attributes)),
  batch_id        INTEGER REFERENCES import_batch (batch_id),
  UNIQUE (study_id, label)
);

CREATE TABLE meta_arm_summary (
  trial_id  INTEGER NOT NULL REFERENCES meta_trial (trial_id),
  outcome   TEXT NOT NULL CHECK (length(outcome) >= 1),
  arm       TEXT NOT NULL CHECK (arm IN ('treatment', 'control')),
  n         INTEGER NOT NULL CHECK (n >= 1),
  mean      REAL,
  sd        REAL CHECK (sd >= 0),
  events    INTEGER CHECK (events >= 0 AND events <= n),
  batch_id  INTEGER REFERENCES import_batch (batch_id),
  PRIMARY KEY (trial_id, outcome, arm),
  CHECK ((mean IS NOT NULL AND sd IS NOT NULL) OR events IS NOT NULL)
);

-- Stored analysis recipes: every change is a new version; rm marks removed_at.
CREATE TABLE recipe (
  recipe_id   INTEGER PRIMARY KEY,
  name        TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 64 AND name NOT GLOB '*[^A-Za-z0-9_.-]*'),
  version     INTEGER NOT NULL CHECK (version >= 1),
  body        TEXT NOT NULL,
  sha256      TEXT NOT NULL CHECK (length(sha256) = 64),
  created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  removed_at  TEXT,
  UNIQUE (name, version)
);

-- One row per analysis executed, from the command line or a recipe step.
CREATE TABLE analysis_run (
  run_id            INTEGER PRIMARY KEY,
  command           TEXT NOT NULL,
  parameters        TEXT NOT NULL CHECK (json_valid(parameters)),
  recipe_id         INTEGER REFERENCES recipe (recipe_id),
  recipe_step       TEXT,
  data_fingerprint  TEXT NOT NULL,
  tool_version      TEXT NOT NULL,
  started_at        TEXT NOT NULL,
  elapsed_ms        REAL CHECK (elapsed_ms >= 0),
  rows_used         INTEGER CHECK (rows_used >= 0),
  rows_excluded     INTEGER CHECK (rows_excluded >= 0),
  min_cell          INTEGER CHECK (min_cell >= 0),
  summary           TEXT CHECK (summary IS NULL OR json_valid(summary)),
  diagnostics       TEXT CHECK (diagnostics IS NULL OR json_valid(diagnostics))
);
CREATE INDEX analysis_run_recipe ON analysis_run (recipe_id);

-- Tidy result rows of a run. section groups rows of one kind ('coefficients',
-- 'table1', 'prevalence', 'studies', 'pooled', ...); extra holds columns
-- specific to the analysis as a JSON object.
CREATE TABLE analysis_result (
  run_id      INTEGER NOT NULL REFERENCES analysis_run (run_id) ON DELETE CASCADE,
  row_index   INTEGER NOT NULL CHECK (row_index >= 0),
  section     TEXT NOT NULL,
  stratum     TEXT,
  term        TEXT NOT NULL,
  estimate    REAL,
  std_error   REAL,
  statistic   REAL,
  p_value     REAL CHECK (p_value IS NULL OR (p_value >= 0 AND p_value <= 1)),
  conf_low    REAL,
  conf_high   REAL,
  n           INTEGER CHECK (n IS NULL OR n >= 0),
  extra       TEXT CHECK (extra IS NULL OR json_valid(extra)),
  PRIMARY KEY (run_id, row_index)
);
