-- Meetings booked with leads (domain.MeetingProposed, MeetingBooked): one
-- row per dialog that was offered a meeting, from the first proposal on.
-- The dialog's number, account, campaign and variant are copied from its
-- dialogs row (they never change), so "booked meetings per campaign" is
-- one table; join dialogs on dialog_id for the rest. The lead's time zone
-- (personal data, sealed in the log) is not kept: times are UTC.
CREATE TABLE meetings (
    dialog_id    uuid PRIMARY KEY,
    dialog_n     bigint      NOT NULL,
    account_id   uuid        NOT NULL,
    campaign     uuid,                        -- NULL: a dialog no campaign opened
    variant      text        NOT NULL DEFAULT '',
    status       text        NOT NULL CHECK (status IN ('proposed', 'booked')),
    proposals    integer     NOT NULL,        -- how many times slots or a link were offered
    proposed_at  timestamptz NOT NULL,        -- the first proposal
    slots        jsonb       NOT NULL DEFAULT '[]', -- the latest proposal's slots: [{"start": ..., "end": ...}] (UTC)
    link         text,                        -- the booking link offered instead of slots
    starts_at    timestamptz,                 -- booked: the meeting's time
    ends_at      timestamptz,
    manager      text,                        -- whose calendar it is on
    calendar_uid text,                        -- the calendar event's UID
    booked_at    timestamptz
);

-- The upcoming meetings (projections.UpcomingMeetings: those not ended
-- yet, then sorted by start): the range of ends_at reads the few still
-- to come, not every meeting of the past.
CREATE INDEX meetings_booked_ends ON meetings (ends_at) WHERE status = 'booked';
CREATE INDEX meetings_campaign ON meetings (campaign) WHERE campaign IS NOT NULL;

-- A message may carry a file (domain.OutboundPlanned.File, e.g. a
-- booking's meeting.ics): its name; '' when none. The file's content is
-- personal and stays in the log.
ALTER TABLE messages ADD COLUMN file_name text NOT NULL DEFAULT '';

-- Read models built before this migration have no meetings yet; the log
-- has them: salesbot projections rebuild fills the table.
