-- Before the grant use cases took their locks in one order, a grant issued while its member was
-- being removed, or its user disabled, could commit after the revocation sweep: dead through the
-- verification join (no membership, or a disabled user) but never marked revoked, so listed as
-- live and counted against the unverified-app limit. Mark those as the sweep would have.
UPDATE grants
SET revoked_at = (now() AT TIME ZONE 'UTC'),
    revoked_reason = CASE WHEN member_id IS NULL THEN 'member_removed' ELSE 'user_disabled' END
WHERE revoked_at IS NULL
  AND (member_id IS NULL OR user_id IN (SELECT id FROM users WHERE disabled_at IS NOT NULL));
