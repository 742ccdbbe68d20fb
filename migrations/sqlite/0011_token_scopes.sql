-- Scoped, expiring, revocable API tokens (issue 14).
--
-- What the token may do within its user's role: comma-separated words of read, ingest,
-- decide, admin. NULL for every token made before scopes existed: those keep the full power
-- of their user's role, as they had it, until revoked (README, "API tokens").
ALTER TABLE api_tokens ADD COLUMN scopes TEXT;
-- After this instant the token is refused (NULL: never expires).
ALTER TABLE api_tokens ADD COLUMN expires_at TEXT;
-- Set once by `airdesk token revoke`; a revoked token is refused from then on, and its row
-- stays so the audit trail and `token list` can still name it.
ALTER TABLE api_tokens ADD COLUMN revoked_at TEXT;
-- last_used_at (0001) is now written, at most once a minute per token.
