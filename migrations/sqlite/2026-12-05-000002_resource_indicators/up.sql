-- RFC 8707 resource indicators (SPEC §7). A resource server must be registered before a token
-- can be bound to it; one registered for a deployment serves only project tokens of that
-- deployment's project, and goes with the deployment.
CREATE TABLE resource_servers (
    id            INTEGER PRIMARY KEY,
    uri           TEXT NOT NULL UNIQUE,
    deployment_id BIGINT REFERENCES deployments(id) ON DELETE CASCADE,
    created_at    TIMESTAMP NOT NULL
);

-- What a request asked to be bound to, carried from the authorization (or device) request to the
-- grant: the resource URIs, space-separated (a URI has no space), NULL when none was named.
ALTER TABLE authorization_codes ADD COLUMN resources TEXT;
ALTER TABLE device_codes ADD COLUMN resources TEXT;
-- A grant keeps what was approved (`resources`) and what its live access token is for
-- (`audience`: all of them, or the subset the last token request narrowed it to).
ALTER TABLE grants ADD COLUMN resources TEXT;
ALTER TABLE grants ADD COLUMN audience TEXT;

-- The audience is part of every verification answer: log its changes like the other columns.
DROP TRIGGER grants_changed;
CREATE TRIGGER grants_changed AFTER UPDATE OF
    id, app_id, user_id, team_id, project_id, member_id, scope, access_token_hash,
    access_token_issued_at, access_token_expires_at, created_at, revoked_at, revoked_reason,
    resources, audience
ON grants
BEGIN
    INSERT INTO credential_changes (token_hash) VALUES (OLD.access_token_hash);
    INSERT INTO credential_changes (token_hash) SELECT token_hash FROM deploy_keys WHERE grant_id = OLD.id;
END;
