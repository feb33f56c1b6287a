DROP TRIGGER integration_counts_project_delete ON projects;
DROP FUNCTION integration_counts_project_delete();
DROP TRIGGER integration_counts_change ON integrations;
DROP FUNCTION integration_counts_change();
DROP TABLE integration_counts;

-- Back to 000014's counts by project alone.
CREATE TABLE integration_counts (
    project_id   TEXT NOT NULL,
    shard        INTEGER NOT NULL,
    integrations BIGINT NOT NULL,
    PRIMARY KEY (project_id, shard)
);
INSERT INTO integration_counts (project_id, shard, integrations)
    SELECT project_id, hashtext(id) & 15, COUNT(*) FROM integrations
    GROUP BY project_id, hashtext(id) & 15;

CREATE FUNCTION integration_counts_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND new.project_id IS DISTINCT FROM old.project_id) THEN
        UPDATE integration_counts SET integrations = integrations - 1
            WHERE project_id = old.project_id AND shard = hashtext(old.id) & 15;
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND new.project_id IS DISTINCT FROM old.project_id) THEN
        INSERT INTO integration_counts (project_id, shard, integrations)
            VALUES (new.project_id, hashtext(new.id) & 15, 1)
            ON CONFLICT (project_id, shard)
            DO UPDATE SET integrations = integration_counts.integrations + 1;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER integration_counts_change
    AFTER INSERT OR DELETE OR UPDATE OF project_id ON integrations
    FOR EACH ROW EXECUTE FUNCTION integration_counts_change();

CREATE FUNCTION integration_counts_project_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM integration_counts WHERE project_id = old.id;
    RETURN NULL;
END $$;
CREATE TRIGGER integration_counts_project_delete AFTER DELETE ON projects
    FOR EACH ROW EXECUTE FUNCTION integration_counts_project_delete();
