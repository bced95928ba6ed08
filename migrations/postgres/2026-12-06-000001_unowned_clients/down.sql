DELETE FROM oauth_apps WHERE team_id IS NULL;
ALTER TABLE oauth_apps
    DROP CONSTRAINT oauth_apps_owned_exactly_by_team,
    DROP COLUMN logo_uri,
    DROP COLUMN client_uri,
    DROP COLUMN metadata_expires_at,
    DROP COLUMN origin;
ALTER TABLE oauth_apps ALTER COLUMN team_id SET NOT NULL;
