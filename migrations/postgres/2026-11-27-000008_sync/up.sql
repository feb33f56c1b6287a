-- Data sync (issue 11): sync definitions per integration, their runs (the run row is
-- also the unit of work the sync worker claims and the crash-resume point: `cursor` is
-- written in the transaction of each page's records), and the records they keep.
CREATE TABLE syncs (
    id                TEXT PRIMARY KEY,
    project_id        TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    integration_id    TEXT NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    name              TEXT NOT NULL,
    -- A template operation of the integration's template, and its parameters (JSON).
    operation         TEXT NOT NULL,
    params            TEXT NOT NULL,
    interval_seconds  INTEGER NOT NULL,
    -- The resolved pagination (JSON; the operation's, or the definition's override), or NULL: one page.
    pagination        TEXT,
    records_pointer   TEXT NOT NULL,
    record_id_pointer TEXT NOT NULL,
    -- Output field -> JSON pointer (JSON object), or NULL: records are stored whole.
    field_mapping     TEXT,
    page_size         INTEGER,
    -- Scheduled runs happen only while enabled (startSync / stopSync).
    enabled           BOOLEAN NOT NULL,
    next_run_at       TIMESTAMP,
    lease_until       TIMESTAMP,
    created_by        TEXT NOT NULL,
    created_at        TIMESTAMP NOT NULL,
    updated_at        TIMESTAMP NOT NULL,
    CONSTRAINT syncs_integration_name_key UNIQUE (integration_id, name)
);
CREATE INDEX syncs_by_project ON syncs (project_id);
CREATE INDEX syncs_due ON syncs (next_run_at);

CREATE TABLE sync_runs (
    id               TEXT PRIMARY KEY,
    sync_id          TEXT NOT NULL REFERENCES syncs (id) ON DELETE CASCADE,
    integration_id   TEXT NOT NULL,
    project_id       TEXT NOT NULL,
    -- RUNNING, SUCCEEDED, FAILED, CANCELLED
    status           TEXT NOT NULL,
    -- SCHEDULE, MANUAL, SYNC_ALL
    trigger_kind     TEXT NOT NULL,
    started_at       TIMESTAMP NOT NULL,
    finished_at      TIMESTAMP,
    pages            INTEGER NOT NULL,
    fetched          BIGINT NOT NULL,
    created          BIGINT NOT NULL,
    updated          BIGINT NOT NULL,
    deleted          BIGINT NOT NULL,
    errors           INTEGER NOT NULL,
    -- Where the next page starts (JSON), written with each page's records; NULL: the first page.
    cursor           TEXT,
    last_error       TEXT,
    cancel_requested BOOLEAN NOT NULL,
    -- A RUNNING run is claimed by one worker under a lease (renewed while it runs); a
    -- run whose lease expired (its process died) is claimed again and resumed from `cursor`.
    lease_owner      TEXT,
    lease_until      TIMESTAMP,
    updated_at       TIMESTAMP NOT NULL
);
CREATE INDEX sync_runs_by_sync ON sync_runs (sync_id, id);
CREATE INDEX sync_runs_by_status ON sync_runs (status, lease_until);

CREATE TABLE sync_records (
    -- rec_…: time-sortable, assigned when first seen; the keyset of `records` listings.
    id             TEXT PRIMARY KEY,
    integration_id TEXT NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    sync_id        TEXT NOT NULL REFERENCES syncs (id) ON DELETE CASCADE,
    project_id     TEXT NOT NULL,
    record_id      TEXT NOT NULL,
    -- SHA-256 (hex) of the canonical JSON of `data`.
    hash           TEXT NOT NULL,
    data           TEXT NOT NULL,
    first_seen     TIMESTAMP NOT NULL,
    last_seen      TIMESTAMP NOT NULL,
    -- When the record was created, changed or deleted (what `changedSince` filters on).
    changed_at     TIMESTAMP NOT NULL,
    deleted_at     TIMESTAMP,
    -- The run that saw it last: records a complete run did not see are deleted.
    seen_run_id    TEXT NOT NULL,
    -- Every record lookup is by (sync, record id): this key leads with the sync (a sync has
    -- one integration), or a page's lookups scan all the sync's records (quadratic).
    CONSTRAINT sync_records_sync_record_key UNIQUE (sync_id, record_id)
);
CREATE INDEX sync_records_by_integration ON sync_records (integration_id, id);
CREATE INDEX sync_records_changed ON sync_records (integration_id, changed_at, id);
CREATE INDEX sync_records_by_sync_seen ON sync_records (sync_id, seen_run_id);
