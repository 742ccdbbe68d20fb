-- An incident's page joins each cluster of its investigations to the action answering it, by
-- (investigation, cluster). Indexed on the investigation alone, that join read every action of
-- the cluster's investigation for each cluster (ten times the rows in the actions bench's
-- incident of 500 clusters over 50 investigations). The wider index still serves every lookup
-- by investigation, so the table keeps the same number of indexes to maintain.
DROP INDEX actions_by_investigation;
CREATE INDEX actions_by_investigation ON actions (investigation_id, cluster_id);
