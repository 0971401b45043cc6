-- Leavers keep their knowledge (docs/architecture.md §16): a deactivated person (`active` false,
-- their items kept and readable, their user feed too) is told apart from an erased one (their
-- items gone). Until now `active = false` meant erased, the only way out.
ALTER TABLE people ADD COLUMN erased boolean NOT NULL DEFAULT false;
UPDATE people SET erased = true WHERE NOT active;
