-- What the notification service needs to learn from canonical activities: a person's e-mail
-- address and tenant roles (flags go to moderators), pending group invites, and whether an
-- upstream task or event is still open (reminders stop once it is completed or cancelled).

ALTER TABLE users ADD COLUMN email text;
-- moderator | tenant_admin | analyst | group_admin, sorted.
ALTER TABLE users ADD COLUMN roles text[] NOT NULL DEFAULT '{}';

ALTER TABLE posts ADD COLUMN status text CHECK (status IN ('open', 'completed', 'cancelled'));
UPDATE posts SET status = 'open' WHERE kind IN ('task', 'event');

-- Invitations not yet taken up: the invitee may join the (private) group by themselves;
-- joining, or being added, consumes the invite. One per person and group.
CREATE TABLE invites (
    tenant_id   text        NOT NULL,
    group_id    text        NOT NULL,
    invitee_id  text        NOT NULL,
    inviter_id  text        NOT NULL,
    -- The Invite activity that announced it.
    activity_id text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, group_id, invitee_id),
    FOREIGN KEY (tenant_id, group_id) REFERENCES groups (tenant_id, id)
);
CREATE INDEX invites_by_invitee ON invites (tenant_id, invitee_id);
