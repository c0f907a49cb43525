-- The prompt tokens the LLM provider served from its prompt cache (part of
-- prompt_tokens, billed lower by most providers; 0 where the provider
-- does not say), per turn and per dialog, so cost can bill them at their
-- own price.
ALTER TABLE turns
    ADD COLUMN cached_prompt_tokens integer NOT NULL DEFAULT 0;
ALTER TABLE dialogs
    ADD COLUMN cached_prompt_tokens bigint NOT NULL DEFAULT 0;

-- Read models built before this migration have no cached tokens recorded
-- (the events did not carry them); a rebuild (salesbot projections
-- rebuild) fills in those the log has.

-- dialog_funnel and llm_usage_daily gain the cached tokens (new columns
-- go last, so the views built on them stay as they are).
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
       d.completion_tokens,
       d.cached_prompt_tokens
FROM dialogs d;

CREATE OR REPLACE VIEW llm_usage_daily AS
SELECT (t.at AT TIME ZONE 'UTC')::date AS day,
       t.engine,
       t.model,
       CASE WHEN t.variant <> '' THEN t.variant ELSE COALESCE(d.variant, '') END AS variant,
       count(*) AS turns,
       count(*) FILTER (WHERE t.status = 'failed') AS failed,
       sum(t.prompt_tokens)::bigint AS prompt_tokens,
       sum(t.completion_tokens)::bigint AS completion_tokens,
       (avg(t.latency_ms) FILTER (WHERE t.status = 'ok'))::double precision AS avg_latency_ms,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY t.latency_ms) FILTER (WHERE t.status = 'ok') AS p95_latency_ms,
       sum(t.cached_prompt_tokens)::bigint AS cached_prompt_tokens
FROM turns t LEFT JOIN dialogs d ON d.id = t.dialog_id
GROUP BY 1, 2, 3, 4;
