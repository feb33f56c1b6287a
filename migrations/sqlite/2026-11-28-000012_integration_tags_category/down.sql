DROP TRIGGER integrations_tags_category;

DROP TRIGGER integrations_tags_update;
CREATE TRIGGER integrations_tags_update AFTER UPDATE OF tags ON integrations
WHEN new.tags IS NOT old.tags BEGIN
    DELETE FROM integration_tags WHERE integration_id = old.id;
    INSERT OR IGNORE INTO integration_tags (tag, integration_id)
        SELECT value, new.id FROM json_each(new.tags);
END;

DROP TRIGGER integrations_tags_insert;
CREATE TRIGGER integrations_tags_insert AFTER INSERT ON integrations BEGIN
    INSERT OR IGNORE INTO integration_tags (tag, integration_id)
        SELECT value, new.id FROM json_each(new.tags);
END;

DROP INDEX integration_tags_category_idx;
ALTER TABLE integration_tags DROP COLUMN category;
