-- Foundation: projects, integrations, API tokens, logs and the audit trail.
-- Timestamps are UTC without a zone (one type shared with SQLite); JSON is TEXT.
CREATE TABLE projects (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    slug        TEXT NOT NULL UNIQUE,
    description TEXT,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);

CREATE TABLE integrations (
    id           TEXT PRIMARY KEY,
    project_id   TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    description  TEXT,
    category     TEXT NOT NULL,
    protocol     TEXT NOT NULL,
    status       TEXT NOT NULL,
    enabled      BOOLEAN NOT NULL,
    auth_kind    TEXT NOT NULL DEFAULT 'NONE',
    tags         TEXT NOT NULL DEFAULT '[]',
    base_url     TEXT,
    config       TEXT NOT NULL DEFAULT '{}',
    headers      TEXT NOT NULL DEFAULT '{}',
    timeout_ms   INTEGER NOT NULL,
    retry_policy TEXT NOT NULL,
    rate_limit   TEXT,
    cache_policy TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    version      INTEGER NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL,
    CONSTRAINT integrations_project_name_key UNIQUE (project_id, name)
);
CREATE INDEX integrations_project_idx ON integrations (project_id, id);

CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    role         TEXT NOT NULL,
    project_id   TEXT REFERENCES projects (id) ON DELETE CASCADE,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    revoked_at   TIMESTAMP
);

-- No foreign key to integrations: a log outlives the integration it speaks of
-- ("integration deleted" must stay readable); retention bounds it instead.
CREATE TABLE logs (
    id             TEXT PRIMARY KEY,
    project_id     TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    integration_id TEXT,
    level          TEXT NOT NULL,
    level_rank     INTEGER NOT NULL,
    message        TEXT NOT NULL,
    metadata       TEXT NOT NULL DEFAULT '{}',
    created_at     TIMESTAMP NOT NULL
);
CREATE INDEX logs_integration_idx ON logs (integration_id, id);
CREATE INDEX logs_project_idx ON logs (project_id, id);
CREATE INDEX logs_created_idx ON logs (created_at);

CREATE TABLE audit_log (
    id          TEXT PRIMARY KEY,
    actor_id    TEXT,
    actor_name  TEXT NOT NULL,
    action      TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id   TEXT,
    project_id  TEXT,
    request_id  TEXT,
    details     TEXT NOT NULL DEFAULT '{}',
    at          TIMESTAMP NOT NULL
);
CREATE INDEX audit_log_at_idx ON audit_log (at);
