DROP TRIGGER integration_counts_project_delete;
DROP TRIGGER integration_counts_move;
DROP TRIGGER integration_counts_delete;
DROP TRIGGER integration_counts_insert;
DROP TABLE integration_counts;
