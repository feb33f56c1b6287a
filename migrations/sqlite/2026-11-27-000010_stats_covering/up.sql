-- `stats` counts integrations by category, status and enabled in one scan of this index
-- (without it each count read every integration row of the project).
CREATE INDEX integrations_stats ON integrations (project_id, category, status, enabled);
