-- Issue 12: the integrations list at 100,000 rows. Every filter and the sort (id) has an
-- index. Tags: a GIN index on the tags array as jsonb (`tags::jsonb @> '["tag"]'`), which
-- the planner can AND with the other bitmaps (a separate tag table cannot be). Text
-- search: trigram GIN indexes on the very expressions the query filters
-- (lower(name) LIKE '%…%' OR lower(description) LIKE '%…%'), so results do not change.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- Filters on their own (the project filter has integrations_project_idx (project_id, id)).
CREATE INDEX integrations_category_idx ON integrations (category, id);
CREATE INDEX integrations_status_idx ON integrations (status, id);
CREATE INDEX integrations_enabled_idx ON integrations (enabled, id);

CREATE INDEX integrations_tags_gin ON integrations USING gin ((tags::jsonb) jsonb_path_ops);
CREATE INDEX integrations_name_trgm ON integrations USING gin (lower(name) gin_trgm_ops);
CREATE INDEX integrations_description_trgm ON integrations USING gin (lower(description) gin_trgm_ops);
