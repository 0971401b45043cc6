-- Row-level security on every tenant-owned table (docs/architecture.md §15): a backstop
-- behind the tenant filter every query has. The service's queries run as a role that owns
-- nothing (canopy_common.row_security), so these policies hold for them; a transaction sees
-- the rows of the tenant it set in `canopy.tenant`, or every tenant's when it set '*'
-- (span_all_tenants: the outbox relay, upstream batches), and none when it set nothing.
-- outbox_buckets (relay claims, no tenant) and schema_migrations are not tenant-owned.
DO $$
DECLARE
    owned text[] := ARRAY[
        'users', 'groups', 'memberships', 'follows', 'tag_follows', 'blocks', 'mutes',
        'posts', 'reactions', 'flags', 'idempotency_keys', 'outbox', 'consumed_activities',
        'invites', 'join_requests', 'audit_log'
    ];
    tbl text;
BEGIN
    FOREACH tbl IN ARRAY owned LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', tbl);
        EXECUTE format(
            'CREATE POLICY tenant_rows ON %I '
            'USING (tenant_id = current_setting(''canopy.tenant'', true) '
            '       OR current_setting(''canopy.tenant'', true) = ''*'') '
            'WITH CHECK (tenant_id = current_setting(''canopy.tenant'', true) '
            '       OR current_setting(''canopy.tenant'', true) = ''*'')',
            tbl
        );
    END LOOP;
END
$$;

-- A tenant's own row is keyed by its id.
ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON tenants
    USING (id = current_setting('canopy.tenant', true)
           OR current_setting('canopy.tenant', true) = '*')
    WITH CHECK (id = current_setting('canopy.tenant', true)
                OR current_setting('canopy.tenant', true) = '*');
