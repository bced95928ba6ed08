-- RFC 8628 device authorization requests (SPEC §7). Like authorization codes, the device code
-- is stored only as a SHA-256 digest; the user code is short and typed by people, so it is
-- stored as entered after normalising (8 letters of BCDFGHJKLMNPQRSTVWXZ, no dash), unique.
CREATE TABLE device_codes (
    id               INTEGER PRIMARY KEY,
    device_code_hash TEXT NOT NULL UNIQUE,
    user_code        TEXT NOT NULL UNIQUE,
    app_id           BIGINT NOT NULL REFERENCES oauth_apps(id) ON DELETE CASCADE,
    scope            TEXT NOT NULL CHECK (scope IN ('project', 'team')),
    device_name      TEXT,
    interval_seconds BIGINT NOT NULL,            -- grows by 5 on every slow_down (§3.5)
    last_polled_at   TIMESTAMP,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'redeemed')),
    user_id          BIGINT REFERENCES users(id) ON DELETE CASCADE,
    team_id          BIGINT REFERENCES teams(id) ON DELETE CASCADE,
    project_id       BIGINT REFERENCES projects(id) ON DELETE CASCADE,
    grant_id         BIGINT REFERENCES grants(id) ON DELETE SET NULL,
    created_at       TIMESTAMP NOT NULL,
    expires_at       TIMESTAMP NOT NULL,
    decided_at       TIMESTAMP,
    CHECK (status <> 'approved' OR (user_id IS NOT NULL AND team_id IS NOT NULL))
);
CREATE INDEX device_codes_expires_at ON device_codes(expires_at);

-- The device a grant was approved for, when its client named one (shown with the app's name).
ALTER TABLE grants ADD COLUMN device_name TEXT;

-- Failed user-code entries are throttled like logins: the same table, told apart by kind.
-- For them `email` holds the session's digest.
ALTER TABLE login_failures ADD COLUMN kind TEXT NOT NULL DEFAULT 'login' CHECK (kind IN ('login', 'user_code'));
