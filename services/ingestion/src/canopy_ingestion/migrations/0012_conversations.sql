-- Direct conversations (docs/architecture.md §16): each person's read position in each of
-- their direct threads, and the index that finds a person's direct posts.

-- How far a person has read a conversation (a thread of direct posts): the position (time,
-- id) of the last message they marked read. Private to them: nothing is published. Kept here,
-- beside the posts it points into, because ingestion owns the posts and reads no other
-- service's schema (fanout's feed markers are fanout's). Erasure deletes a person's rows.
CREATE TABLE conversation_reads (
    tenant_id    text        NOT NULL,
    user_id      text        NOT NULL,
    thread_id    text        NOT NULL,
    read_at      timestamptz NOT NULL,
    read_post_id text        NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, user_id, thread_id)
);

ALTER TABLE conversation_reads ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON conversation_reads
    USING (tenant_id = current_setting('canopy.tenant', true)
           OR current_setting('canopy.tenant', true) = '*')
    WITH CHECK (tenant_id = current_setting('canopy.tenant', true)
                OR current_setting('canopy.tenant', true) = '*');

-- GET /v1/conversations: a person's live direct posts — those they wrote, are addressed to or
-- are mentioned in (adapters/conversations.py queries this very expression).
CREATE INDEX posts_direct_participants
    ON posts USING gin ((to_ids || mentions || ARRAY[author_id]))
    WHERE visibility = 'direct' AND deleted_at IS NULL;
