-- The message index: every delivered copy in every mailbox of the mail store, with what an
-- investigation clusters by. `file` is the copy's stable name in its folder (a Maildir file
-- name without its flags), so a flag change is not a new message.
CREATE TABLE messages (
    id                  INTEGER PRIMARY KEY,
    mailbox             TEXT NOT NULL,
    folder              TEXT NOT NULL,
    file                TEXT NOT NULL,
    location            TEXT NOT NULL,
    internet_message_id TEXT NOT NULL,
    sender              TEXT NOT NULL,
    sender_domain       TEXT NOT NULL,
    sender_name         TEXT NOT NULL,
    reply_to            TEXT,
    recipients          TEXT NOT NULL,
    subject             TEXT NOT NULL,
    subject_fingerprint TEXT NOT NULL,
    received_at         TEXT NOT NULL,
    spf                 TEXT,
    dkim                TEXT,
    dmarc               TEXT,
    size                INTEGER NOT NULL,
    body_read           INTEGER NOT NULL,
    UNIQUE (mailbox, folder, file)
);
CREATE INDEX messages_by_message_id ON messages (internet_message_id);
CREATE INDEX messages_by_sender ON messages (sender, received_at);
CREATE INDEX messages_by_sender_domain ON messages (sender_domain, received_at);
CREATE INDEX messages_by_fingerprint ON messages (subject_fingerprint, received_at);

CREATE TABLE message_urls (
    message INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    url     TEXT NOT NULL,
    domain  TEXT NOT NULL,
    PRIMARY KEY (url, message)
) WITHOUT ROWID;
CREATE INDEX message_urls_by_domain ON message_urls (domain);
CREATE INDEX message_urls_by_message ON message_urls (message);

CREATE TABLE message_attachments (
    message INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    sha256  TEXT NOT NULL,
    name    TEXT NOT NULL,
    PRIMARY KEY (sha256, message, name)
) WITHOUT ROWID;
CREATE INDEX message_attachments_by_message ON message_attachments (message);

-- What the last scan saw of each folder: a folder whose new/ and cur/ have not changed since
-- is not listed again.
CREATE TABLE index_folders (
    mailbox   TEXT NOT NULL,
    folder    TEXT NOT NULL,
    new_mtime INTEGER NOT NULL,
    cur_mtime INTEGER NOT NULL,
    PRIMARY KEY (mailbox, folder)
) WITHOUT ROWID;

-- Threat intelligence: what is known bad, until when.
CREATE TABLE indicators (
    id         TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    value      TEXT NOT NULL,
    verdict    TEXT NOT NULL,
    expires_at TEXT,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    UNIQUE (kind, value)
);

-- User reports of messages as phish: several users reporting one campaign makes it suspicious.
CREATE TABLE reports (
    id                  TEXT PRIMARY KEY,
    mailbox             TEXT NOT NULL,
    internet_message_id TEXT NOT NULL,
    reported_by         TEXT NOT NULL,
    reported_at         TEXT NOT NULL,
    investigation_id    TEXT,
    UNIQUE (mailbox, internet_message_id)
);
CREATE INDEX reports_by_message ON reports (internet_message_id);
