DROP TABLE alerts;
DROP TABLE alert_rules;
DROP TABLE health_buckets;
DROP TABLE health_transitions;
DROP TABLE health_states;
