-- Portcullis schema, SQLite flavour. Keep in step with migrations/postgres (same folder names,
-- same tables and columns); src/db/schema.rs describes both.
-- Timestamps are UTC. Secrets are never stored: only lowercase hex SHA-256 digests.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE CHECK (email = lower(email)), -- case-insensitive: stored lowercase
    name          TEXT NOT NULL,
    password_hash TEXT NOT NULL,                 -- Argon2id PHC string
    disabled_at   TIMESTAMP,
    created_at    TIMESTAMP NOT NULL
);

CREATE TABLE teams (
    id         INTEGER PRIMARY KEY,
    slug       TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

-- One row per membership. A removed member's row is deleted; re-adding creates a new id, so
-- anything bound to the old membership (grants) can never come back to life.
CREATE TABLE members (
    id         INTEGER PRIMARY KEY,
    team_id    BIGINT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    user_id    BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role       TEXT NOT NULL CHECK (role IN ('admin', 'developer', 'custom')),
    created_at TIMESTAMP NOT NULL,
    UNIQUE (team_id, user_id)
);
CREATE INDEX members_user_id ON members(user_id);

CREATE TABLE custom_roles (
    id         INTEGER PRIMARY KEY,
    team_id    BIGINT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    statements TEXT NOT NULL,                    -- JSON array of statements (SPEC §2)
    created_at TIMESTAMP NOT NULL,
    UNIQUE (team_id, name)
);

CREATE TABLE member_custom_roles (
    member_id BIGINT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    role_id   BIGINT NOT NULL REFERENCES custom_roles(id) ON DELETE CASCADE,
    PRIMARY KEY (member_id, role_id)
);

CREATE TABLE projects (
    id         INTEGER PRIMARY KEY,
    team_id    BIGINT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    slug       TEXT NOT NULL,
    name       TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (team_id, slug)
);

CREATE TABLE project_admins (
    member_id  BIGINT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (member_id, project_id)
);
CREATE INDEX project_admins_project_id ON project_admins(project_id);

-- Ed25519 keys that sign admin keys; the public halves are served at /.well-known/jwks.json.
CREATE TABLE signing_keys (
    id          INTEGER PRIMARY KEY,
    kid         TEXT NOT NULL UNIQUE,
    algorithm   TEXT NOT NULL,
    private_key TEXT NOT NULL,                   -- base64 PKCS#8 DER
    public_key  TEXT NOT NULL,                   -- base64url raw public key
    created_at  TIMESTAMP NOT NULL,
    retired_at  TIMESTAMP
);

CREATE TABLE deployments (
    id              INTEGER PRIMARY KEY,
    project_id      BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    name            TEXT NOT NULL UNIQUE,
    deployment_type TEXT NOT NULL CHECK (deployment_type IN ('prod', 'dev', 'preview', 'custom')),
    admin_key_hash  TEXT NOT NULL UNIQUE,
    signing_key_id  BIGINT NOT NULL REFERENCES signing_keys(id),
    created_at      TIMESTAMP NOT NULL
);
CREATE INDEX deployments_project_id ON deployments(project_id);

CREATE TABLE oauth_apps (
    id                 INTEGER PRIMARY KEY,
    team_id            BIGINT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    client_id          TEXT NOT NULL UNIQUE,
    name               TEXT NOT NULL,
    client_type        TEXT NOT NULL CHECK (client_type IN ('confidential', 'public')),
    secret_hash        TEXT,                     -- NULL exactly for public clients
    token_ttl_seconds  BIGINT,                   -- NULL: non-expiring tokens, no refresh token
    verified_at        TIMESTAMP,
    created_at         TIMESTAMP NOT NULL,
    CHECK ((client_type = 'public') = (secret_hash IS NULL))
);
CREATE INDEX oauth_apps_team_id ON oauth_apps(team_id);

CREATE TABLE oauth_app_redirect_uris (
    app_id   BIGINT NOT NULL REFERENCES oauth_apps(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    uri      TEXT NOT NULL,
    PRIMARY KEY (app_id, position),
    UNIQUE (app_id, uri)
);

CREATE TABLE grants (
    id                      INTEGER PRIMARY KEY,
    app_id                  BIGINT NOT NULL REFERENCES oauth_apps(id) ON DELETE CASCADE,
    user_id                 BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    team_id                 BIGINT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    project_id              BIGINT REFERENCES projects(id) ON DELETE CASCADE,
    member_id               BIGINT REFERENCES members(id) ON DELETE SET NULL,
    scope                   TEXT NOT NULL CHECK (scope IN ('project', 'team')),
    access_token_hash       TEXT NOT NULL UNIQUE,
    access_token_issued_at  TIMESTAMP NOT NULL,
    access_token_expires_at TIMESTAMP,
    created_at              TIMESTAMP NOT NULL,
    last_used_at            TIMESTAMP,
    revoked_at              TIMESTAMP,
    revoked_reason          TEXT,
    CHECK ((scope = 'project') = (project_id IS NOT NULL))
);
CREATE INDEX grants_user_id ON grants(user_id);
CREATE INDEX grants_team_id ON grants(team_id);
CREATE INDEX grants_app_id ON grants(app_id);
CREATE INDEX grants_member_id ON grants(member_id);

CREATE TABLE refresh_tokens (
    id         INTEGER PRIMARY KEY,
    grant_id   BIGINT NOT NULL REFERENCES grants(id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    rotated_at TIMESTAMP                         -- set when exchanged; a second use is reuse
);
CREATE INDEX refresh_tokens_grant_id ON refresh_tokens(grant_id);

CREATE TABLE authorization_codes (
    id             INTEGER PRIMARY KEY,
    code_hash      TEXT NOT NULL UNIQUE,
    app_id         BIGINT NOT NULL REFERENCES oauth_apps(id) ON DELETE CASCADE,
    user_id        BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    team_id        BIGINT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    project_id     BIGINT REFERENCES projects(id) ON DELETE CASCADE,
    scope          TEXT NOT NULL CHECK (scope IN ('project', 'team')),
    redirect_uri   TEXT NOT NULL,
    code_challenge TEXT,                         -- S256 challenge, NULL when none was sent
    created_at     TIMESTAMP NOT NULL,
    expires_at     TIMESTAMP NOT NULL,
    redeemed_at    TIMESTAMP,
    replayed_at    TIMESTAMP,
    grant_id       BIGINT REFERENCES grants(id) ON DELETE SET NULL
);
CREATE INDEX authorization_codes_expires_at ON authorization_codes(expires_at);

CREATE TABLE deploy_keys (
    id                 INTEGER PRIMARY KEY,
    token_hash         TEXT NOT NULL UNIQUE,
    token_prefix       TEXT NOT NULL,            -- e.g. "prod:happy-otter-123", as issued
    name               TEXT NOT NULL,
    project_id         BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    deployment_id      BIGINT REFERENCES deployments(id) ON DELETE CASCADE, -- NULL: project preview key
    allowed_actions    TEXT NOT NULL,            -- space-separated action names
    custom_role_id     BIGINT REFERENCES custom_roles(id) ON DELETE RESTRICT,
    grant_id           BIGINT REFERENCES grants(id) ON DELETE CASCADE,
    created_by_user_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
    expires_at         TIMESTAMP,
    created_at         TIMESTAMP NOT NULL,
    last_used_at       TIMESTAMP,
    revoked_at         TIMESTAMP
);
CREATE INDEX deploy_keys_project_id ON deploy_keys(project_id);
CREATE INDEX deploy_keys_grant_id ON deploy_keys(grant_id);

CREATE TABLE backend_credentials (
    id          INTEGER PRIMARY KEY,
    client_id   TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    revoked_at  TIMESTAMP
);

CREATE TABLE sessions (
    id           INTEGER PRIMARY KEY,
    session_hash TEXT NOT NULL UNIQUE,
    user_id      BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at   TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL
);
CREATE INDEX sessions_user_id ON sessions(user_id);

CREATE TABLE login_failures (
    id        INTEGER PRIMARY KEY,
    email     TEXT NOT NULL,
    client_ip TEXT NOT NULL,
    failed_at TIMESTAMP NOT NULL
);
CREATE INDEX login_failures_email ON login_failures(email, failed_at);
CREATE INDEX login_failures_client_ip ON login_failures(client_ip, failed_at);

-- Audit events outlive what they describe: no foreign keys.
CREATE TABLE audit_events (
    id          INTEGER PRIMARY KEY,
    created_at  TIMESTAMP NOT NULL,
    actor       TEXT NOT NULL,                   -- "cli", "user:<id>", "app:<client_id>", ...
    action      TEXT NOT NULL,                   -- e.g. "member.remove", "grant.revoke"
    target_type TEXT NOT NULL,
    target_id   TEXT NOT NULL,
    team_id     BIGINT,
    client_ip   TEXT,
    details     TEXT NOT NULL                    -- JSON object
);
CREATE INDEX audit_events_team_id ON audit_events(team_id, created_at);
