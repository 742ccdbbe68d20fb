-- A report joins the investigation that covers the reported copy: one whose clusters hold it,
-- or one a report of that very copy started — by the store's handle on the copy (mailbox,
-- folder, file), never by its Message-ID, which the sender writes. Rows from before have no
-- handle and are joined by nothing.
ALTER TABLE reports ADD COLUMN folder TEXT;
ALTER TABLE reports ADD COLUMN file TEXT;
CREATE INDEX reports_by_copy ON reports (mailbox, file);
-- The reporters counted towards --reports-for-suspicious are those of the investigations
-- covering the copy, and an investigation lists its reporters: both read by investigation.
CREATE INDEX reports_by_investigation ON reports (investigation_id);
