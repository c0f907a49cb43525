-- Deal outcomes (OutcomeRecorded: won with its value, lost with why) and
-- typed budgets.
--
-- dialogs.outcome stays how the dialog ended; once an outcome is recorded
-- (outcome_at set) it is that outcome, won or lost, whatever closed the
-- dialog before or after. outcome_amount is exact (numeric) in
-- outcome_currency (ISO 4217); both NULL for lost and for a win whose
-- value is not known. outcome_reason: why a deal was lost (personal data,
-- '[forgotten]' after an erasure). A later outcome replaces the row's.
ALTER TABLE dialogs
    ADD COLUMN outcome_amount   numeric,
    ADD COLUMN outcome_currency text,
    ADD COLUMN outcome_reason   text NOT NULL DEFAULT '',
    ADD COLUMN outcome_at       timestamptz;

-- A stated budget as a number and a currency next to its text (the
-- budget's row; NULL for other fields, a budget that does not read as an
-- amount, and an erased contact's).
ALTER TABLE qualification
    ADD COLUMN amount   numeric,
    ADD COLUMN currency text;

-- dialog_funnel gains the deal's value and when it was recorded (new
-- columns go last, so the views built on it stay as they are).
CREATE OR REPLACE VIEW dialog_funnel AS
SELECT d.id, d.n, d.stage, d.status, d.outcome, d.variant, d.account_id,
       (d.created_at AT TIME ZONE 'UTC')::date AS day,
       d.inbound > 0                 AS replied,
       d.handoff_at IS NOT NULL      AS handed_off,
       d.outcome = 'opted-out' AND coalesce(d.opted_out_by, '') IN ('', 'lead') AS opted_out,
       d.outcome = 'won'             AS won,
       d.first_inbound_at - d.first_outbound_at AS time_to_first_reply,
       d.campaign,
       d.qualified_at IS NOT NULL    AS qualified,
       d.opted_out_by,
       d.outcome_amount,
       d.outcome_currency,
       d.outcome_at
FROM dialogs d;

-- campaign_funnel gains revenue: the sum of the won deals' values, with
-- its currency, when every valued win of the row is in one currency (NULL
-- when they are in several: see campaign_revenue, one row per currency).
CREATE OR REPLACE VIEW campaign_funnel AS
SELECT d.campaign,
       c.name AS campaign_name,
       d.variant,
       count(*) AS dialogs,
       count(*) FILTER (WHERE d.inbound > 0)              AS replied,
       count(*) FILTER (WHERE d.qualified_at IS NOT NULL) AS qualified,
       count(*) FILTER (WHERE d.handoff_at IS NOT NULL)   AS handoff,
       count(*) FILTER (WHERE d.outcome = 'opted-out' AND coalesce(d.opted_out_by, '') IN ('', 'lead')) AS opted_out,
       count(*) FILTER (WHERE d.outcome = 'lost')         AS lost,
       count(*) FILTER (WHERE d.outcome = 'won')          AS won,
       CASE WHEN count(DISTINCT d.outcome_currency) FILTER (WHERE d.outcome = 'won') = 1
            THEN sum(d.outcome_amount) FILTER (WHERE d.outcome = 'won') END AS revenue,
       CASE WHEN count(DISTINCT d.outcome_currency) FILTER (WHERE d.outcome = 'won') = 1
            THEN min(d.outcome_currency) FILTER (WHERE d.outcome = 'won') END AS revenue_currency
FROM dialogs d LEFT JOIN campaigns c ON c.id = d.campaign
GROUP BY d.campaign, c.name, d.variant;

-- Won deals and their revenue per campaign, prompt variant and currency.
CREATE VIEW campaign_revenue AS
SELECT d.campaign,
       c.name AS campaign_name,
       d.variant,
       d.outcome_currency AS currency,
       count(*)              AS won,
       sum(d.outcome_amount) AS revenue
FROM dialogs d LEFT JOIN campaigns c ON c.id = d.campaign
WHERE d.outcome = 'won' AND d.outcome_amount IS NOT NULL
GROUP BY d.campaign, c.name, d.variant, d.outcome_currency;
