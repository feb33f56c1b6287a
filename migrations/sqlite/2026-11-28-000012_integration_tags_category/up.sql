-- Issue 12: the filtered list page (category + tag + text) at 100,000 integrations. With the
-- tag table alone SQLite read every row of the tag (~500) and probed the category index for
-- each to keep the few of the category (~50); with the category beside the tag, the
-- (tag, category, integration_id) index hands over exactly those, in id order.
-- SQLite only: PostgreSQL ANDs its GIN tag bitmap with the category index instead.
ALTER TABLE integration_tags ADD COLUMN category TEXT NOT NULL DEFAULT '';
UPDATE integration_tags
    SET category = (SELECT i.category FROM integrations i WHERE i.id = integration_tags.integration_id);
CREATE INDEX integration_tags_category_idx ON integration_tags (tag, category, integration_id);

DROP TRIGGER integrations_tags_insert;
CREATE TRIGGER integrations_tags_insert AFTER INSERT ON integrations BEGIN
    INSERT OR IGNORE INTO integration_tags (tag, integration_id, category)
        SELECT value, new.id, new.category FROM json_each(new.tags);
END;

DROP TRIGGER integrations_tags_update;
CREATE TRIGGER integrations_tags_update AFTER UPDATE OF tags ON integrations
WHEN new.tags IS NOT old.tags BEGIN
    DELETE FROM integration_tags WHERE integration_id = old.id;
    INSERT OR IGNORE INTO integration_tags (tag, integration_id, category)
        SELECT value, new.id, new.category FROM json_each(new.tags);
END;

-- Either order with the trigger above leaves new.category on every row of the integration.
CREATE TRIGGER integrations_tags_category AFTER UPDATE OF category ON integrations
WHEN new.category IS NOT old.category BEGIN
    UPDATE integration_tags SET category = new.category WHERE integration_id = new.id;
END;
