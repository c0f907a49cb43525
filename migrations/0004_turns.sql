-- The dialog engine's turns (TurnTaken, TurnFailed): which engine, model,
-- scenario and variant answered, what it cost and how long it took, what
-- the model flagged and what the guards changed; and a daily usage view.

CREATE TABLE turns (
    dialog_id         uuid NOT NULL,
    position          bigint NOT NULL,          -- of the event in the log
    at                timestamptz NOT NULL,
    status            text NOT NULL,            -- ok (TurnTaken), failed (TurnFailed)
    kind              text NOT NULL DEFAULT '', -- opening, reply, follow-up; '' when failed
    engine            text NOT NULL,            -- offline, llm
    model             text NOT NULL DEFAULT '',
    scenario          text NOT NULL DEFAULT '',
    scenario_version  text NOT NULL DEFAULT '',
    variant           text NOT NULL DEFAULT '',
    variant_version   text NOT NULL DEFAULT '',
    language          text NOT NULL DEFAULT '',
    prompt_tokens     integer NOT NULL DEFAULT 0,
    completion_tokens integer NOT NULL DEFAULT 0,
    latency_ms        bigint NOT NULL DEFAULT 0,
    attempts          integer NOT NULL DEFAULT 0,
    score             integer,                  -- the interest score the turn gave, if any
    flags             text[] NOT NULL DEFAULT '{}',
    guards            text[] NOT NULL DEFAULT '{}',
    reason            text NOT NULL DEFAULT '', -- failed: why
    retry_at          timestamptz,              -- failed: when the turn is tried again
    PRIMARY KEY (dialog_id, position)
);
-- A dialog's turns are read through the primary key (dialog_id leads it),
-- so dialog_id needs no index of its own; analysts filter by time.
CREATE INDEX turns_at ON turns (at);

-- Turns, tokens and latency per UTC day, engine, model and variant. A failed
-- turn carries no variant in its event: it counts under its dialog's.
-- Latency is of the answered turns (a failed turn's is its retries').
CREATE VIEW llm_usage_daily AS
SELECT (t.at AT TIME ZONE 'UTC')::date AS day,
       t.engine,
       t.model,
       CASE WHEN t.variant <> '' THEN t.variant ELSE COALESCE(d.variant, '') END AS variant,
       count(*) AS turns,
       count(*) FILTER (WHERE t.status = 'failed') AS failed,
       sum(t.prompt_tokens)::bigint AS prompt_tokens,
       sum(t.completion_tokens)::bigint AS completion_tokens,
       (avg(t.latency_ms) FILTER (WHERE t.status = 'ok'))::double precision AS avg_latency_ms,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY t.latency_ms) FILTER (WHERE t.status = 'ok') AS p95_latency_ms
FROM turns t LEFT JOIN dialogs d ON d.id = t.dialog_id
GROUP BY 1, 2, 3, 4;
