-- A person's data export (GDPR art. 15/20; docs/architecture.md §16 "Export"): one row per
-- export, each service's section as it arrives, and the chunks of a section not yet whole.
-- Purged with everything under it after CANOPY_INGESTION_EXPORT_RETENTION_S.

CREATE TABLE exports (
    tenant_id    text        NOT NULL,
    id           uuid        NOT NULL,
    subject_id   text        NOT NULL,  -- whose data it holds
    requested_by text        NOT NULL,  -- the person themselves, or a tenant admin
    requested_at timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz,           -- every section is in
    PRIMARY KEY (tenant_id, id)
);
-- A person's newest export (reused while recent), and the purge by age.
CREATE INDEX exports_by_subject ON exports (tenant_id, subject_id, requested_at DESC);
CREATE INDEX exports_by_age ON exports (requested_at);

CREATE TABLE export_sections (
    tenant_id    text        NOT NULL,
    export_id    uuid        NOT NULL,
    service      text        NOT NULL,  -- ingestion, fanout, notify, analytics
    generated_at timestamptz NOT NULL,
    section      jsonb       NOT NULL,
    PRIMARY KEY (tenant_id, export_id, service),
    FOREIGN KEY (tenant_id, export_id) REFERENCES exports (tenant_id, id) ON DELETE CASCADE
);

-- Chunks of one build (part_id) of a service's section, until the build is whole.
CREATE TABLE export_chunks (
    tenant_id text    NOT NULL,
    export_id uuid    NOT NULL,
    service   text    NOT NULL,
    part_id   uuid    NOT NULL,
    chunk     integer NOT NULL,
    chunks    integer NOT NULL,
    data      bytea   NOT NULL,
    PRIMARY KEY (tenant_id, export_id, service, part_id, chunk),
    FOREIGN KEY (tenant_id, export_id) REFERENCES exports (tenant_id, id) ON DELETE CASCADE
);

DO $$
DECLARE
    tbl text;
BEGIN
    FOREACH tbl IN ARRAY ARRAY['exports', 'export_sections', 'export_chunks'] LOOP
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

-- The outbox carries records for other topics than the activities one (an export request):
-- NULL is the activities topic, as for every row before this migration.
ALTER TABLE outbox ADD COLUMN topic text;
