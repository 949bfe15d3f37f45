-- cohortdb: foreign keys off
-- Bulk-load speed, as 0004 for the record tables: the participant table's
-- CHECK (sex IN (four values)) made SQLite build and free a temporary b-tree
-- for every inserted participant (a quarter of a 500,000-row REDCap import),
-- and the participant_site index, with as many insertion points as there are
-- sites, split pages on every insert. Filtering by site scans the table.
-- The table is referenced by the record tables, so it is rebuilt with foreign
-- keys off (the line above) and its ids kept; foreign_key_check must pass.

CREATE TEMP TABLE keep_participant AS SELECT * FROM participant;
DROP TABLE participant;
CREATE TABLE participant (
  participant_id INTEGER PRIMARY KEY,
  study_id       INTEGER NOT NULL REFERENCES study (study_id),
  external_id    TEXT NOT NULL CHECK (length(external_id) >= 1),
  site_id        INTEGER REFERENCES site (site_id),
  sex            TEXT CHECK (sex IS NULL OR sex = 'female' OR sex = 'male' OR sex = 'other' OR sex = 'unknown'),
  age_years      REAL CHECK (age_years >= 0 AND age_years < 130),
  birth_year     INTEGER CHECK (birth_year BETWEEN 1880 AND 2100),
  arm            TEXT CHECK (arm IS NULL OR length(arm) >= 1),
  batch_id       INTEGER REFERENCES import_batch (batch_id),
  UNIQUE (study_id, external_id)
);
INSERT INTO participant SELECT * FROM keep_participant;
DROP TABLE keep_participant;
