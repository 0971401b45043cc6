-- Search and discovery (docs/architecture.md §17): the posts projection gains each post's
-- plain text, indexed for full-text search; people and groups gain trigram indexes.

-- pg_trgm is a trusted extension (Postgres 13+): the database owner may create it. It lives in
-- public, which every service connection has on its search_path after its own schema. Schemas
-- of several services (or tests) may migrate at once: one at a time creates it.
SELECT pg_advisory_xact_lock(hashtext('canopy: create extension pg_trgm'));
CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public;

-- The text search configuration of each tenant (english unless a tenant admin sets another).
CREATE TABLE search_settings (
    tenant_id  text        NOT NULL PRIMARY KEY,
    language   regconfig   NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by text        NOT NULL
);

-- A post's text: its name (an article's or question's title) and content, HTML stripped;
-- '' until its Create arrives and once it is deleted or its author erased. text_version goes
-- up by one on every change of the text, so a consumer of the text (embeddings) can store
-- what it derived conditioned on the version it read. search_config is the configuration
-- the row was indexed with (the tenant's setting when it was written; re-indexed on change).
ALTER TABLE posts
    ADD COLUMN title         text,
    ADD COLUMN text          text      NOT NULL DEFAULT '',
    ADD COLUMN text_version  integer   NOT NULL DEFAULT 0,
    ADD COLUMN search_config regconfig NOT NULL DEFAULT 'english',
    ADD COLUMN addressees    text[]    NOT NULL DEFAULT '{}',  -- user ids in to/cc/bto/bcc/audience
    ADD COLUMN mentions      text[]    NOT NULL DEFAULT '{}',  -- user ids
    ADD COLUMN search        tsvector  GENERATED ALWAYS AS (to_tsvector(search_config, text)) STORED;
CREATE INDEX posts_search ON posts USING gin (search);

-- People by name and handle, groups by name and description, in any case, misspelt a little.
ALTER TABLE people ADD COLUMN handle text;
CREATE INDEX people_name_trgm ON people USING gin (lower(name) gin_trgm_ops);
CREATE INDEX people_handle_trgm ON people USING gin (lower(handle) gin_trgm_ops);

ALTER TABLE groups ADD COLUMN description text;
CREATE INDEX groups_name_trgm ON groups USING gin (lower(name) gin_trgm_ops);
CREATE INDEX groups_description_trgm ON groups USING gin (lower(description) gin_trgm_ops);
