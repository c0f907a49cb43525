-- Funnel facts on dialogs, qualification fields, accounts, and views for
-- analysts.

ALTER TABLE dialogs
    ADD COLUMN first_outbound_at timestamptz,
    ADD COLUMN first_inbound_at  timestamptz,
    ADD COLUMN handoff_at        timestamptz,
    ADD COLUMN handoff_reason    text NOT NULL DEFAULT '';

CREATE TABLE qualification (
    dialog_id  uuid NOT NULL,
    field      text NOT NULL,   -- need, budget, timeline, authority
    value      text NOT NULL,
    quote      text NOT NULL DEFAULT '',
    confidence double precision NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (dialog_id, field)
);

CREATE TABLE accounts (
    id             uuid PRIMARY KEY,
    label          text NOT NULL,
    status         text NOT NULL,
    paused         boolean NOT NULL DEFAULT false,
    reason         text NOT NULL DEFAULT '',
    flood_until    timestamptz,
    day            text NOT NULL DEFAULT '',
    dialogs_today  integer NOT NULL DEFAULT 0,
    messages_total integer NOT NULL DEFAULT 0,
    updated_at     timestamptz NOT NULL
);

-- One row per dialog with the funnel facts analysts group by.
CREATE VIEW dialog_funnel AS
SELECT d.id, d.n, d.stage, d.status, d.outcome, d.variant, d.account_id,
       (d.created_at AT TIME ZONE 'UTC')::date AS day,
       d.inbound > 0                 AS replied,
       d.handoff_at IS NOT NULL      AS handed_off,
       d.outcome = 'opted-out'       AS opted_out,
       d.outcome = 'won'             AS won,
       d.first_inbound_at - d.first_outbound_at AS time_to_first_reply
FROM dialogs d;

CREATE VIEW funnel_by_stage AS
SELECT stage AS key, count(*) AS dialogs, count(*) FILTER (WHERE replied) AS replied,
       count(*) FILTER (WHERE handed_off) AS handoffs, count(*) FILTER (WHERE opted_out) AS opted_out,
       count(*) FILTER (WHERE won) AS won
FROM dialog_funnel GROUP BY stage;

CREATE VIEW funnel_by_variant AS
SELECT variant AS key, count(*) AS dialogs, count(*) FILTER (WHERE replied) AS replied,
       count(*) FILTER (WHERE handed_off) AS handoffs, count(*) FILTER (WHERE opted_out) AS opted_out,
       count(*) FILTER (WHERE won) AS won
FROM dialog_funnel GROUP BY variant;

CREATE VIEW funnel_by_account AS
SELECT account_id::text AS key, count(*) AS dialogs, count(*) FILTER (WHERE replied) AS replied,
       count(*) FILTER (WHERE handed_off) AS handoffs, count(*) FILTER (WHERE opted_out) AS opted_out,
       count(*) FILTER (WHERE won) AS won
FROM dialog_funnel GROUP BY account_id;

CREATE VIEW funnel_by_day AS
SELECT to_char(day, 'YYYY-MM-DD') AS key, count(*) AS dialogs, count(*) FILTER (WHERE replied) AS replied,
       count(*) FILTER (WHERE handed_off) AS handoffs, count(*) FILTER (WHERE opted_out) AS opted_out,
       count(*) FILTER (WHERE won) AS won
FROM dialog_funnel GROUP BY day;
