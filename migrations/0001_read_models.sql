-- Read models of contacts, dialogs and messages, and the projection
-- checkpoint. Built from the event log; safe to drop and rebuild.

CREATE TABLE projection_checkpoint (
    name     text PRIMARY KEY,
    position bigint NOT NULL
);

CREATE TABLE contacts (
    id         uuid PRIMARY KEY,
    source     text NOT NULL,
    basis      text NOT NULL,
    username   text NOT NULL DEFAULT '',
    name       text NOT NULL DEFAULT '',
    phone      text NOT NULL DEFAULT '',
    opted_out  boolean NOT NULL DEFAULT false,
    forgotten  boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL
);

CREATE TABLE dialogs (
    id              uuid PRIMARY KEY,
    n               bigint NOT NULL UNIQUE,
    contact_id      uuid NOT NULL,
    account_id      uuid NOT NULL,
    variant         text NOT NULL DEFAULT '',
    stage           text NOT NULL,
    status          text NOT NULL,
    outcome         text NOT NULL DEFAULT '',
    score           integer,
    taken_over      boolean NOT NULL DEFAULT false,
    inbound         integer NOT NULL DEFAULT 0,
    outbound        integer NOT NULL DEFAULT 0,
    last_message_at timestamptz,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);
CREATE INDEX dialogs_status_stage ON dialogs (status, stage);
CREATE INDEX dialogs_contact ON dialogs (contact_id);

CREATE TABLE messages (
    dialog_id   uuid NOT NULL,
    position    bigint NOT NULL,
    direction   text NOT NULL,   -- in, out
    author      text NOT NULL,   -- lead, ai, manager
    text        text NOT NULL,
    at          timestamptz NOT NULL,
    telegram_id bigint NOT NULL DEFAULT 0,
    random_id   bigint NOT NULL DEFAULT 0,
    status      text NOT NULL,   -- received, planned, sent, failed
    PRIMARY KEY (dialog_id, position)
);
CREATE INDEX messages_random ON messages (dialog_id, random_id) WHERE direction = 'out';
