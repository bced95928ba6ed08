-- The change log behind each server's verification cache on PostgreSQL
-- (src/ops/verify/cache.rs; SQLite's is migrations/sqlite/2026-12-01-000001_credential_changes,
-- with the same rows for the same writes).
--
-- Ids in commit order. Every change takes its id from the single row of
-- credential_change_counter with `UPDATE … SET n = n + 1 RETURNING n`. That row stays locked
-- by the writing transaction until it ends, so a second writer waits for the first to commit
-- (or roll back) before it takes the next number: numbers are handed out in commit order,
-- dense (a rolled-back number is taken again), and a transaction that sees the counter at N
-- sees every change numbered up to N. Only writes that change a credential's answer serialise
-- on that row, and they are rare; issuing credentials and last-used bookkeeping do not.
-- (Under REPEATABLE READ or SERIALIZABLE the second writer fails with a serialization error
-- instead of waiting; the server writes in READ COMMITTED.)
--
-- token_hash names one credential affected (a grant's access token, a deploy key); NULL means
-- "anything may have changed" (teams, projects, deployments, apps, custom role definitions).
-- An UPDATE that sets a column to its own value still counts as a change.
CREATE TABLE credential_change_counter (
    only_row BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (only_row),
    n        BIGINT NOT NULL
);
INSERT INTO credential_change_counter (n) VALUES (0);

CREATE TABLE credential_changes (
    id         BIGINT PRIMARY KEY, -- the counter's value for this change
    token_hash TEXT
);

-- Records one change, numbered by the counter; keeps the newest 10,000 (a cache further
-- behind than that forgets everything).
CREATE FUNCTION credential_changed(hash TEXT) RETURNS VOID LANGUAGE plpgsql AS $$
DECLARE
    number BIGINT;
BEGIN
    UPDATE credential_change_counter SET n = n + 1 RETURNING n INTO number;
    INSERT INTO credential_changes (id, token_hash) VALUES (number, hash);
    DELETE FROM credential_changes WHERE id <= number - 10000;
END $$;

-- Grants: every column but last_used_at. A grant's deploy keys live and die with it.
CREATE FUNCTION grants_changed() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    PERFORM credential_changed(OLD.access_token_hash);
    PERFORM credential_changed(token_hash) FROM deploy_keys WHERE grant_id = OLD.id;
    RETURN NULL;
END $$;
CREATE TRIGGER grants_changed AFTER DELETE OR UPDATE OF
    id, app_id, user_id, team_id, project_id, member_id, scope, access_token_hash,
    access_token_issued_at, access_token_expires_at, created_at, revoked_at, revoked_reason
ON grants FOR EACH ROW EXECUTE FUNCTION grants_changed();

-- Deploy keys: every column but last_used_at.
CREATE FUNCTION deploy_keys_changed() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    PERFORM credential_changed(OLD.token_hash);
    RETURN NULL;
END $$;
CREATE TRIGGER deploy_keys_changed AFTER DELETE OR UPDATE OF
    id, token_hash, token_prefix, name, project_id, deployment_id, allowed_actions, custom_role_id,
    grant_id, created_by_user_id, expires_at, created_at, revoked_at
ON deploy_keys FOR EACH ROW EXECUTE FUNCTION deploy_keys_changed();

-- A user's grants answer with the user's current email and stop when the user is disabled.
CREATE FUNCTION users_changed() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    PERFORM credential_changed(access_token_hash) FROM grants WHERE user_id = OLD.id;
    RETURN NULL;
END $$;
CREATE TRIGGER users_changed AFTER UPDATE OR DELETE ON users FOR EACH ROW EXECUTE FUNCTION users_changed();

-- A grant answers with its membership's role, custom roles and project-admin standing.
CREATE FUNCTION members_changed() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    PERFORM credential_changed(access_token_hash) FROM grants WHERE member_id = OLD.id;
    RETURN NULL;
END $$;
CREATE TRIGGER members_changed AFTER UPDATE OR DELETE ON members FOR EACH ROW EXECUTE FUNCTION members_changed();

-- Links whose existence alone changes an answer: adding one counts too. (OLD is NULL on
-- INSERT, NEW on DELETE.)
CREATE FUNCTION member_custom_roles_changed() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    PERFORM credential_changed(access_token_hash) FROM grants
        WHERE member_id IN (CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE OLD.member_id END,
                            CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE NEW.member_id END);
    RETURN NULL;
END $$;
CREATE TRIGGER member_custom_roles_changed AFTER INSERT OR UPDATE OR DELETE ON member_custom_roles
    FOR EACH ROW EXECUTE FUNCTION member_custom_roles_changed();
CREATE FUNCTION project_admins_changed() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    PERFORM credential_changed(access_token_hash) FROM grants
        WHERE member_id IN (CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE OLD.member_id END,
                            CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE NEW.member_id END);
    RETURN NULL;
END $$;
CREATE TRIGGER project_admins_changed AFTER INSERT OR UPDATE OR DELETE ON project_admins
    FOR EACH ROW EXECUTE FUNCTION project_admins_changed();

-- What any number of grants and deploy keys are joined to: any update or delete.
CREATE FUNCTION anything_changed() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    PERFORM credential_changed(NULL);
    RETURN NULL;
END $$;
CREATE TRIGGER teams_changed AFTER UPDATE OR DELETE ON teams FOR EACH ROW EXECUTE FUNCTION anything_changed();
CREATE TRIGGER projects_changed AFTER UPDATE OR DELETE ON projects FOR EACH ROW EXECUTE FUNCTION anything_changed();
CREATE TRIGGER deployments_changed AFTER UPDATE OR DELETE ON deployments
    FOR EACH ROW EXECUTE FUNCTION anything_changed();
CREATE TRIGGER oauth_apps_changed AFTER UPDATE OR DELETE ON oauth_apps FOR EACH ROW EXECUTE FUNCTION anything_changed();
CREATE TRIGGER custom_roles_changed AFTER UPDATE OR DELETE ON custom_roles
    FOR EACH ROW EXECUTE FUNCTION anything_changed();
