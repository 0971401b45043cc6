-- The audit log (docs/architecture.md §14): one row per privileged action, written in the
-- action's own transaction. Append-only: the triggers below refuse UPDATE, DELETE and
-- TRUNCATE from anyone, the owner included, and the service's role is granted neither
-- (canopy_common.row_security.grant_app_role revokes them on every table carrying the
-- refuse_changes trigger).
CREATE TABLE audit_log (
    seq       bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id text        NOT NULL,
    at        timestamptz NOT NULL DEFAULT now(),
    -- Who acted: a user id of the tenant, or `platform:<name>` for an operator or a platform
    -- admin (who is no person of the tenant).
    actor     text        NOT NULL,
    action    text        NOT NULL,
    -- What it was done to: a user id, a post id, the tenant, a topic...
    target    text        NOT NULL,
    details   jsonb       NOT NULL DEFAULT '{}'
);
-- Newest first per tenant, and the same filtered by action or by actor.
CREATE INDEX audit_log_by_tenant ON audit_log (tenant_id, seq DESC);
CREATE INDEX audit_log_by_action ON audit_log (tenant_id, action, seq DESC);
CREATE INDEX audit_log_by_actor ON audit_log (tenant_id, actor, seq DESC);

CREATE FUNCTION refuse_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER refuse_changes BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION refuse_changes();
CREATE TRIGGER refuse_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_changes();
