-- Failed sign-ins, for throttling (issue 15). One row per name and client address, and one
-- per name from every address (address ''). The name is kept only as the SHA-256 of its
-- lower-cased form: a guess at an account that does not exist leaves no readable name.
-- A success deletes its name-and-address row; `airdesk user unlock` deletes a name's rows.
CREATE TABLE signin_failures (
    subject        text NOT NULL,
    address        text NOT NULL,
    failures       bigint NOT NULL,
    last_failed_at timestamptz NOT NULL,
    -- While this is in the future every sign-in of the name (from this address, or from
    -- any for address '') is refused with 429 without looking at the password.
    locked_until   timestamptz,
    PRIMARY KEY (subject, address)
);
