-- Nothing to change on PostgreSQL: the credential change log is SQLite's
-- (migrations/sqlite/2026-12-01-000001_credential_changes). Concurrent PostgreSQL transactions
-- do not take ids in commit order, so a reader of such a log could step over a change that
-- commits late; PostgreSQL instances therefore cache no verification and read every answer
-- from the database. The migration exists so that both backends record the same versions;
-- PostgreSQL refuses an empty one, hence the statement that does nothing.
SELECT 1;
