-- The LLM's tokens per dialog: the sums over its turns, answered and
-- failed (a failed turn's calls are billed too; its turns row now keeps
-- them), kept on the dialogs row so that tokens per qualified lead is one
-- pass over dialogs.
ALTER TABLE dialogs
    ADD COLUMN prompt_tokens     bigint NOT NULL DEFAULT 0,
    ADD COLUMN completion_tokens bigint NOT NULL DEFAULT 0;

-- Read models built before this migration: the sums of the turns rows
-- they have (those of failed turns were not kept then; a rebuild,
-- salesbot projections rebuild, adds them).
UPDATE dialogs d SET prompt_tokens = t.prompt, completion_tokens = t.completion
FROM (SELECT dialog_id, sum(prompt_tokens) AS prompt, sum(completion_tokens) AS completion
      FROM turns GROUP BY dialog_id) t
WHERE t.dialog_id = d.id;

-- dialog_funnel gains the dialog's tokens (new columns go last, so the
-- views built on it stay as they are).
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
       d.outcome_at,
       d.prompt_tokens,
       d.completion_tokens
FROM dialogs d;
