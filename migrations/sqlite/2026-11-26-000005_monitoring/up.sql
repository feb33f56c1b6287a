-- Live monitoring: each integration's health (state, transitions, minute and hour
-- buckets of checks and calls with a latency histogram), alert rules and alerts.
CREATE TABLE health_states (
    integration_id        TEXT PRIMARY KEY REFERENCES integrations (id) ON DELETE CASCADE,
    project_id            TEXT NOT NULL,
    status                TEXT NOT NULL,
    reason                TEXT,
    consecutive_failures  INTEGER NOT NULL,
    consecutive_successes INTEGER NOT NULL,
    last_checked_at       TIMESTAMP,
    last_latency_ms       INTEGER,
    last_error            TEXT,
    -- When the next scheduled check is due (NULL: none scheduled).
    next_check_at         TIMESTAMP,
    -- A worker claimed the check until then (a crashed worker's claim expires).
    lease_until           TIMESTAMP,
    changed_at            TIMESTAMP NOT NULL
);
CREATE INDEX health_states_due ON health_states (next_check_at);
CREATE INDEX health_states_by_project ON health_states (project_id, status);

CREATE TABLE health_transitions (
    id             TEXT PRIMARY KEY,
    integration_id TEXT NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    project_id     TEXT NOT NULL,
    previous       TEXT NOT NULL,
    current        TEXT NOT NULL,
    reason         TEXT NOT NULL,
    at             TIMESTAMP NOT NULL
);
CREATE INDEX health_transitions_by_integration ON health_transitions (integration_id, id);

-- One row per integration, bucket size (60 s or 3600 s) and bucket start. Latency bins
-- (upper bounds in ms): 10 25 50 100 200 300 500 750 1000 1500 2000 3000 5000 10000 30000 +inf.
CREATE TABLE health_buckets (
    integration_id TEXT NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    span_seconds   INTEGER NOT NULL,
    bucket_start   TIMESTAMP NOT NULL,
    checks         INTEGER NOT NULL,
    check_failures INTEGER NOT NULL,
    calls          INTEGER NOT NULL,
    call_failures  INTEGER NOT NULL,
    latency_sum    BIGINT NOT NULL,
    latency_count  INTEGER NOT NULL,
    h0 INTEGER NOT NULL, h1 INTEGER NOT NULL, h2 INTEGER NOT NULL, h3 INTEGER NOT NULL,
    h4 INTEGER NOT NULL, h5 INTEGER NOT NULL, h6 INTEGER NOT NULL, h7 INTEGER NOT NULL,
    h8 INTEGER NOT NULL, h9 INTEGER NOT NULL, h10 INTEGER NOT NULL, h11 INTEGER NOT NULL,
    h12 INTEGER NOT NULL, h13 INTEGER NOT NULL, h14 INTEGER NOT NULL, h15 INTEGER NOT NULL,
    PRIMARY KEY (integration_id, span_seconds, bucket_start)
);
CREATE INDEX health_buckets_by_time ON health_buckets (span_seconds, bucket_start);

CREATE TABLE alert_rules (
    id              TEXT PRIMARY KEY,
    project_id      TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    integration_id  TEXT REFERENCES integrations (id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    kind            TEXT NOT NULL,
    threshold       DOUBLE,
    window_seconds  INTEGER NOT NULL,
    -- m-of-n: fire when `breaches` of the last `evaluations` evaluations breach.
    breaches        INTEGER NOT NULL,
    evaluations     INTEGER NOT NULL,
    severity        TEXT NOT NULL,
    reminder_seconds INTEGER,
    enabled         BOOLEAN NOT NULL,
    -- Recent evaluation outcomes per subject, newest last (JSON).
    recent          TEXT NOT NULL,
    created_by      TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL
);
CREATE INDEX alert_rules_by_project ON alert_rules (project_id, id);

CREATE TABLE alerts (
    id               TEXT PRIMARY KEY,
    project_id       TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    integration_id   TEXT,
    rule_id          TEXT REFERENCES alert_rules (id) ON DELETE SET NULL,
    -- What the alert is about (an integration or webhook id): one open alert per rule and subject.
    subject          TEXT NOT NULL,
    dedupe_key       TEXT,
    kind             TEXT NOT NULL,
    severity         TEXT NOT NULL,
    state            TEXT NOT NULL,
    summary          TEXT NOT NULL,
    details          TEXT NOT NULL,
    fired_at         TIMESTAMP NOT NULL,
    acknowledged_at  TIMESTAMP,
    acknowledged_by  TEXT,
    resolved_at      TIMESTAMP,
    resolved_by      TEXT,
    last_notified_at TIMESTAMP NOT NULL
);
-- Open alerts are unique per (rule, subject); resolved ones free the key (NULL).
CREATE UNIQUE INDEX alerts_open_dedupe ON alerts (dedupe_key);
CREATE INDEX alerts_by_project_state ON alerts (project_id, state, id);
CREATE INDEX alerts_by_integration ON alerts (integration_id, id);
