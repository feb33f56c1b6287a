DROP TRIGGER integration_counts_project_delete;
DROP TRIGGER integration_counts_update;
DROP TRIGGER integration_counts_delete;
DROP TRIGGER integration_counts_insert;
DROP TABLE integration_counts;

-- Back to 000014's counts by project alone.
CREATE TABLE integration_counts (
    project_id   TEXT NOT NULL,
    shard        INTEGER NOT NULL,
    integrations BIGINT NOT NULL,
    PRIMARY KEY (project_id, shard)
);
INSERT INTO integration_counts (project_id, shard, integrations)
    SELECT project_id, 0, COUNT(*) FROM integrations GROUP BY project_id;

CREATE TRIGGER integration_counts_insert AFTER INSERT ON integrations BEGIN
    INSERT INTO integration_counts (project_id, shard, integrations)
        VALUES (new.project_id, 0, 1)
        ON CONFLICT (project_id, shard) DO UPDATE SET integrations = integrations + 1;
END;

CREATE TRIGGER integration_counts_delete AFTER DELETE ON integrations BEGIN
    UPDATE integration_counts SET integrations = integrations - 1
        WHERE project_id = old.project_id;
END;

CREATE TRIGGER integration_counts_move AFTER UPDATE OF project_id ON integrations
WHEN new.project_id IS NOT old.project_id BEGIN
    UPDATE integration_counts SET integrations = integrations - 1
        WHERE project_id = old.project_id;
    INSERT INTO integration_counts (project_id, shard, integrations)
        VALUES (new.project_id, 0, 1)
        ON CONFLICT (project_id, shard) DO UPDATE SET integrations = integrations + 1;
END;

CREATE TRIGGER integration_counts_project_delete AFTER DELETE ON projects BEGIN
    DELETE FROM integration_counts WHERE project_id = old.id;
END;
