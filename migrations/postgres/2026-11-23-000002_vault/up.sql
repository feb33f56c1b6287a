-- The credentials vault: master key check, key-encryption-key ring, sealed credentials,
-- and key rotation progress. Binary columns hold versioned envelopes
-- (version byte, 96-bit nonce, AES-256-GCM ciphertext and tag).
CREATE TABLE master_keys (
    id          TEXT PRIMARY KEY,
    source      TEXT NOT NULL,
    salt        BYTEA,
    iterations  INTEGER NOT NULL,
    check_value BYTEA NOT NULL,
    created_at  TIMESTAMP NOT NULL
);

CREATE TABLE encryption_keys (
    id          TEXT PRIMARY KEY,
    master_id   TEXT NOT NULL REFERENCES master_keys (id),
    wrapped_key BYTEA NOT NULL,
    state       TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    retired_at  TIMESTAMP
);

CREATE TABLE credentials (
    integration_id   TEXT PRIMARY KEY REFERENCES integrations (id) ON DELETE CASCADE,
    kind             TEXT NOT NULL,
    key_id           TEXT NOT NULL REFERENCES encryption_keys (id),
    wrapped_dek      BYTEA NOT NULL,
    sealed           BYTEA NOT NULL,
    set_fields       TEXT NOT NULL,
    expires_at       TIMESTAMP,
    refresh_error    TEXT,
    refresh_failed_at TIMESTAMP,
    updated_at       TIMESTAMP NOT NULL
);
CREATE INDEX credentials_key_idx ON credentials (key_id, integration_id);

CREATE TABLE key_rotations (
    id            TEXT PRIMARY KEY,
    target_key_id TEXT NOT NULL REFERENCES encryption_keys (id),
    state         TEXT NOT NULL,
    done          INTEGER NOT NULL,
    total         INTEGER NOT NULL,
    started_at    TIMESTAMP NOT NULL,
    finished_at   TIMESTAMP
);
