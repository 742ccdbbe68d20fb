-- Issue 18: users from an OpenID provider, sign-ins in progress, and sessions one can list
-- and revoke.

-- A user created at their first sign-in through the identity provider is known by the
-- provider's issuer and subject, never by name alone: a provider account named like a local
-- one does not become it. Such users have no password (password_hash is empty and password
-- sign-in never looks at them).
ALTER TABLE users ADD COLUMN oidc_issuer text;
ALTER TABLE users ADD COLUMN oidc_subject text;
CREATE UNIQUE INDEX users_oidc_identity ON users (oidc_issuer, oidc_subject)
    WHERE oidc_subject IS NOT NULL;

-- A sign-in sent to the identity provider and not yet back: found by the SHA-256 of a random
-- key in a cookie of the browser that started it (so a callback carried to another browser
-- fails), used once, and worthless after ten minutes.
CREATE TABLE oidc_pending (
    browser_key_sha256 text PRIMARY KEY,
    state              text NOT NULL,
    nonce              text NOT NULL,
    pkce_verifier      text NOT NULL,
    next               text NOT NULL,
    created_at         timestamptz NOT NULL
);

-- Signed-in browser sessions: the session store holds only this row's id; deleting the row
-- signs that browser out at its next request.
CREATE TABLE user_sessions (
    id           text PRIMARY KEY,
    user_id      text NOT NULL REFERENCES users (id),
    -- password | oidc
    method       text NOT NULL,
    address      text NOT NULL,
    user_agent   text NOT NULL,
    -- The provider's ID token, for RP-initiated sign-out (oidc sessions only).
    id_token     text,
    created_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL
);
CREATE INDEX user_sessions_user ON user_sessions (user_id);
