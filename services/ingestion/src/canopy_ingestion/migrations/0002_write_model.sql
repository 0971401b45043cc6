-- The write model: tenants, people, groups, the social graph, posts and reactions.
-- Every row carries tenant_id and every key starts with it (ARCHITECTURE §8 tenant isolation).

CREATE TABLE tenants (
    id             text        PRIMARY KEY,
    name           text        NOT NULL,
    -- Content policy rules: [{"name": ..., "pattern": ...}]; NULL means the defaults.
    content_policy jsonb,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    tenant_id    text        NOT NULL REFERENCES tenants (id),
    id           text        NOT NULL,
    handle       text        NOT NULL,
    display_name text        NOT NULL,
    title        text,
    department   text,
    location     text,
    skills       text[]      NOT NULL DEFAULT '{}',
    interests    text[]      NOT NULL DEFAULT '{}',
    kind         text        NOT NULL CHECK (kind IN ('employee', 'guest', 'bot')),
    manager_id   text,
    active       boolean     NOT NULL DEFAULT true,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
-- Handles are unique per tenant, case-insensitively, among active people.
CREATE UNIQUE INDEX users_handle ON users (tenant_id, lower(handle)) WHERE active;
CREATE INDEX users_skills ON users USING gin (skills);

CREATE TABLE groups (
    tenant_id   text        NOT NULL REFERENCES tenants (id),
    id          text        NOT NULL,
    name        text        NOT NULL,
    description text        NOT NULL DEFAULT '',
    visibility  text        NOT NULL CHECK (visibility IN ('public', 'internal', 'private')),
    owner_id    text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE memberships (
    tenant_id  text        NOT NULL,
    group_id   text        NOT NULL,
    user_id    text        NOT NULL,
    role       text        NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, group_id, user_id),
    FOREIGN KEY (tenant_id, group_id) REFERENCES groups (tenant_id, id)
);
CREATE INDEX memberships_by_user ON memberships (tenant_id, user_id);

CREATE TABLE follows (
    tenant_id   text        NOT NULL,
    follower_id text        NOT NULL,
    followee_id text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, follower_id, followee_id)
);
CREATE INDEX follows_by_followee ON follows (tenant_id, followee_id);

CREATE TABLE tag_follows (
    tenant_id  text        NOT NULL,
    user_id    text        NOT NULL,
    tag        text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, user_id, tag)
);

CREATE TABLE blocks (
    tenant_id  text        NOT NULL,
    blocker_id text        NOT NULL,
    blocked_id text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, blocker_id, blocked_id)
);

CREATE TABLE mutes (
    tenant_id  text        NOT NULL,
    user_id    text        NOT NULL,
    muted_id   text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, user_id, muted_id)
);

-- Posts and every other object people or upstream systems create (tasks, events, documents).
CREATE TABLE posts (
    tenant_id          text        NOT NULL,
    id                 text        NOT NULL,
    author_id          text        NOT NULL,
    -- note | question | answer | announcement | article | task | event | document | link
    kind               text        NOT NULL,
    as2_type           text        NOT NULL,
    name               text,
    content            text        NOT NULL DEFAULT '',
    group_id           text,
    visibility         text        NOT NULL
                       CHECK (visibility IN ('public', 'internal', 'group', 'followers', 'direct')),
    to_ids             text[]      NOT NULL DEFAULT '{}',
    in_reply_to        text,
    thread_id          text        NOT NULL,
    mentions           text[]      NOT NULL DEFAULT '{}',
    hashtags           text[]      NOT NULL DEFAULT '{}',
    accepted_answer_id text,
    url                text,
    start_time         timestamptz,
    end_time           timestamptz,
    source             text        NOT NULL DEFAULT 'http',
    extra              jsonb       NOT NULL DEFAULT '{}',
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    deleted_at         timestamptz,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX posts_by_author ON posts (tenant_id, author_id, created_at DESC);
CREATE INDEX posts_by_group ON posts (tenant_id, group_id, created_at DESC) WHERE group_id IS NOT NULL;
CREATE INDEX posts_by_thread ON posts (tenant_id, thread_id);

CREATE TABLE reactions (
    tenant_id  text        NOT NULL,
    post_id    text        NOT NULL,
    user_id    text        NOT NULL,
    kind       text        NOT NULL CHECK (kind IN ('like', 'celebrate', 'insightful', 'support')),
    -- The Like activity, so an Undo names what it undoes.
    activity_id text       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, post_id, user_id, kind)
);

CREATE TABLE flags (
    tenant_id   text        NOT NULL,
    id          text        NOT NULL,
    post_id     text        NOT NULL,
    reporter_id text        NOT NULL,
    reason      text        NOT NULL,
    -- Raised by the content policy rather than by a person.
    rule        text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);

-- Idempotency-Key: the first response to a POST, returned again on a retry.
CREATE TABLE idempotency_keys (
    tenant_id     text        NOT NULL,
    user_id       text        NOT NULL,
    key           text        NOT NULL,
    request_hash  text        NOT NULL,
    status        integer     NOT NULL,
    response      jsonb       NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, user_id, key)
);

-- The transactional outbox (ARCHITECTURE §4): every state change appends its canonical
-- activity here in the same transaction; the relay publishes rows in `seq` order per key.
CREATE TABLE outbox (
    seq         bigserial   PRIMARY KEY,
    tenant_id   text        NOT NULL,
    activity_id text        NOT NULL,
    key         text        NOT NULL,
    -- Relays claim buckets (hash of the key), so one key is only ever relayed by one relay
    -- at a time and its order is kept while several relays run side by side.
    bucket      integer     NOT NULL,
    payload     bytea       NOT NULL,
    headers     jsonb       NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now(),
    sent_at     timestamptz
);
CREATE INDEX outbox_unsent ON outbox (bucket, seq) WHERE sent_at IS NULL;
CREATE INDEX outbox_sent ON outbox (sent_at) WHERE sent_at IS NOT NULL;

CREATE TABLE outbox_buckets (bucket integer PRIMARY KEY);
INSERT INTO outbox_buckets SELECT generate_series(0, 63);
