DROP INDEX integrations_by_template;
ALTER TABLE integrations DROP COLUMN template_id;
DROP TABLE templates;
DROP TABLE template_shares;
DROP TABLE template_families;
