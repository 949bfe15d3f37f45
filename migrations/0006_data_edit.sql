-- Every script run by `cohortdb sql --write` that changed rows or the schema
-- is one data_edit: when, the statement text, the rows it changed and the
-- objects it wrote. The data fingerprint covers these beside the import
-- batches, so an edit is seen by analysis_run.data_fingerprint, and each run
-- keeps the newest edit at its time (data_edit_id) so that `results --diff`
-- can list the edits made between two runs.
CREATE TABLE data_edit (
  edit_id       INTEGER PRIMARY KEY,
  edited_at     TEXT NOT NULL,
  statement     TEXT NOT NULL,
  rows_changed  INTEGER NOT NULL CHECK (rows_changed >= 0),
  objects       TEXT NOT NULL CHECK (json_valid(objects)),
  tool_version  TEXT NOT NULL
);

ALTER TABLE analysis_run ADD COLUMN data_edit_id INTEGER REFERENCES data_edit (edit_id);
