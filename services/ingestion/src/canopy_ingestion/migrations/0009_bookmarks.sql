-- The read side (docs/architecture.md §16): bookmarks, and indexes for the reads of threads,
-- questions and reactions.

-- A person's bookmarks: private to them (no activity is published for one).
CREATE TABLE bookmarks (
    tenant_id  text        NOT NULL,
    user_id    text        NOT NULL,
    post_id    text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, user_id, post_id)
);
-- GET /v1/bookmarks: newest bookmarked first.
CREATE INDEX bookmarks_newest ON bookmarks (tenant_id, user_id, created_at DESC, post_id DESC);

ALTER TABLE bookmarks ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON bookmarks
    USING (tenant_id = current_setting('canopy.tenant', true)
           OR current_setting('canopy.tenant', true) = '*')
    WITH CHECK (tenant_id = current_setting('canopy.tenant', true)
                OR current_setting('canopy.tenant', true) = '*');

-- replies_count and a question's answers: the replies of a post.
CREATE INDEX posts_replies ON posts (tenant_id, in_reply_to) WHERE in_reply_to IS NOT NULL;
-- GET /v1/questions: a tenant's live questions, newest first.
CREATE INDEX posts_questions ON posts (tenant_id, created_at DESC, id DESC)
    WHERE kind = 'question' AND deleted_at IS NULL;
-- GET /v1/posts/{id}/reactions: who reacted to a post, newest first.
CREATE INDEX reactions_newest
    ON reactions (tenant_id, post_id, created_at DESC, user_id DESC, kind DESC);
