DROP TABLE executions;
ALTER TABLE integrations DROP COLUMN call_options;
