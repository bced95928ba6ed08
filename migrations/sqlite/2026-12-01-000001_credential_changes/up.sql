-- The change log behind each server's verification cache (src/ops/verify/cache.rs).
--
-- Every committed write that can end or alter a live credential appends a row here, from a
-- trigger, so that no writer — a server, the operator CLI, another instance on the same file,
-- a hand-written UPDATE — can forget to. SQLite has one writer at a time, so ids grow in commit
-- order: a server that has applied every row up to id N knows its cached answers are still
-- exact as long as the newest id is N, and which ones to drop when it is not.
--
-- token_hash names one credential affected (a grant's access token, a deploy key): a change to a
-- grant, a deploy key, a user, a membership or what a membership holds names each credential it
-- touches. NULL means "anything may have changed": teams, projects, deployments, apps and custom
-- role definitions are rare writes that can touch any number of credentials at once.
--
-- Writes that cannot change an answer add nothing: issuing a credential (INSERT into grants or
-- deploy_keys, or of a user, team, member, project, app or deployment no credential refers to
-- yet) and last-used bookkeeping. An UPDATE that sets a column to its own value still counts
-- as a change, so hot paths must not write one (members::lock does not).
CREATE TABLE credential_changes (
    id         INTEGER PRIMARY KEY AUTOINCREMENT, -- AUTOINCREMENT: ids are never reused after pruning
    token_hash TEXT
);

-- The newest 10,000 changes are kept; a cache further behind than that forgets everything.
CREATE TRIGGER credential_changes_prune AFTER INSERT ON credential_changes
BEGIN
    DELETE FROM credential_changes WHERE id <= NEW.id - 10000;
END;

-- Grants: every column but last_used_at. A grant's deploy keys live and die with it.
CREATE TRIGGER grants_changed AFTER UPDATE OF
    id, app_id, user_id, team_id, project_id, member_id, scope, access_token_hash,
    access_token_issued_at, access_token_expires_at, created_at, revoked_at, revoked_reason
ON grants
BEGIN
    INSERT INTO credential_changes (token_hash) VALUES (OLD.access_token_hash);
    INSERT INTO credential_changes (token_hash) SELECT token_hash FROM deploy_keys WHERE grant_id = OLD.id;
END;
CREATE TRIGGER grants_deleted AFTER DELETE ON grants
BEGIN
    INSERT INTO credential_changes (token_hash) VALUES (OLD.access_token_hash);
    INSERT INTO credential_changes (token_hash) SELECT token_hash FROM deploy_keys WHERE grant_id = OLD.id;
END;

-- Deploy keys: every column but last_used_at.
CREATE TRIGGER deploy_keys_changed AFTER UPDATE OF
    id, token_hash, token_prefix, name, project_id, deployment_id, allowed_actions, custom_role_id,
    grant_id, created_by_user_id, expires_at, created_at, revoked_at
ON deploy_keys
BEGIN
    INSERT INTO credential_changes (token_hash) VALUES (OLD.token_hash);
END;
CREATE TRIGGER deploy_keys_deleted AFTER DELETE ON deploy_keys
BEGIN
    INSERT INTO credential_changes (token_hash) VALUES (OLD.token_hash);
END;

-- A user's grants answer with the user's current email and stop when the user is disabled.
CREATE TRIGGER users_changed AFTER UPDATE ON users
BEGIN
    INSERT INTO credential_changes (token_hash) SELECT access_token_hash FROM grants WHERE user_id = OLD.id;
END;
CREATE TRIGGER users_deleted AFTER DELETE ON users
BEGIN
    INSERT INTO credential_changes (token_hash) SELECT access_token_hash FROM grants WHERE user_id = OLD.id;
END;

-- A grant answers with its membership's role, custom roles and project-admin standing.
CREATE TRIGGER members_changed AFTER UPDATE ON members
BEGIN
    INSERT INTO credential_changes (token_hash) SELECT access_token_hash FROM grants WHERE member_id = OLD.id;
END;
CREATE TRIGGER members_deleted AFTER DELETE ON members
BEGIN
    INSERT INTO credential_changes (token_hash) SELECT access_token_hash FROM grants WHERE member_id = OLD.id;
END;
CREATE TRIGGER member_custom_roles_added AFTER INSERT ON member_custom_roles
BEGIN
    INSERT INTO credential_changes (token_hash) SELECT access_token_hash FROM grants WHERE member_id = NEW.member_id;
END;
CREATE TRIGGER member_custom_roles_changed AFTER UPDATE ON member_custom_roles
BEGIN
    INSERT INTO credential_changes (token_hash)
        SELECT access_token_hash FROM grants WHERE member_id IN (OLD.member_id, NEW.member_id);
END;
CREATE TRIGGER member_custom_roles_deleted AFTER DELETE ON member_custom_roles
BEGIN
    INSERT INTO credential_changes (token_hash) SELECT access_token_hash FROM grants WHERE member_id = OLD.member_id;
END;
CREATE TRIGGER project_admins_added AFTER INSERT ON project_admins
BEGIN
    INSERT INTO credential_changes (token_hash) SELECT access_token_hash FROM grants WHERE member_id = NEW.member_id;
END;
CREATE TRIGGER project_admins_changed AFTER UPDATE ON project_admins
BEGIN
    INSERT INTO credential_changes (token_hash)
        SELECT access_token_hash FROM grants WHERE member_id IN (OLD.member_id, NEW.member_id);
END;
CREATE TRIGGER project_admins_deleted AFTER DELETE ON project_admins
BEGIN
    INSERT INTO credential_changes (token_hash) SELECT access_token_hash FROM grants WHERE member_id = OLD.member_id;
END;

-- What any number of grants and deploy keys are joined to: any update or delete.
CREATE TRIGGER teams_changed AFTER UPDATE ON teams BEGIN INSERT INTO credential_changes (token_hash) VALUES (NULL); END;
CREATE TRIGGER teams_deleted AFTER DELETE ON teams BEGIN INSERT INTO credential_changes (token_hash) VALUES (NULL); END;
CREATE TRIGGER projects_changed AFTER UPDATE ON projects BEGIN INSERT INTO credential_changes (token_hash) VALUES (NULL); END;
CREATE TRIGGER projects_deleted AFTER DELETE ON projects BEGIN INSERT INTO credential_changes (token_hash) VALUES (NULL); END;
CREATE TRIGGER deployments_changed AFTER UPDATE ON deployments BEGIN INSERT INTO credential_changes (token_hash) VALUES (NULL); END;
CREATE TRIGGER deployments_deleted AFTER DELETE ON deployments BEGIN INSERT INTO credential_changes (token_hash) VALUES (NULL); END;
CREATE TRIGGER oauth_apps_changed AFTER UPDATE ON oauth_apps BEGIN INSERT INTO credential_changes (token_hash) VALUES (NULL); END;
CREATE TRIGGER oauth_apps_deleted AFTER DELETE ON oauth_apps BEGIN INSERT INTO credential_changes (token_hash) VALUES (NULL); END;
CREATE TRIGGER custom_roles_changed AFTER UPDATE ON custom_roles BEGIN INSERT INTO credential_changes (token_hash) VALUES (NULL); END;
CREATE TRIGGER custom_roles_deleted AFTER DELETE ON custom_roles BEGIN INSERT INTO credential_changes (token_hash) VALUES (NULL); END;
