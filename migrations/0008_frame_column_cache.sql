-- The frame column cache: per study, pivot (per participant or per visit),
-- censor rule and pivot column, the column exactly as the pivot reader
-- (src/store/pivot_reader.cpp) produces it, rows in the pivot's order:
--   not is_text: data = row_count doubles (native byte order, NaN = NULL;
--     is_integer: the values are integers); is_text: data = row_count int32
--     codes (-1 = NULL) and
--     dictionary = the distinct values (each a uint32 byte length and the
--     bytes); censored = one byte per row (1 = a censored record's value, or
--     under "exclude" a censored record left NULL), NULL when none is.
-- Analyses fill it on first read and read the blobs afterwards. It is never
-- data: nothing else refers to it, and any write to a table a pivot reads
-- empties it (the triggers below, which also fire for writes made outside
-- cohortdb; a bulk import empties it and drops the triggers for its own
-- transaction, re-creating them before it commits). The reader uses the
-- cache only while all 33 frame_cache_clear_* triggers exist, so a
-- migration that rebuilds one of these tables (dropping its triggers) must
-- re-create them, and until then the cache is bypassed.
CREATE TABLE frame_column (
  column_id       INTEGER PRIMARY KEY,
  study_id        INTEGER NOT NULL,
  per_visit       INTEGER NOT NULL CHECK (per_visit IN (0, 1)),
  censor_rule     TEXT NOT NULL,
  name            TEXT NOT NULL,
  row_count       INTEGER NOT NULL CHECK (row_count >= 0),
  is_text         INTEGER NOT NULL CHECK (is_text IN (0, 1)),
  is_integer      INTEGER NOT NULL CHECK (is_integer IN (0, 1)),
  censored_count  INTEGER NOT NULL CHECK (censored_count >= 0),
  data            BLOB NOT NULL,
  dictionary      BLOB,
  censored        BLOB,
  UNIQUE (study_id, per_visit, censor_rule, name)
);

CREATE TRIGGER frame_cache_clear_study_insert AFTER INSERT ON study BEGIN DELETE FROM frame_column; END;
CREATE TRIGGER frame_cache_clear_study_update AFTER UPDATE ON study BEGIN DELETE FROM frame_column; END;
CREATE TRIGGER frame_cache_clear_study_delete AFTER DELETE ON study BEGIN DELETE FROM frame_column; END;
CREATE TRIGGER frame_cache_clear_site_insert AFTER INSERT ON site BEGIN DELETE FROM frame_column; END;
CREATE TRIGGER frame_cache_clear_site_update AFTER UPDATE ON site BEGIN DELETE FROM frame_column; END;
CREATE TRIGGER frame_cache_clear_site_delete AFTER DELETE ON site BEGIN DELETE FROM frame_column; END;
CREATE TRIGGER frame_cache_clear_visit_insert AFTER INSERT ON visit BEGIN DELETE FROM frame_column; END;
CREATE TRIGGER frame_cache_clear_visit_update AFTER UPDATE ON visit BEGIN DELETE FROM frame_column; END;
CREATE TRIGGER frame_cache_clear_visit_delete AFTER DELETE ON visit BEGIN DELETE FROM frame_column; END;
CREATE TRIGGER frame_cache_clear_participant_insert AFTER INSERT ON participant BEGIN DELETE FROM frame_column; END;
CREATE TRIGGER frame_cache_clear_participant_update AFTER UPDATE ON participant BEGIN DELETE FROM frame_column; END;
CREATE TRIGGER frame_cache_clear_participant_delete AFTER DELETE ON participant BEGIN DELETE FROM frame_column; END;
CREATE TRIGGER frame_cache_clear_variable_insert AFTER INSERT ON variable BEGIN DELETE FROM frame_column; END;
CREATE TRIGGER frame_cache_clear_variable_update AFTER UPDATE ON variable BEGIN DELETE FROM frame_column; END;
CREATE TRIGGER frame_cache_clear_variable_delete AFTER DELETE ON variable BEGIN DELETE FROM frame_column; END;
CREATE TRIGGER frame_cache_clear_variable_level_insert AFTER INSERT ON variable_level BEGIN DELETE FROM frame_column; END;
CREATE TRIGGER frame_cache_clear_variable_level_update AFTER UPDATE ON variable_level BEGIN DELETE FROM frame_column; END;
CREATE TRIGGER frame_cache_clear_variable_level_delete AFTER DELETE ON variable_level BEGIN DELETE FROM frame_column; END;
CREATE TRIGGER frame_cache_clear_record_coverage_insert AFTER INSERT ON record_coverage BEGIN DELETE FROM frame_column; END;
CREATE TRIGGER frame_cache_clear_record_coverage_update AFTER UPDATE ON record_coverage BEGIN DELETE FROM frame_column; END;
CREATE TRIGGER frame_cache_clear_record_coverage_delete AFTER DELETE ON record_coverage BEGIN DELETE FROM frame_column; END;
CREATE TRIGGER frame_cache_clear_biomarker_insert AFTER INSERT ON biomarker BEGIN DELETE FROM frame_column; END;
CREATE TRIGGER frame_cache_clear_biomarker_update AFTER UPDATE ON biomarker BEGIN DELETE FROM frame_column; END;
CREATE TRIGGER frame_cache_clear_biomarker_delete AFTER DELETE ON biomarker BEGIN DELETE FROM frame_column; END;
CREATE TRIGGER frame_cache_clear_mri_metric_insert AFTER INSERT ON mri_metric BEGIN DELETE FROM frame_column; END;
CREATE TRIGGER frame_cache_clear_mri_metric_update AFTER UPDATE ON mri_metric BEGIN DELETE FROM frame_column; END;
CREATE TRIGGER frame_cache_clear_mri_metric_delete AFTER DELETE ON mri_metric BEGIN DELETE FROM frame_column; END;
CREATE TRIGGER frame_cache_clear_outcome_insert AFTER INSERT ON outcome BEGIN DELETE FROM frame_column; END;
CREATE TRIGGER frame_cache_clear_outcome_update AFTER UPDATE ON outcome BEGIN DELETE FROM frame_column; END;
CREATE TRIGGER frame_cache_clear_outcome_delete AFTER DELETE ON outcome BEGIN DELETE FROM frame_column; END;
CREATE TRIGGER frame_cache_clear_covariate_insert AFTER INSERT ON covariate BEGIN DELETE FROM frame_column; END;
CREATE TRIGGER frame_cache_clear_covariate_update AFTER UPDATE ON covariate BEGIN DELETE FROM frame_column; END;
CREATE TRIGGER frame_cache_clear_covariate_delete AFTER DELETE ON covariate BEGIN DELETE FROM frame_column; END;
