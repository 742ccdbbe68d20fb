-- Every reporter of a copy is kept (issue 15): a second person reporting the same message
-- counts towards --reports-for-suspicious, and a report of a copy already under
-- investigation joins that investigation. Before, the first reporter's row was the only one.
-- SQLite cannot change a table's constraints in place: the table is rebuilt.
CREATE TABLE reports_by_reporter (
    id                  TEXT PRIMARY KEY,
    mailbox             TEXT NOT NULL,
    internet_message_id TEXT NOT NULL,
    reported_by         TEXT NOT NULL,
    reported_at         TEXT NOT NULL,
    investigation_id    TEXT,
    UNIQUE (mailbox, internet_message_id, reported_by)
);
INSERT INTO reports_by_reporter (id, mailbox, internet_message_id, reported_by, reported_at, investigation_id)
SELECT id, mailbox, internet_message_id, reported_by, reported_at, investigation_id FROM reports;
DROP TABLE reports;
ALTER TABLE reports_by_reporter RENAME TO reports;
CREATE INDEX reports_by_message ON reports (internet_message_id);
