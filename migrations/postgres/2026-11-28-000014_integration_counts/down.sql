DROP TRIGGER integration_counts_project_delete ON projects;
DROP FUNCTION integration_counts_project_delete();
DROP TRIGGER integration_counts_change ON integrations;
DROP FUNCTION integration_counts_change();
DROP TABLE integration_counts;
