-- Secrets the server keeps for itself and every instance on this database shares (so that a
-- page one instance served can be checked by another). Each row is created once, by whichever
-- instance starts first (INSERT ... ON CONFLICT DO NOTHING, then read back), and never leaves
-- the server: 'consent_ticket' keys the MAC that binds a consent decision to the page shown.
CREATE TABLE server_secrets (
    name       TEXT PRIMARY KEY,
    secret     TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
