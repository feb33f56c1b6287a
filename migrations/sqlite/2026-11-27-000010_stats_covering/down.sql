DROP INDEX integrations_stats;
