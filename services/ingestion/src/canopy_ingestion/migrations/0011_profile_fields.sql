-- Profiles and the social graph as a client reads them (docs/architecture.md §16).

-- What a person writes about themselves (PATCH /v1/users/me): provisioning by HR or a tenant
-- admin never sets these and keeps them; erasure clears them.
ALTER TABLE users
    ADD COLUMN summary  text,
    ADD COLUMN pronouns text;

-- A manager's direct reports, for their profile (and erasure, which unsets the manager).
CREATE INDEX users_by_manager ON users (tenant_id, manager_id) WHERE manager_id IS NOT NULL;

-- Followers and following, newest follow first, a keyset page each.
CREATE INDEX follows_followers_newest
    ON follows (tenant_id, followee_id, created_at DESC, follower_id DESC);
CREATE INDEX follows_following_newest
    ON follows (tenant_id, follower_id, created_at DESC, followee_id DESC);
DROP INDEX follows_by_followee;  -- a prefix of follows_followers_newest

-- A person's followed hashtags, newest first.
CREATE INDEX tag_follows_newest ON tag_follows (tenant_id, user_id, created_at DESC, tag DESC);
