-- The activity that created each relation, so the Undo (or Leave) that ends it can name it.
-- NULL for rows written before this migration or seeded directly; their Undo then carries the
-- relation (type, actor, object) without an id.
ALTER TABLE follows ADD COLUMN activity_id text;
ALTER TABLE tag_follows ADD COLUMN activity_id text;
ALTER TABLE blocks ADD COLUMN activity_id text;
ALTER TABLE mutes ADD COLUMN activity_id text;
ALTER TABLE memberships ADD COLUMN activity_id text;

-- Who blocked or muted a person, for the erasure of a person and for "is X blocked by Y".
CREATE INDEX blocks_by_blocked ON blocks (tenant_id, blocked_id);
CREATE INDEX mutes_by_muted ON mutes (tenant_id, muted_id);
