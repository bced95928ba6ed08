DROP TRIGGER grants_changed;
CREATE TRIGGER grants_changed AFTER UPDATE OF
    id, app_id, user_id, team_id, project_id, member_id, scope, access_token_hash,
    access_token_issued_at, access_token_expires_at, created_at, revoked_at, revoked_reason
ON grants
BEGIN
    INSERT INTO credential_changes (token_hash) VALUES (OLD.access_token_hash);
    INSERT INTO credential_changes (token_hash) SELECT token_hash FROM deploy_keys WHERE grant_id = OLD.id;
END;
ALTER TABLE grants DROP COLUMN audience;
ALTER TABLE grants DROP COLUMN resources;
ALTER TABLE device_codes DROP COLUMN resources;
ALTER TABLE authorization_codes DROP COLUMN resources;
DROP TABLE resource_servers;
