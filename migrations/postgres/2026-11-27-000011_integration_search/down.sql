DROP INDEX integrations_description_trgm;
DROP INDEX integrations_name_trgm;
DROP TRIGGER integrations_sync_tags ON integrations;
DROP FUNCTION integrations_sync_tags();
DROP TABLE integration_tags;
DROP INDEX integrations_enabled_idx;
DROP INDEX integrations_status_idx;
DROP INDEX integrations_category_idx;
-- pg_trgm stays: other objects may use it, and dropping an extension needs more rights.
