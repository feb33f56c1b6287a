DROP INDEX integrations_description_trgm;
DROP INDEX integrations_name_trgm;
DROP INDEX integrations_tags_gin;
DROP INDEX integrations_enabled_idx;
DROP INDEX integrations_status_idx;
DROP INDEX integrations_category_idx;
-- pg_trgm stays: other objects may use it, and dropping an extension needs more rights.
