-- Run with foreign keys off (the diesel CLI's default on SQLite): with them on, dropping the
-- rebuilt table would cascade to every app's grants, codes and redirect URIs.
-- The unowned apps go, with what hangs off them (spelled out: foreign keys may be off).
DELETE FROM refresh_tokens WHERE grant_id IN (SELECT g.id FROM grants g JOIN oauth_apps a ON a.id = g.app_id WHERE a.team_id IS NULL);
DELETE FROM deploy_keys WHERE grant_id IN (SELECT g.id FROM grants g JOIN oauth_apps a ON a.id = g.app_id WHERE a.team_id IS NULL);
DELETE FROM authorization_codes WHERE app_id IN (SELECT id FROM oauth_apps WHERE team_id IS NULL);
DELETE FROM device_codes WHERE app_id IN (SELECT id FROM oauth_apps WHERE team_id IS NULL);
DELETE FROM grants WHERE app_id IN (SELECT id FROM oauth_apps WHERE team_id IS NULL);
DELETE FROM oauth_app_redirect_uris WHERE app_id IN (SELECT id FROM oauth_apps WHERE team_id IS NULL);
DELETE FROM oauth_apps WHERE team_id IS NULL;
CREATE TABLE oauth_apps_old (
    id                 INTEGER PRIMARY KEY,
    team_id            BIGINT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    client_id          TEXT NOT NULL UNIQUE,
    name               TEXT NOT NULL,
    client_type        TEXT NOT NULL CHECK (client_type IN ('confidential', 'public')),
    secret_hash        TEXT,
    token_ttl_seconds  BIGINT,
    verified_at        TIMESTAMP,
    created_at         TIMESTAMP NOT NULL,
    CHECK ((client_type = 'public') = (secret_hash IS NULL))
);
INSERT INTO oauth_apps_old SELECT id, team_id, client_id, name, client_type, secret_hash, token_ttl_seconds, verified_at, created_at FROM oauth_apps;
DROP TABLE oauth_apps;
ALTER TABLE oauth_apps_old RENAME TO oauth_apps;
CREATE INDEX oauth_apps_team_id ON oauth_apps(team_id);
CREATE TRIGGER oauth_apps_changed AFTER UPDATE ON oauth_apps BEGIN INSERT INTO credential_changes (token_hash) VALUES (NULL); END;
CREATE TRIGGER oauth_apps_deleted AFTER DELETE ON oauth_apps BEGIN INSERT INTO credential_changes (token_hash) VALUES (NULL); END;
