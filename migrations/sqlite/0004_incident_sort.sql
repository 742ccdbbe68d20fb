-- The incidents queue sorts by severity, first activity or pending actions as well as by
-- latest activity; each sort pages by keyset over its own index, so page 100 costs what
-- page 1 does. Severity sorts by rank, not by word.
ALTER TABLE incidents ADD COLUMN severity_rank INTEGER GENERATED ALWAYS AS (
    CASE severity WHEN 'high' THEN 3 WHEN 'medium' THEN 2 WHEN 'low' THEN 1 ELSE 0 END
) VIRTUAL;
CREATE INDEX incidents_by_severity ON incidents (severity_rank, id);
CREATE INDEX incidents_by_first_activity ON incidents (first_activity_at, id);
CREATE INDEX incidents_by_pending ON incidents (pending_action_count, id);
