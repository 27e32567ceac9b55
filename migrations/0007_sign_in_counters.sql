-- The sign-in throttle (issue 10, M2/M3): one counter row per key, counted in the statement
-- that reads it and before a password is verified, so parallel attempts are all counted.
-- Keys: an account seen from one client address, an account from everywhere, a client
-- address. Unknown login names are keyed by a hash, never stored as typed.
DROP TABLE login_failures;
DROP TABLE login_lockouts;

CREATE TABLE sign_in_counters (
    counter_key     TEXT PRIMARY KEY,
    window_start    BIGINT NOT NULL,
    attempts        BIGINT NOT NULL,
    locked_until    BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX sign_in_counters_window_idx ON sign_in_counters (window_start);

