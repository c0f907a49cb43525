-- What a lead's message carried besides text (domain.InboundReceived.Media):
-- the kind (voice, audio, photo, video, video_note, document, sticker,
-- other; '' for a text), and whether its text holds a voice note's or
-- audio's transcript (then text is the transcript, after any caption).
-- The transcript is personal like any text: an erasure blanks it with
-- the text.
ALTER TABLE messages
    ADD COLUMN media       text NOT NULL DEFAULT '',
    ADD COLUMN transcribed boolean NOT NULL DEFAULT false;

-- Read models built before this migration show media messages as their
-- caption; salesbot projections rebuild fills the kinds in from the log.
