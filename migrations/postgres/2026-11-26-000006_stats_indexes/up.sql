-- Project-wide aggregates for stats: calls and deliveries of a project since a time.
CREATE INDEX executions_by_project_time ON executions (project_id, started_at);
CREATE INDEX deliveries_by_project_time ON deliveries (project_id, created_at);
