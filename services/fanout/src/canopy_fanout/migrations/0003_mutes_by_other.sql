-- Who muted these people: the audience query reads mutes by the muted side.
CREATE INDEX mutes_by_other ON mutes (tenant_id, other_id);
