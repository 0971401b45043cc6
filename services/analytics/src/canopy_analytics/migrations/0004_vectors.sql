-- Search by meaning (docs/architecture.md §17): a vector per post, question, answer and comment,
-- computed from the projection's text by the embedding worker (canopy_analytics.embedding).

-- What the worker last derived from each post: the text_version it embedded (or found blank)
-- and the `open` flag it copied. A row whose text or openness moved on since is to do; the
-- partial index holds just those rows, so finding work costs the backlog, not the table.
ALTER TABLE posts
    ADD COLUMN embedded_version integer NOT NULL DEFAULT 0,
    ADD COLUMN embedded_open    boolean NOT NULL DEFAULT false;
CREATE INDEX posts_to_embed ON posts (tenant_id, object_id)
    WHERE embedded_version <> text_version OR embedded_open <> open;

-- The vectors. `vector` is the model's output as little-endian float32, L2-normalised (its
-- length / 4 is the dimension); NULL once the post is deleted or blanked (a tombstone, so the
-- API's in-memory copies see the removal). `seq` orders the changes of one tenant: writers take
-- the tenant's advisory lock before drawing it, so a tenant's seqs commit in order and a
-- reader that has seen seq n has seen every change before it. kind, author_id, group_id and
-- open are the post's as of the write (the worker rewrites the row when `open` changes).
CREATE SEQUENCE post_vectors_seq;
CREATE TABLE post_vectors (
    tenant_id    text        NOT NULL,
    object_id    text        NOT NULL,
    model        text        NOT NULL,
    text_version integer     NOT NULL,
    vector       bytea,
    kind         text,
    author_id    text,
    group_id     text,
    open         boolean     NOT NULL DEFAULT false,
    seq          bigint      NOT NULL DEFAULT nextval('post_vectors_seq'),
    embedded_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, object_id)
);
CREATE INDEX post_vectors_changes ON post_vectors (tenant_id, seq);

-- A question's answers (is it answered?), a post's replies: read per candidate question.
CREATE INDEX posts_by_parent ON posts (tenant_id, parent_id) WHERE parent_id IS NOT NULL;

-- Which answer a question's asker accepted (the latest Accept): "accepted" is shown only while
-- that answer is live.
ALTER TABLE questions ADD COLUMN accepted_answer_id text;

-- The question-experts record published for each question's text (at most once per
-- text_version, docs §17): the version it was published for.
ALTER TABLE questions ADD COLUMN experts_version integer NOT NULL DEFAULT 0;
