-- The notification service's own state (ARCHITECTURE §6), built from activities only: what it
-- needs to know about people, groups, the graph and posts to pick recipients; the
-- notifications themselves; preferences, mutes, reminders and outside deliveries.

-- --- projections --------------------------------------------------------------------------

CREATE TABLE people (
    tenant_id text    NOT NULL,
    user_id   text    NOT NULL,
    kind      text,  -- employee | guest | bot; NULL until its Create arrives (a guest till then)
    active    boolean NOT NULL DEFAULT true,
    handle    text,
    name      text,
    email     text,
    roles     text[]  NOT NULL DEFAULT '{}',  -- tenant roles, e.g. moderator (Flags go to them)
    PRIMARY KEY (tenant_id, user_id)
);
CREATE INDEX people_by_role ON people USING gin (roles);

CREATE TABLE follows (
    tenant_id   text NOT NULL,
    followee_id text NOT NULL,
    follower_id text NOT NULL,
    PRIMARY KEY (tenant_id, followee_id, follower_id)
);

-- user_id blocked other_id; a block hides each from the other.
CREATE TABLE blocks (
    tenant_id text NOT NULL,
    user_id   text NOT NULL,
    other_id  text NOT NULL,
    PRIMARY KEY (tenant_id, user_id, other_id)
);
CREATE INDEX blocks_by_other ON blocks (tenant_id, other_id);

CREATE TABLE groups (
    tenant_id  text NOT NULL,
    group_id   text NOT NULL,
    name       text,
    visibility text NOT NULL DEFAULT 'group',  -- public | internal | group (private)
    PRIMARY KEY (tenant_id, group_id)
);

CREATE TABLE memberships (
    tenant_id text NOT NULL,
    group_id  text NOT NULL,
    user_id   text NOT NULL,
    role      text NOT NULL DEFAULT 'member',  -- owner | admin | member
    PRIMARY KEY (tenant_id, group_id, user_id)
);
CREATE INDEX memberships_by_user ON memberships (tenant_id, user_id);

-- Who took part in a thread (wrote its first post or a reply): replies notify them.
CREATE TABLE thread_participants (
    tenant_id text NOT NULL,
    thread_id text NOT NULL,
    user_id   text NOT NULL,
    PRIMARY KEY (tenant_id, thread_id, user_id)
);

-- --- notifications ------------------------------------------------------------------------

-- Every change to a notification takes the next number: the live stream's event id, so a
-- reconnecting client gets exactly what changed after the last event it saw.
CREATE SEQUENCE stream_seq;

CREATE TABLE notifications (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id   text        NOT NULL,
    recipient   text        NOT NULL,
    type        text        NOT NULL,  -- the rule: mention, reply, reaction, ...
    category    text        NOT NULL,  -- what preferences are set for
    group_key   text        NOT NULL,  -- same key within the window: one grouped notification
    object_id   text,
    object      jsonb,                  -- summary of what it is about
    group_id    text,                   -- for group mutes and the group's visibility
    thread_id   text,                   -- for thread mutes
    activity_id text        NOT NULL,   -- the latest activity that touched it
    actor_count integer     NOT NULL DEFAULT 0,
    urgent      boolean     NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL,   -- the first activity's time: the window starts here
    updated_at  timestamptz NOT NULL,   -- the latest activity's time: lists sort by it
    read_at     timestamptz,
    seq         bigint      NOT NULL DEFAULT nextval('stream_seq')
);
CREATE INDEX notifications_list ON notifications (tenant_id, recipient, updated_at DESC, id DESC);
CREATE INDEX notifications_group ON notifications (tenant_id, recipient, group_key, created_at DESC);
CREATE INDEX notifications_unread ON notifications (tenant_id, recipient) WHERE read_at IS NULL;
CREATE INDEX notifications_stream ON notifications (tenant_id, recipient, seq);

-- Who did it: one row per actor, so the count is exact under redelivery.
CREATE TABLE notification_actors (
    notification_id bigint      NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
    actor_id        text        NOT NULL,
    activity_id     text        NOT NULL,
    at              timestamptz NOT NULL,
    PRIMARY KEY (notification_id, actor_id)
);
CREATE INDEX notification_actors_latest ON notification_actors (notification_id, at DESC);

-- --- preferences and mutes ----------------------------------------------------------------

-- Tenant defaults (sparse over the built-in ones); locked: users cannot turn it off.
CREATE TABLE tenant_preferences (
    tenant_id text    NOT NULL,
    category  text    NOT NULL,
    channel   text    NOT NULL,  -- in_app | email | push
    enabled   boolean NOT NULL,
    locked    boolean NOT NULL DEFAULT false,
    PRIMARY KEY (tenant_id, category, channel)
);

-- A user's overrides, sparse: what is not here follows the tenant default at read time.
CREATE TABLE user_preferences (
    tenant_id text    NOT NULL,
    user_id   text    NOT NULL,
    category  text    NOT NULL,
    channel   text    NOT NULL,
    enabled   boolean NOT NULL,
    PRIMARY KEY (tenant_id, user_id, category, channel)
);

CREATE TABLE user_settings (
    tenant_id text NOT NULL,
    user_id   text NOT NULL,
    digest    text NOT NULL DEFAULT 'off',  -- off | hourly | daily | weekly
    PRIMARY KEY (tenant_id, user_id)
);

CREATE TABLE tenant_settings (
    tenant_id          text      NOT NULL PRIMARY KEY,
    reminder_leads_s   integer[] -- NULL: the service's default lead times
);

CREATE TABLE mutes (
    tenant_id  text        NOT NULL,
    user_id    text        NOT NULL,
    kind       text        NOT NULL,  -- thread | group | actor
    target_id  text        NOT NULL,
    until      timestamptz,           -- NULL: until unmuted
    PRIMARY KEY (tenant_id, user_id, kind, target_id)
);

-- --- reminders ----------------------------------------------------------------------------

-- One row per task (or event), lead time and due time: re-arming for a new due time is a new
-- row, and each fires once (fired_at), claimed with SKIP LOCKED.
CREATE TABLE reminders (
    tenant_id  text        NOT NULL,
    object_id  text        NOT NULL,
    lead_s     integer     NOT NULL,
    due_at     timestamptz NOT NULL,
    fire_at    timestamptz NOT NULL,
    fired_at   timestamptz,
    cancelled  boolean     NOT NULL DEFAULT false,
    PRIMARY KEY (tenant_id, object_id, lead_s, due_at)
);
CREATE INDEX reminders_due ON reminders (fire_at) WHERE fired_at IS NULL AND NOT cancelled;

-- Assignees and what the reminder shows, per task (the latest version).
CREATE TABLE tasks (
    tenant_id  text        NOT NULL,
    object_id  text        NOT NULL,
    assignees  text[]      NOT NULL,
    due_at     timestamptz,
    done       boolean     NOT NULL DEFAULT false,
    summary    jsonb,  -- what its reminders show
    PRIMARY KEY (tenant_id, object_id)
);

-- --- outside channels ---------------------------------------------------------------------

-- Pending email and push deliveries: sent after the grace period when the recipient was not
-- on the live stream meanwhile, or gathered into their digest.
CREATE TABLE deliveries (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id       text        NOT NULL,
    recipient       text        NOT NULL,
    notification_id bigint      NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
    channel         text        NOT NULL,  -- email | push
    digest          text,                  -- hourly | daily | weekly; NULL: on its own
    send_after      timestamptz NOT NULL,
    sent_at         timestamptz,
    outcome         text                   -- sent | online | digested | suppressed
);
CREATE INDEX deliveries_due ON deliveries (send_after) WHERE sent_at IS NULL;

-- Outside deliveries already sent (the email sender's idempotency: at most once per id).
CREATE TABLE sent_deliveries (
    delivery_id text        NOT NULL PRIMARY KEY,
    sent_at     timestamptz NOT NULL DEFAULT now()
);
