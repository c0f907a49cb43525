-- Campaigns (CampaignCreated, Paused, Resumed, Ended, Targeted), the
-- campaign that opened each dialog, when its lead first counted as
-- qualified, and the funnel per campaign and prompt variant.

CREATE TABLE campaigns (
    id          uuid PRIMARY KEY,
    name        text NOT NULL,
    status      text NOT NULL,                -- active, paused, ended
    scenario    text NOT NULL,                -- the scenario's name and version it was created with
    version     text NOT NULL DEFAULT '',
    variants    jsonb NOT NULL,               -- [{"name": "A", "weight": 50}, ...]; the first is the control
    segment     jsonb NOT NULL,               -- {"tags": [...], "fields": [{"name": ..., "value": ...}], "import": "imp-..."}
    accounts    jsonb NOT NULL DEFAULT '[]',  -- allowed account ids; [] = every account
    starts_at   timestamptz NOT NULL,
    ends_at     timestamptz NOT NULL,
    schedule    jsonb NOT NULL,               -- start, end, days (0 = Sunday), time_zone, start_minute, end_minute
    daily_cap   integer NOT NULL DEFAULT 0,   -- new dialogs per day for the whole campaign; 0 = no extra cap
    total_cap   integer NOT NULL DEFAULT 0,   -- dialogs in all; 0 = no extra cap
    targeted    integer NOT NULL DEFAULT 0,   -- contacts claimed for the campaign (one cold first message each)
    created_by  text NOT NULL DEFAULT '',
    end_reason  text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);

ALTER TABLE dialogs
    ADD COLUMN campaign     uuid,            -- NULL: not opened by a campaign (inbound, /start)
    ADD COLUMN qualified_at timestamptz;     -- the interest score first reached 50
CREATE INDEX dialogs_campaign ON dialogs (campaign, variant);

-- dialog_funnel gains the campaign and the qualified flag (new columns go
-- last, so the views built on it stay as they are).
CREATE OR REPLACE VIEW dialog_funnel AS
SELECT d.id, d.n, d.stage, d.status, d.outcome, d.variant, d.account_id,
       (d.created_at AT TIME ZONE 'UTC')::date AS day,
       d.inbound > 0                 AS replied,
       d.handoff_at IS NOT NULL      AS handed_off,
       d.outcome = 'opted-out'       AS opted_out,
       d.outcome = 'won'             AS won,
       d.first_inbound_at - d.first_outbound_at AS time_to_first_reply,
       d.campaign,
       d.qualified_at IS NOT NULL    AS qualified
FROM dialogs d;

-- Dialogs per campaign and prompt variant through the funnel; campaign
-- NULL counts the dialogs no campaign opened. The definitions are the
-- sinks' VariantFunnel: replied = the lead wrote at least once; qualified =
-- the interest score reached 50 at some point; handoff = handed to a
-- manager; opted_out, lost, won = closed so.
CREATE VIEW campaign_funnel AS
SELECT d.campaign,
       c.name AS campaign_name,
       d.variant,
       count(*) AS dialogs,
       count(*) FILTER (WHERE d.inbound > 0)              AS replied,
       count(*) FILTER (WHERE d.qualified_at IS NOT NULL) AS qualified,
       count(*) FILTER (WHERE d.handoff_at IS NOT NULL)   AS handoff,
       count(*) FILTER (WHERE d.outcome = 'opted-out')    AS opted_out,
       count(*) FILTER (WHERE d.outcome = 'lost')         AS lost,
       count(*) FILTER (WHERE d.outcome = 'won')          AS won
FROM dialogs d LEFT JOIN campaigns c ON c.id = d.campaign
GROUP BY d.campaign, c.name, d.variant;
