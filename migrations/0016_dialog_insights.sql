-- The insight of each dialog that closed, was handed off or entered a
-- scenario's nurture exit (domain.InsightsRecorded): one row per dialog, its latest insight (a
-- dialog handed off and then closed has the close's). The dialog's number,
-- account, campaign and variant are copied from its dialogs row. The
-- summary and the loss reason are written from the lead's words: personal
-- data, '[forgotten]' after an erasure. objections are ids of the
-- scenario's objections list.
CREATE TABLE dialog_insights (
    dialog_id          uuid PRIMARY KEY,
    dialog_n           bigint      NOT NULL,
    account_id         uuid        NOT NULL,
    campaign           uuid,                          -- NULL: a dialog no campaign opened
    variant            text        NOT NULL DEFAULT '',
    ended              text        NOT NULL,          -- how it ended: handoff, nurture, or the close's outcome (lost, won, opted-out, stopped, unreachable)
    summary            text        NOT NULL,
    loss_reason        text        NOT NULL DEFAULT '', -- '' unless it closed without a win
    objections         text[]      NOT NULL DEFAULT '{}',
    written_by         text        NOT NULL CHECK (written_by IN ('llm', 'rules')),
    insights           integer     NOT NULL DEFAULT 1, -- recorded so far: one per close or handoff
    prompt_tokens      bigint      NOT NULL DEFAULT 0, -- the LLM's tokens for the insights, all of them
    completion_tokens  bigint      NOT NULL DEFAULT 0,
    recorded_at        timestamptz NOT NULL           -- the latest insight
);

CREATE INDEX dialog_insights_campaign ON dialog_insights (campaign, variant);
CREATE INDEX dialog_insights_objections ON dialog_insights USING gin (objections);

-- Top objections by variant: for each campaign (NULL: dialogs no campaign
-- opened) and variant, each objection with the dialogs that met it and
-- their share of the dialogs with an insight there.
CREATE VIEW campaign_objections AS
WITH totals AS (
    SELECT campaign, variant, count(*) AS with_insight
    FROM dialog_insights GROUP BY campaign, variant
)
SELECT i.campaign, i.variant, o.objection, count(*) AS dialogs, t.with_insight,
       round(count(*)::numeric / t.with_insight, 4) AS share
FROM dialog_insights i
CROSS JOIN LATERAL unnest(i.objections) AS o(objection)
JOIN totals t ON t.campaign IS NOT DISTINCT FROM i.campaign AND t.variant = i.variant
GROUP BY i.campaign, i.variant, o.objection, t.with_insight;

-- Read models built before this migration have no insights yet; the log
-- has them: salesbot projections rebuild fills the table.
