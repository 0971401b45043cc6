-- Moderation (docs/architecture.md §4.5): a person reports a post once while the report is
-- open, and a moderator's decision resolves every open flag of the post together.

-- Duplicate open reports by one person on one post, from before the unique index: the
-- earliest is kept (its reason stands for the person), the later copies go.
DELETE FROM flags AS later
USING flags AS first
WHERE later.tenant_id = first.tenant_id
  AND later.post_id = first.post_id
  AND later.reporter_id = first.reporter_id
  AND later.rule IS NULL AND first.rule IS NULL
  AND (first.created_at, first.id) < (later.created_at, later.id);

ALTER TABLE flags
    ADD COLUMN resolved_at     timestamptz,
    ADD COLUMN resolved_by     text,
    ADD COLUMN resolution      text CHECK (resolution IN ('dismiss', 'remove', 'warn')),
    ADD COLUMN resolution_note text,
    -- The decision's activity id: the flags it resolved together form one case.
    ADD COLUMN decision_id     text,
    ADD CONSTRAINT flags_resolved_whole CHECK (
        (resolved_at IS NULL) = (resolution IS NULL)
        AND (resolved_at IS NULL) = (decision_id IS NULL)
    );

-- A person's open report of a post is unique; the content policy (rule set) may flag a post
-- again on each edit, with the author as reporter_id.
CREATE UNIQUE INDEX flags_one_open_report ON flags (tenant_id, post_id, reporter_id)
    WHERE rule IS NULL AND resolved_at IS NULL;
-- The moderation queue: open flags, oldest first, per post.
CREATE INDEX flags_open_queue ON flags (tenant_id, post_id, created_at)
    WHERE resolved_at IS NULL;

-- A moderator's warning to a post's author (a `warn` decision).
CREATE TABLE warnings (
    tenant_id    text        NOT NULL,
    id           text        NOT NULL,  -- the decision's activity id
    user_id      text        NOT NULL,
    post_id      text        NOT NULL,
    moderator_id text        NOT NULL,
    note         text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX warnings_by_user ON warnings (tenant_id, user_id, created_at);

ALTER TABLE warnings ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON warnings
    USING (tenant_id = current_setting('canopy.tenant', true)
           OR current_setting('canopy.tenant', true) = '*')
    WITH CHECK (tenant_id = current_setting('canopy.tenant', true)
                OR current_setting('canopy.tenant', true) = '*');
