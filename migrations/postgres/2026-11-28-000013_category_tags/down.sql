ALTER INDEX integrations_tags_gin RESET (fastupdate);
ALTER INDEX integrations_name_trgm RESET (fastupdate);
ALTER INDEX integrations_description_trgm RESET (fastupdate);
DROP INDEX integrations_category_tags_gin;
DROP FUNCTION integration_category_tags(TEXT, TEXT);
