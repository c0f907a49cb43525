-- Indexes for the dialog list (GET /api/v1/dialogs, the admin bot's
-- /list): every filter it takes, with the dialog's number after it, so a
-- page "filter = x AND n < cursor ORDER BY n DESC LIMIT k" reads k index
-- entries. Without them a filtered page walked dialogs_n_key backwards
-- from the newest dialog and skipped every row that did not match: the
-- dialogs of an ended campaign or a removed account lie far down, so a
-- page of them read most of the table (75 000 rows for the oldest of 8
-- campaigns over 100 000 dialogs: 25-170 ms, `salesbot bench api`).
-- created_at serves `since` when fewer dialogs than a page match it (the
-- walk down n would otherwise read the whole table to prove there are no
-- more).
CREATE INDEX dialogs_status_n   ON dialogs (status, n);
CREATE INDEX dialogs_stage_n    ON dialogs (stage, n);
CREATE INDEX dialogs_account_n  ON dialogs (account_id, n);
CREATE INDEX dialogs_campaign_n ON dialogs (campaign, n);
CREATE INDEX dialogs_created    ON dialogs (created_at);

-- (status, n) and (stage, n) answer whatever (status, stage) did.
DROP INDEX dialogs_status_stage;
