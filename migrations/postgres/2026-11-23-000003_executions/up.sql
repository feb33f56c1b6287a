-- The outbound execution engine: per-integration call options (transforms, error
-- mapping, connection check) and one record per call, bounded by retention.
ALTER TABLE integrations ADD COLUMN call_options TEXT NOT NULL DEFAULT '{}';

CREATE TABLE executions (
    id             TEXT PRIMARY KEY,
    project_id     TEXT NOT NULL,
    integration_id TEXT NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    operation      TEXT NOT NULL,
    method         TEXT NOT NULL,
    path           TEXT NOT NULL,
    status_code    INTEGER,
    success        BOOLEAN NOT NULL,
    latency_ms     INTEGER NOT NULL,
    bytes_in       BIGINT NOT NULL,
    bytes_out      BIGINT NOT NULL,
    retries        INTEGER NOT NULL,
    cached         BOOLEAN NOT NULL,
    truncated      BOOLEAN NOT NULL,
    error_class    TEXT,
    error_message  TEXT,
    started_at     TIMESTAMP NOT NULL,
    finished_at    TIMESTAMP NOT NULL
);

CREATE INDEX executions_by_integration ON executions (integration_id, id);
CREATE INDEX executions_by_integration_time ON executions (integration_id, started_at);
CREATE INDEX executions_by_time ON executions (started_at);
