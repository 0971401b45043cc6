-- The groups' read side (docs/architecture.md §16): archived groups, pinned posts, and the
-- indexes the directory and the member lists page on.

-- An archived group takes no posts, joins or pins; what is in it stays readable. NULL: active.
ALTER TABLE groups ADD COLUMN archived_at timestamptz;

-- The directory pages by name (any case), then id.
CREATE INDEX groups_by_name ON groups (tenant_id, lower(name), id);

-- A group's pinned posts (its AS2 `featured` collection), at most a few per group
-- (canopy_ingestion.domain.pins.MAX_PINS, checked when pinning).
CREATE TABLE pins (
    tenant_id   text        NOT NULL,
    group_id    text        NOT NULL,
    post_id     text        NOT NULL,
    pinned_by   text        NOT NULL,
    -- The Add that announced it (the Remove of an unpin names the post, not this).
    activity_id text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, group_id, post_id),
    FOREIGN KEY (tenant_id, group_id) REFERENCES groups (tenant_id, id)
);
-- Newest pin first.
CREATE INDEX pins_newest ON pins (tenant_id, group_id, created_at DESC, post_id DESC);

ALTER TABLE pins ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON pins
    USING (tenant_id = current_setting('canopy.tenant', true)
           OR current_setting('canopy.tenant', true) = '*')
    WITH CHECK (tenant_id = current_setting('canopy.tenant', true)
                OR current_setting('canopy.tenant', true) = '*');
