DROP INDEX deliveries_by_project_time;
DROP INDEX executions_by_project_time;
