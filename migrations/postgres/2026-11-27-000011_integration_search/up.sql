-- Issue 12: the integrations list at 100,000 rows. Every filter and the sort (id) has an
-- index; tags get an indexable form kept in sync by a trigger (so every write path,
-- a project's cascade included, updates it in its own transaction); text search uses
-- trigram GIN indexes on the very expressions the query filters
-- (lower(name) LIKE '%…%' OR lower(description) LIKE '%…%'), so results do not change.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- Filters on their own (the project filter has integrations_project_idx (project_id, id)).
CREATE INDEX integrations_category_idx ON integrations (category, id);
CREATE INDEX integrations_status_idx ON integrations (status, id);
CREATE INDEX integrations_enabled_idx ON integrations (enabled, id);

-- One row per (tag, integration): the `tag` filter is a lookup in id order.
CREATE TABLE integration_tags (
    tag            TEXT NOT NULL,
    integration_id TEXT NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    PRIMARY KEY (tag, integration_id)
);
CREATE INDEX integration_tags_integration_idx ON integration_tags (integration_id);

INSERT INTO integration_tags (tag, integration_id)
    SELECT DISTINCT t.tag, i.id FROM integrations i, json_array_elements_text(i.tags::json) AS t(tag);

CREATE FUNCTION integrations_sync_tags() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.tags IS NOT DISTINCT FROM OLD.tags THEN
            RETURN NULL;
        END IF;
        DELETE FROM integration_tags WHERE integration_id = OLD.id;
    END IF;
    INSERT INTO integration_tags (tag, integration_id)
        SELECT DISTINCT t.tag, NEW.id FROM json_array_elements_text(NEW.tags::json) AS t(tag)
        ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;

CREATE TRIGGER integrations_sync_tags AFTER INSERT OR UPDATE OF tags ON integrations
    FOR EACH ROW EXECUTE FUNCTION integrations_sync_tags();

CREATE INDEX integrations_name_trgm ON integrations USING gin (lower(name) gin_trgm_ops);
CREATE INDEX integrations_description_trgm ON integrations USING gin (lower(description) gin_trgm_ops);
