-- An investigation's email clusters are shown in the order it found them. That order used to
-- be SQLite's rowid, which no other database has; an explicit column says it anywhere. Rows
-- written before this migration keep their order: their position is their old rowid.
ALTER TABLE email_clusters ADD COLUMN position INTEGER NOT NULL DEFAULT 0;
UPDATE email_clusters SET position = rowid;
