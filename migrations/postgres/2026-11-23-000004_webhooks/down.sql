DROP TABLE incoming_webhook_secrets;
DROP TABLE delivery_attempts;
DROP TABLE deliveries;
DROP TABLE webhooks;
DROP TABLE jobs;
DROP TABLE events;
