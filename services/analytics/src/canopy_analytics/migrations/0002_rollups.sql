-- The analytics service's own projections and rollups (ARCHITECTURE §7), built from
-- canopy.activities.v1 and canopy.impressions.v1 only. Days are UTC dates of the activity's
-- `published` (an impression's `viewed_at`). Every row carries tenant_id; every query filters on it.

-- Who is who: for people discovery and for the API's scopes.
CREATE TABLE people (
    tenant_id  text    NOT NULL,
    user_id    text    NOT NULL,
    name       text,
    kind       text    NOT NULL DEFAULT 'employee',   -- employee | guest
    active     boolean NOT NULL DEFAULT true,          -- false once erased
    title      text,
    department text,
    location   text,
    skills     text[]  NOT NULL DEFAULT '{}',          -- lower-cased
    interests  text[]  NOT NULL DEFAULT '{}',          -- lower-cased
    PRIMARY KEY (tenant_id, user_id)
);

CREATE TABLE groups (
    tenant_id  text    NOT NULL,
    group_id   text    NOT NULL,
    name       text,
    visibility text    NOT NULL DEFAULT 'private',     -- public | internal | private
    deleted    boolean NOT NULL DEFAULT false,
    PRIMARY KEY (tenant_id, group_id)
);

CREATE TABLE memberships (
    tenant_id text NOT NULL,
    group_id  text NOT NULL,
    user_id   text NOT NULL,
    role      text NOT NULL DEFAULT 'member',         -- owner | admin | member
    PRIMARY KEY (tenant_id, group_id, user_id)
);
CREATE INDEX memberships_by_user ON memberships (tenant_id, user_id);

CREATE TABLE follows (
    tenant_id   text NOT NULL,
    follower_id text NOT NULL,
    followee_id text NOT NULL,
    PRIMARY KEY (tenant_id, follower_id, followee_id)
);
CREATE INDEX follows_by_followee ON follows (tenant_id, followee_id);

CREATE TABLE blocks (
    tenant_id  text NOT NULL,
    blocker_id text NOT NULL,
    blocked_id text NOT NULL,
    PRIMARY KEY (tenant_id, blocker_id, blocked_id)
);

-- Who did something on a day: the durable record behind the Redis HyperLogLogs (rebuilt from
-- here after a Redis loss) and the exact participation split. `created`: posted (a top-level
-- post); `contributed`: commented, answered or reacted. Engaged = created OR contributed.
CREATE TABLE daily_actors (
    tenant_id   text    NOT NULL,
    day         date    NOT NULL,
    user_id     text    NOT NULL,
    created     boolean NOT NULL DEFAULT false,
    contributed boolean NOT NULL DEFAULT false,
    PRIMARY KEY (tenant_id, day, user_id)
);

-- Who was active in a group on a day: posted, commented or reacted there, or viewed its items.
CREATE TABLE daily_group_actors (
    tenant_id text NOT NULL,
    day       date NOT NULL,
    group_id  text NOT NULL,
    user_id   text NOT NULL,
    PRIMARY KEY (tenant_id, group_id, day, user_id)
);

-- Exact counters per day, tenant-wide (group_id '') and per group. Metrics: posts, comments,
-- reactions, shares, follows, members (each net of its Undo/Leave/Remove); `content` counts
-- new posts and comments by `kind` (note, article, question, answer, announcement, ...).
-- Exact under redelivery: each activity is applied once (consumed_activities).
CREATE TABLE daily_counts (
    tenant_id text   NOT NULL,
    day       date   NOT NULL,
    group_id  text   NOT NULL DEFAULT '',
    metric    text   NOT NULL,
    kind      text   NOT NULL DEFAULT '',
    n         bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, group_id, metric, day, kind)
);

-- Posts and comments, with their engagement. A reaction or view may arrive before the post's
-- Create (no order across keys): the row is then created by it and completed later.
CREATE TABLE posts (
    tenant_id  text        NOT NULL,
    object_id  text        NOT NULL,
    author_id  text,
    group_id   text,
    kind       text,
    visibility text,
    published  timestamptz,
    parent_id  text,                          -- a comment's or answer's post
    tags       text[]      NOT NULL DEFAULT '{}',
    open       boolean     NOT NULL DEFAULT false,  -- every employee may see it
    deleted    boolean     NOT NULL DEFAULT false,
    reactions  integer     NOT NULL DEFAULT 0,
    comments   integer     NOT NULL DEFAULT 0,
    shares     integer     NOT NULL DEFAULT 0,
    viewers    integer     NOT NULL DEFAULT 0,  -- unique, exact (post_viewers)
    PRIMARY KEY (tenant_id, object_id)
);
CREATE INDEX posts_by_author ON posts (tenant_id, author_id);
CREATE INDEX posts_by_group ON posts (tenant_id, group_id) WHERE group_id IS NOT NULL;

CREATE TABLE post_viewers (
    tenant_id  text        NOT NULL,
    object_id  text        NOT NULL,
    viewer_id  text        NOT NULL,
    first_seen timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, object_id, viewer_id)
);

-- Q&A health: one row per question (an answer may arrive first: asked_at stays NULL until
-- the question's Create does).
CREATE TABLE questions (
    tenant_id       text        NOT NULL,
    question_id     text        NOT NULL,
    group_id        text,
    asked_at        timestamptz,
    first_answer_at timestamptz,
    answers         integer     NOT NULL DEFAULT 0,
    accepted_at     timestamptz,
    PRIMARY KEY (tenant_id, question_id)
);

-- Hashtag uses per hour: trending is a decayed sum over a sliding window of these.
CREATE TABLE tag_counts (
    tenant_id text        NOT NULL,
    tag       text        NOT NULL,
    hour      timestamptz NOT NULL,
    n         integer     NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, hour, tag)
);

-- The expertise signal: what each person contributed on each topic (hashtag), counting only
-- items every employee may see (public or internal, outside private groups) so discovery
-- never reveals private work.
CREATE TABLE topic_contributions (
    tenant_id          text    NOT NULL,
    topic              text    NOT NULL,
    user_id            text    NOT NULL,
    posts              integer NOT NULL DEFAULT 0,
    accepted_answers   integer NOT NULL DEFAULT 0,
    reactions_received integer NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, topic, user_id)
);
