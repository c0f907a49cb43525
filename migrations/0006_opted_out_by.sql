-- Who opted the lead out of a dialog (DialogOptedOut.by): NULL, '' or
-- 'lead' is the lead's own choice; 'admin:<id>', 'cli', 'erasure' and
-- 'do-not-contact' are not the lead's answer to the dialog, and the funnel
-- no longer counts them as opt-outs (they skewed the A/B verdicts).
ALTER TABLE dialogs ADD COLUMN opted_out_by text;

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
       d.opted_out_by
FROM dialogs d;

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
       count(*) FILTER (WHERE d.outcome = 'won')          AS won
FROM dialogs d LEFT JOIN campaigns c ON c.id = d.campaign
GROUP BY d.campaign, c.name, d.variant;
