-- Approval policy (DESIGN.md rule 8).
--
-- How many different people must approve an action before it runs: 1, or 2 for four eyes.
-- Set from the policy when the action is proposed and raised (never lowered) when the policy
-- is evaluated again at an approval, since its copies are counted again then.
ALTER TABLE actions ADD COLUMN approvals_required INTEGER NOT NULL DEFAULT 1;
-- The rule that set it (a rule of the policy file, builtin:…, or default), for every view.
ALTER TABLE actions ADD COLUMN policy_rule TEXT;
-- Who proposed or ingested the action (a user name; NULL for airdesk's own playbook run on
-- its own): separation of duties keeps that person from approving it.
ALTER TABLE actions ADD COLUMN proposed_by TEXT;

-- Each person's approval of an action that needs more than one. The key is the rule "the
-- same person cannot give the second approval": the database refuses a second row, on any
-- instance. The approval that completes the count moves the action to Approved as a single
-- approval does; a rejection by anyone ends it.
CREATE TABLE action_approvals (
    action_id   TEXT NOT NULL REFERENCES actions (id),
    username    TEXT NOT NULL,
    approved_at TEXT NOT NULL,
    comment     TEXT,
    PRIMARY KEY (action_id, username)
);
