-- The Pending queue (the action center's busiest page and every approver's first request)
-- reads pending actions oldest first. Pending is a small, moving part of a table that keeps
-- every action ever proposed; an index of just those rows stays small, and a planner whose
-- statistics are stale (taken when most actions were pending) cannot pick the all-actions
-- index by creation time and filter its way through the decided ones.
CREATE INDEX actions_pending ON actions (created_at, id) WHERE status = 'pending';
