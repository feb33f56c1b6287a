-- The event outbox, the durable job queue, webhook endpoints with their deliveries and
-- attempts, and the verification secrets of incoming webhooks.
CREATE TABLE events (
    id          TEXT PRIMARY KEY,
    project_id  TEXT NOT NULL,
    event_type  TEXT NOT NULL,
    payload     TEXT NOT NULL,
    dispatched  BOOLEAN NOT NULL,
    -- Incoming webhooks: the provider's delivery id, so a replayed request is stored once.
    dedupe_key  TEXT,
    created_at  TIMESTAMP NOT NULL
);
CREATE INDEX events_undispatched ON events (dispatched, id);
CREATE INDEX events_by_project_time ON events (project_id, created_at);
CREATE UNIQUE INDEX events_dedupe ON events (dedupe_key);

CREATE TABLE jobs (
    id               TEXT PRIMARY KEY,
    kind             TEXT NOT NULL,
    payload          TEXT NOT NULL,
    -- Jobs sharing a key share a per-key concurrency limit (a webhook endpoint's id).
    queue_key        TEXT,
    run_at           TIMESTAMP NOT NULL,
    attempts         INTEGER NOT NULL,
    lease_owner      TEXT,
    lease_expires_at TIMESTAMP,
    last_error       TEXT,
    created_at       TIMESTAMP NOT NULL
);
CREATE INDEX jobs_due ON jobs (run_at);

CREATE TABLE webhooks (
    id                     TEXT PRIMARY KEY,
    project_id             TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    url                    TEXT NOT NULL,
    description            TEXT,
    event_types            TEXT NOT NULL,
    filter                 TEXT NOT NULL,
    headers                TEXT NOT NULL,
    rate_limit_per_second  INTEGER,
    status                 TEXT NOT NULL,
    disabled_reason        TEXT,
    key_id                 TEXT NOT NULL,
    secret                 BYTEA NOT NULL,
    previous_key_id        TEXT,
    previous_secret        BYTEA,
    previous_expires_at    TIMESTAMP,
    consecutive_failures   INTEGER NOT NULL,
    failing_since          TIMESTAMP,
    last_delivery_at       TIMESTAMP,
    created_by             TEXT NOT NULL,
    created_at             TIMESTAMP NOT NULL,
    updated_at             TIMESTAMP NOT NULL
);
CREATE INDEX webhooks_by_project ON webhooks (project_id, id);

CREATE TABLE deliveries (
    id               TEXT PRIMARY KEY,
    webhook_id       TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id         TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    project_id       TEXT NOT NULL,
    event_type       TEXT NOT NULL,
    status           TEXT NOT NULL,
    attempt_count    INTEGER NOT NULL,
    next_attempt_at  TIMESTAMP,
    last_status_code INTEGER,
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL
);
CREATE INDEX deliveries_by_webhook ON deliveries (webhook_id, id);
CREATE INDEX deliveries_by_event ON deliveries (event_id);

CREATE TABLE delivery_attempts (
    id               TEXT PRIMARY KEY,
    delivery_id      TEXT NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    webhook_id       TEXT NOT NULL,
    status_code      INTEGER,
    latency_ms       INTEGER NOT NULL,
    response_snippet TEXT,
    error            TEXT,
    at               TIMESTAMP NOT NULL
);
CREATE INDEX delivery_attempts_by_delivery ON delivery_attempts (delivery_id, id);
CREATE INDEX delivery_attempts_by_webhook_time ON delivery_attempts (webhook_id, at);

CREATE TABLE incoming_webhook_secrets (
    integration_id    TEXT PRIMARY KEY REFERENCES integrations (id) ON DELETE CASCADE,
    scheme            TEXT NOT NULL,
    header            TEXT,
    tolerance_seconds INTEGER NOT NULL,
    key_id            TEXT NOT NULL,
    secret            BYTEA NOT NULL,
    updated_at        TIMESTAMP NOT NULL
);
