-- Leavers keep their knowledge (docs/architecture.md §16): a person is deactivated
-- (`active = false`, profile and relations kept, reactivation restores them) or erased
-- (GDPR: anonymised, relations dropped, never reactivated). Until now `active = false` meant
-- erased, the only way out; `erased` now tells the two apart.
ALTER TABLE users ADD COLUMN erased boolean NOT NULL DEFAULT false;
UPDATE users SET erased = true WHERE NOT active;
