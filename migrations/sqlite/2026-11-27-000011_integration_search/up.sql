-- Issue 12: the integrations list at 100,000 rows. Every filter and the sort (id) has an
-- index; tags and text search get indexable forms kept in sync by triggers, so every
-- write path (insert, update, delete, a project's cascade) updates them in its own
-- transaction.

-- Filters on their own (the project filter has integrations_project_idx (project_id, id)).
CREATE INDEX integrations_category_idx ON integrations (category, id);
CREATE INDEX integrations_status_idx ON integrations (status, id);
CREATE INDEX integrations_enabled_idx ON integrations (enabled, id);

-- One row per (tag, integration): the `tag` filter is a lookup in id order.
CREATE TABLE integration_tags (
    tag            TEXT NOT NULL,
    integration_id TEXT NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    PRIMARY KEY (tag, integration_id)
) WITHOUT ROWID;
CREATE INDEX integration_tags_integration_idx ON integration_tags (integration_id);

INSERT OR IGNORE INTO integration_tags (tag, integration_id)
    SELECT j.value, i.id FROM integrations i, json_each(i.tags) j;

CREATE TRIGGER integrations_tags_insert AFTER INSERT ON integrations BEGIN
    INSERT OR IGNORE INTO integration_tags (tag, integration_id)
        SELECT value, new.id FROM json_each(new.tags);
END;

CREATE TRIGGER integrations_tags_update AFTER UPDATE OF tags ON integrations
WHEN new.tags IS NOT old.tags BEGIN
    DELETE FROM integration_tags WHERE integration_id = old.id;
    INSERT OR IGNORE INTO integration_tags (tag, integration_id)
        SELECT value, new.id FROM json_each(new.tags);
END;

-- Text search: an FTS5 index with the trigram tokenizer over lower(name) and
-- lower(description), case-sensitive, so a phrase query finds exactly the rows that
-- `lower(name) LIKE '%term%' OR lower(description) LIKE '%term%'` finds (substring
-- matching; terms of 3 characters or more: shorter ones keep the LIKE).
-- integrations has a TEXT key, and the implicit rowid of such a table may change on
-- VACUUM, so the FTS rows are keyed by a stable integer of their own.
CREATE TABLE integration_search (
    search_id      INTEGER PRIMARY KEY,
    integration_id TEXT NOT NULL UNIQUE
);
CREATE VIRTUAL TABLE integrations_fts USING fts5(name, description, tokenize = 'trigram case_sensitive 1');

INSERT INTO integration_search (integration_id) SELECT id FROM integrations ORDER BY id;
INSERT INTO integrations_fts (rowid, name, description)
    SELECT s.search_id, lower(i.name), lower(i.description)
    FROM integration_search s JOIN integrations i ON i.id = s.integration_id;

CREATE TRIGGER integrations_search_insert AFTER INSERT ON integrations BEGIN
    INSERT INTO integration_search (integration_id) VALUES (new.id);
    INSERT INTO integrations_fts (rowid, name, description)
        VALUES ((SELECT search_id FROM integration_search WHERE integration_id = new.id),
                lower(new.name), lower(new.description));
END;

CREATE TRIGGER integrations_search_update AFTER UPDATE OF name, description ON integrations
WHEN new.name IS NOT old.name OR new.description IS NOT old.description BEGIN
    UPDATE integrations_fts SET name = lower(new.name), description = lower(new.description)
        WHERE rowid = (SELECT search_id FROM integration_search WHERE integration_id = old.id);
END;

-- Also fires for the rows a project's deletion cascades to.
CREATE TRIGGER integrations_search_delete AFTER DELETE ON integrations BEGIN
    DELETE FROM integrations_fts
        WHERE rowid = (SELECT search_id FROM integration_search WHERE integration_id = old.id);
    DELETE FROM integration_search WHERE integration_id = old.id;
END;
