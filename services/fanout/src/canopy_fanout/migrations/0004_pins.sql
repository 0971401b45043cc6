-- A group's pinned posts, as its Add and Remove of a post to the group's featured collection
-- say (docs/architecture.md §5.8): the group feed shows them first when asked. One row per
-- pin ever made; `changed_at` is the time of the last Add or Remove applied, so the later of
-- two changes wins whichever arrives first (an unpin is kept as `pinned = false`).
CREATE TABLE pins (
    tenant_id  text        NOT NULL,
    group_id   text        NOT NULL,
    object_id  text        NOT NULL,
    pinned     boolean     NOT NULL,
    changed_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, group_id, object_id)
);
-- A group's pins, newest first.
CREATE INDEX pins_newest ON pins (tenant_id, group_id, changed_at DESC) WHERE pinned;
