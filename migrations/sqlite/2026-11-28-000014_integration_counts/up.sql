-- How many integrations each project has, kept by triggers in the writing transaction: the
-- dashboard's lists select totalCount without a filter, and counting 100,000 rows for
-- each of them cost ~0.6 ms here (29 ms on PostgreSQL). Triggers see every insert and
-- delete, a project's cascade included, whatever code path wrote it. One shard per project
-- here (PostgreSQL spreads a count over 16 so that concurrent creates do not queue on one
-- row; SQLite has one writer).
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

-- A deleted project's row goes with it (its integrations' cascade has counted it down).
CREATE TRIGGER integration_counts_project_delete AFTER DELETE ON projects BEGIN
    DELETE FROM integration_counts WHERE project_id = old.id;
END;
