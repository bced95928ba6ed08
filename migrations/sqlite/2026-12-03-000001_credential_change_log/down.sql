-- Nothing to change on SQLite: its credential change log exists since
-- 2026-12-01-000001_credential_changes. This migration brings PostgreSQL's
-- (migrations/postgres/2026-12-03-000001_credential_change_log); both backends record the
-- same versions.
SELECT 1;
