-- OAuth apps owned by no team (SPEC §7): clients registered dynamically (RFC 7591) and
-- clients whose client_id is the URL of their metadata document
-- (draft-ietf-oauth-client-id-metadata-document). `origin` says which; exactly the team's
-- own apps have a team.
ALTER TABLE oauth_apps ALTER COLUMN team_id DROP NOT NULL;
ALTER TABLE oauth_apps
    ADD COLUMN origin TEXT NOT NULL DEFAULT 'team' CHECK (origin IN ('team', 'dynamic', 'metadata_document')),
    -- When a metadata document's row must be fetched again (NULL for every other origin).
    ADD COLUMN metadata_expires_at TIMESTAMP,
    ADD COLUMN client_uri TEXT,
    ADD COLUMN logo_uri TEXT,
    ADD CONSTRAINT oauth_apps_owned_exactly_by_team CHECK ((origin = 'team') = (team_id IS NOT NULL));
