-- A reported copy's investigation is started by one instance at a time: the holder of the
-- copy's lease (host:pid/id), until the lease runs out. Reports of the same copy on other
-- instances wait for it and join what it started.
CREATE TABLE report_leases (
    copy   text PRIMARY KEY,
    holder text NOT NULL,
    until  timestamptz NOT NULL
);
