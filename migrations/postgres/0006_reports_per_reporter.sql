-- Every reporter of a copy is kept (issue 15): a second person reporting the same message
-- counts towards --reports-for-suspicious, and a report of a copy already under
-- investigation joins that investigation. Before, the first reporter's row was the only one.
ALTER TABLE reports DROP CONSTRAINT reports_mailbox_internet_message_id_key;
ALTER TABLE reports ADD CONSTRAINT reports_once_per_reporter
    UNIQUE (mailbox, internet_message_id, reported_by);
