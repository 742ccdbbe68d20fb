-- Issue 18: users from an OpenID provider, sign-ins in progress, and sessions one can list
-- and revoke.

-- A user created at their first sign-in through the identity provider is known by the
-- provider's issuer and subject, never by name alone: a provider account named like a local
-- one does not become it. Such users have no password (password_hash is empty and password
-- sign-in never looks at them).
ALTER TABLE users ADD COLUMN oidc_issuer TEXT;
ALTER TABLE users ADD COLUMN oidc_subject TEXT;
CREATE UNIQUE INDEX users_oidc_identity ON users (oidc_issuer, oidc_subject)
    WHERE oidc_subject IS NOT NULL;

-- A sign-in sent to the identity provider and not yet back: found by the SHA-256 of a random
-- key in a cookie of the browser that started it (so a callback carried to another browser
-- fails), used once, and worthless after ten minutes.
CREATE TABLE oidc_pending (
    browser_key_sha256 TEXT PRIMARY KEY,
    state              TEXT NOT NULL,
    nonce              TEXT NOT NULL,
    pkce_verifier      TEXT NOT NULL,
    next               TEXT NOT NULL,
    created_at         TEXT NOT NULL
);

-- Signed-in browser sessions: the session store holds only this row's id; deleting the row
-- signs that browser out at its next request.
CREATE TABLE user_sessions (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id),
    -- password | oidc
    method       TEXT NOT NULL,
    address      TEXT NOT NULL,
    user_agent   TEXT NOT NULL,
    -- The provider's ID token, for RP-initiated sign-out (oidc sessions only).
    id_token     TEXT,
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL
);
CREATE INDEX user_sessions_user ON user_sessions (user_id);
