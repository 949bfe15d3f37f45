-- The per-batch indexes on the record tables cost about an eighth of a bulk
-- import (tools/bench/import) and serve only provenance look-ups by batch,
-- which are rare and fast enough as scans. Lookups by participant, variable
-- and visit keep their indexes.
DROP INDEX biomarker_batch;
DROP INDEX mri_metric_batch;
DROP INDEX outcome_batch;
DROP INDEX covariate_batch;
