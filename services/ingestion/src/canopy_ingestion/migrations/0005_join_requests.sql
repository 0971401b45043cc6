-- Join requests: a public or internal group with join_policy 'request' is joined by asking;
-- one of its admins or owners approves (adds the person, which consumes the request) or
-- declines. A private group is joined by invite or an admin's add only.

ALTER TABLE groups ADD COLUMN join_policy text NOT NULL DEFAULT 'open'
    CHECK (join_policy IN ('open', 'request'));
ALTER TABLE groups ADD CONSTRAINT groups_private_takes_no_requests
    CHECK (join_policy = 'open' OR visibility <> 'private');

-- Requests not yet answered, one per person and group.
CREATE TABLE join_requests (
    tenant_id    text        NOT NULL,
    group_id     text        NOT NULL,
    requester_id text        NOT NULL,
    -- The pending Join that announced it (the Reject or Undo that ends it names it).
    activity_id  text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, group_id, requester_id),
    FOREIGN KEY (tenant_id, group_id) REFERENCES groups (tenant_id, id)
);
-- A group's pending requests, oldest first (what its admins list).
CREATE INDEX join_requests_by_age ON join_requests (tenant_id, group_id, created_at, requester_id);
-- A person's requests (erasure drops them).
CREATE INDEX join_requests_by_requester ON join_requests (tenant_id, requester_id);
