-- OAuth apps owned by no team (SPEC §7): clients registered dynamically (RFC 7591) and
-- clients whose client_id is the URL of their metadata document
-- (draft-ietf-oauth-client-id-metadata-document). `origin` says which; exactly the team's
-- own apps have a team.
--
-- SQLite cannot drop a NOT NULL constraint: the table is rebuilt as
-- https://sqlite.org/lang_altertable.html#otheralter describes. That procedure needs foreign
-- keys off, which a PRAGMA cannot do inside a transaction; the migration runner
-- (src/db/migrations.rs) turns them off around the whole run and checks
-- `PRAGMA foreign_key_check` before committing.
CREATE TABLE oauth_apps_new (
    id                   INTEGER PRIMARY KEY,
    team_id              BIGINT REFERENCES teams(id) ON DELETE CASCADE,
    client_id            TEXT NOT NULL UNIQUE,
    name                 TEXT NOT NULL,
    client_type          TEXT NOT NULL CHECK (client_type IN ('confidential', 'public')),
    secret_hash          TEXT,                     -- NULL exactly for public clients
    token_ttl_seconds    BIGINT,                   -- NULL: non-expiring tokens, no refresh token
    verified_at          TIMESTAMP,
    created_at           TIMESTAMP NOT NULL,
    origin               TEXT NOT NULL DEFAULT 'team' CHECK (origin IN ('team', 'dynamic', 'metadata_document')),
    metadata_expires_at  TIMESTAMP,                -- when a metadata document must be fetched again
    client_uri           TEXT,
    logo_uri             TEXT,
    CHECK ((client_type = 'public') = (secret_hash IS NULL)),
    CHECK ((origin = 'team') = (team_id IS NOT NULL))
);
INSERT INTO oauth_apps_new (id, team_id, client_id, name, client_type, secret_hash, token_ttl_seconds, verified_at, created_at)
    SELECT id, team_id, client_id, name, client_type, secret_hash, token_ttl_seconds, verified_at, created_at FROM oauth_apps;
DROP TABLE oauth_apps;
ALTER TABLE oauth_apps_new RENAME TO oauth_apps;
CREATE INDEX oauth_apps_team_id ON oauth_apps(team_id);
-- As 2026-12-01-000001_credential_changes created them (dropped with the old table).
CREATE TRIGGER oauth_apps_changed AFTER UPDATE ON oauth_apps BEGIN INSERT INTO credential_changes (token_hash) VALUES (NULL); END;
CREATE TRIGGER oauth_apps_deleted AFTER DELETE ON oauth_apps BEGIN INSERT INTO credential_changes (token_hash) VALUES (NULL); END;
