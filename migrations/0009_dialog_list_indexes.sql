-- Indexes for the dialog list (GET /api/v1/dialogs, the admin bot's
-- /list): its filters with the dialog's number after them, so a page
-- "filter = x AND n < cursor ORDER BY n DESC LIMIT k" reads k index
-- entries. Without them a filtered page walked dialogs_n_key backwards
-- from the newest dialog and skipped every row that did not match: the
-- dialogs of an ended campaign or of a removed account lie far down, so
-- a page of them read most of the table (75 000 rows for the oldest of 8
-- campaigns over 100 000 dialogs: 25-170 ms; `salesbot bench api`,
-- docs/performance.md). created_at serves `since` when fewer dialogs than
-- a page match it (the walk down n would read the whole table to prove
-- there are no more).
--
-- No index on status: every status is common among the newest dialogs,
-- so the walk down dialogs_n_key finds a page of them at once, and with
-- account and status the planner walks the account's own dialogs; an
-- index on status tempted it into combining all of a status's entries
-- with the account's (BitmapAnd), which grows with the table.
CREATE INDEX dialogs_stage_n    ON dialogs (stage, n);
CREATE INDEX dialogs_account_n  ON dialogs (account_id, n);
CREATE INDEX dialogs_campaign_n ON dialogs (campaign, n);
CREATE INDEX dialogs_created    ON dialogs (created_at);

-- (stage, n) answers what (status, stage) did: the stage all but
-- decides the status.
DROP INDEX dialogs_status_stage;
