-- The read models' checkpoint records the event log it was built from: the
-- log's id and the chain hash of the event at the checkpoint's position.
-- The projector refuses read models of another log, ahead of the log (an
-- older backup of the data dir restored) or of a rewritten log. NULL: a
-- checkpoint made before this migration, bound to the log on first use.
ALTER TABLE projection_checkpoint
    ADD COLUMN log_id uuid,
    ADD COLUMN hash   bytea CHECK (hash IS NULL OR octet_length(hash) = 32);
