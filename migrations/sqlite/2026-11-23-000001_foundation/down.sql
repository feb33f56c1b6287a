DROP TABLE audit_log;
DROP TABLE logs;
DROP TABLE api_tokens;
DROP TABLE integrations;
DROP TABLE projects;
