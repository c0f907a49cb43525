-- The account's configured limits, next to today's counts.
ALTER TABLE accounts
    ADD COLUMN daily_cap           integer NOT NULL DEFAULT 0,
    ADD COLUMN messages_per_minute integer NOT NULL DEFAULT 0;
