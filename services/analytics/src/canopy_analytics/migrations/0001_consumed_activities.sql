-- Activity ids this service has already applied: consumers are at-least-once, so every
-- handler records the id in the same transaction as its effect and skips it when seen again.
CREATE TABLE consumed_activities (
    tenant_id   text        NOT NULL,
    activity_id text        NOT NULL,
    consumed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, activity_id)
);
