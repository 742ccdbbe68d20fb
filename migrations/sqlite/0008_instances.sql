-- Several instances may share one database: a job records which one claimed it (host:pid).
ALTER TABLE jobs ADD COLUMN claimed_by TEXT;
-- Each mailbox is scanned by one instance at a time: the holder of its lease (host:pid),
-- until the lease runs out (a holder that died loses it then).
CREATE TABLE index_leases (
    mailbox TEXT PRIMARY KEY,
    holder  TEXT NOT NULL,
    until   TEXT NOT NULL
);
