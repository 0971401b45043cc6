-- The fanout service's own view of the world, built from activities only (ARCHITECTURE §1:
-- event-carried state transfer): people, the follow graph, groups and memberships, blocks and
-- mutes, and the activity store from which any feed can be rebuilt.

CREATE TABLE people (
    tenant_id      text        NOT NULL,
    user_id        text        NOT NULL,
    kind           text,  -- employee | guest | bot; NULL until its Create arrives (a guest till then)
    active         boolean     NOT NULL DEFAULT true,
    follower_count integer     NOT NULL DEFAULT 0,  -- over the push limit: a pull source
    last_seen_at   timestamptz,  -- last feed read: pushes go to recent readers only
    PRIMARY KEY (tenant_id, user_id)
);

CREATE TABLE follows (
    tenant_id   text NOT NULL,
    followee_id text NOT NULL,
    follower_id text NOT NULL,
    PRIMARY KEY (tenant_id, followee_id, follower_id)
);
CREATE INDEX follows_by_follower ON follows (tenant_id, follower_id);

CREATE TABLE tag_follows (
    tenant_id text NOT NULL,
    tag       text NOT NULL,
    user_id   text NOT NULL,
    PRIMARY KEY (tenant_id, tag, user_id)
);
CREATE INDEX tag_follows_by_user ON tag_follows (tenant_id, user_id);

-- user_id blocked other_id; a block hides each from the other.
CREATE TABLE blocks (
    tenant_id text NOT NULL,
    user_id   text NOT NULL,
    other_id  text NOT NULL,
    PRIMARY KEY (tenant_id, user_id, other_id)
);
CREATE INDEX blocks_by_other ON blocks (tenant_id, other_id);

-- user_id muted other_id: other_id's items stay out of user_id's home feed.
CREATE TABLE mutes (
    tenant_id text NOT NULL,
    user_id   text NOT NULL,
    other_id  text NOT NULL,
    PRIMARY KEY (tenant_id, user_id, other_id)
);

CREATE TABLE groups (
    tenant_id    text    NOT NULL,
    group_id     text    NOT NULL,
    visibility   text    NOT NULL DEFAULT 'group',  -- public | internal | group (private)
    member_count integer NOT NULL DEFAULT 0,  -- over the push limit: a pull source
    PRIMARY KEY (tenant_id, group_id)
);

CREATE TABLE memberships (
    tenant_id text NOT NULL,
    group_id  text NOT NULL,
    user_id   text NOT NULL,
    PRIMARY KEY (tenant_id, group_id, user_id)
);
CREATE INDEX memberships_by_user ON memberships (tenant_id, user_id);

-- The activity store: every feed item (and every reply, for its thread's counts), durable.
-- `entry` is the 16-byte member the item has in Redis timelines.
CREATE TABLE items (
    tenant_id        text        NOT NULL,
    activity_id      text        NOT NULL,
    entry            uuid        NOT NULL,
    object_id        text        NOT NULL,
    type             text        NOT NULL,
    actor_id         text        NOT NULL,
    author_id        text        NOT NULL,
    visibility       text        NOT NULL,
    group_id         text,
    group_visibility text,
    addressees       text[]      NOT NULL DEFAULT '{}',
    mentions         text[]      NOT NULL DEFAULT '{}',
    hashtags         text[]      NOT NULL DEFAULT '{}',
    in_reply_to      text,
    published        timestamptz NOT NULL,
    score            bigint      NOT NULL,  -- the timeline score: published, in milliseconds
    deleted          boolean     NOT NULL DEFAULT false,
    body             jsonb       NOT NULL,  -- the activity as readers get it (no bto/bcc)
    PRIMARY KEY (tenant_id, activity_id)
);
CREATE UNIQUE INDEX items_by_entry ON items (tenant_id, entry);
CREATE INDEX items_by_object ON items (tenant_id, object_id);
-- Rebuild queries: newest first per actor, group and hashtag; replies are not feed items.
CREATE INDEX items_by_actor ON items (tenant_id, actor_id, score DESC, entry DESC)
    WHERE in_reply_to IS NULL AND NOT deleted;
CREATE INDEX items_by_group ON items (tenant_id, group_id, score DESC, entry DESC)
    WHERE group_id IS NOT NULL AND in_reply_to IS NULL AND NOT deleted;
CREATE INDEX items_by_tag ON items USING gin (hashtags) WHERE in_reply_to IS NULL;
CREATE INDEX items_by_mention ON items USING gin (mentions) WHERE in_reply_to IS NULL;
CREATE INDEX items_by_addressee ON items USING gin (addressees) WHERE in_reply_to IS NULL;

-- Objects deleted before (or after) their Create arrived: a late Create stays out.
CREATE TABLE deleted_objects (
    tenant_id text NOT NULL,
    object_id text NOT NULL,
    PRIMARY KEY (tenant_id, object_id)
);

CREATE TABLE post_stats (
    tenant_id text    NOT NULL,
    object_id text    NOT NULL,
    replies   integer NOT NULL DEFAULT 0,
    reactions integer NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, object_id)
);

CREATE TABLE reactions (
    tenant_id   text NOT NULL,
    object_id   text NOT NULL,
    user_id     text NOT NULL,
    kind        text NOT NULL,
    activity_id text NOT NULL,
    PRIMARY KEY (tenant_id, object_id, user_id, kind)
);
CREATE UNIQUE INDEX reactions_by_activity ON reactions (tenant_id, activity_id);

-- Where a reader stopped reading each feed (home, notifications, group:<id>).
CREATE TABLE markers (
    tenant_id    text        NOT NULL,
    user_id      text        NOT NULL,
    feed         text        NOT NULL,
    last_read_id text        NOT NULL,
    version      integer     NOT NULL DEFAULT 1,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, user_id, feed)
);
